#pragma once
// Options given but never read: a misspelled option (-darcy_hihg 20) or one renamed since (-samples,
// now -gen_samples) would otherwise be ignored without a word. At exit every option left unused in
// PETSc's database is reported as a warning with the closest valid name:
//
//   WARNING: option -darcy_hihg is not used; did you mean -darcy_high?
//
// The valid names are those the program read through neurops::Options, the KSP/PC names under the
// solver prefixes it declared (Options::solver_prefix), the options PETSc used, and the new names of
// the rename table below. PetscSession reports by default; `-options_left no` (PETSc's own switch)
// turns the report off, and PETSc's own list of unused options is replaced by this one.
#include <mpi.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace neurops {

/// An option renamed in the option scheme (docs/options.md). `prefixable`: the old name is the tail
/// of a PETSc object option, which may carry any prefix (-darcy_pc_sorbandit_... as -pc_sorbandit_...).
struct OptionRename {
  const char* old_name;
  const char* new_name;
  bool prefixable = false;
};

/// Every renamed option, old name -> new name (several entries for an old name that two drivers used).
const std::vector<OptionRename>& option_renames();

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours
/// each cost 1 (so -darcy_hihg is 1 from -darcy_high).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The valid name to suggest for an unused option `name` ("-samples"): a renamed option gives its
/// new name (the one among `candidates` when the rename has several), otherwise the nearest of
/// `candidates` if it is close enough to be a typo; "" when none fits.
std::string suggest_option(const std::string& name, const std::vector<std::string>& candidates);

/// Records a name the program reads ("-gen_samples"), so that it can be suggested.
void register_option_name(const std::string& name);
/// Records a solver prefix ("darcy_"): its KSP and PC options (-darcy_ksp_rtol, ...) become valid names.
void register_solver_prefix(const std::string& prefix);
/// Every name registered so far, with the common KSP/PC names under each solver prefix.
std::vector<std::string> registered_option_names();

/// The warning lines for the options left unused on every rank of `comm` (collective).
std::vector<std::string> unused_option_warnings(MPI_Comm comm);

/// Prints unused_option_warnings on stderr of rank 0, unless `-options_left no` was given, and marks
/// -options_left false so that PETSc's PetscFinalize does not list the same options again. A host
/// program that initialised PETSc itself may call this before PetscFinalize (collective).
void report_unused_options(MPI_Comm comm);

}  // namespace neurops
