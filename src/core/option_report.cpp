#include "neurops/core/option_report.hpp"

#include <petscsys.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>

#include "neurops/core/petsc.hpp"

namespace neurops {

const std::vector<OptionRename>& option_renames() {
  static const std::vector<OptionRename> table = {
      // neurops_generate: every option under -gen_.
      {"-problem", "-gen_problem"},
      {"-samples", "-gen_samples"},
      {"-seed", "-gen_seed"},
      {"-out", "-gen_out"},
      {"-chunk", "-gen_chunk"},
      {"-max_new_samples", "-gen_max_new_samples"},
      {"-resume", "-gen_resume"},
      {"-overwrite", "-gen_overwrite"},
      {"-preview", "-gen_preview"},
      // fno_train: the driver's options and its training options under -fno_, beside the model's.
      {"-data", "-fno_data"},
      {"-input_name", "-fno_input_name"},
      {"-output_name", "-fno_output_name"},
      {"-samples", "-fno_samples"},
      {"-data_petsc_dim", "-fno_data_petsc_dim"},
      {"-train_stride", "-fno_stride"},
      {"-train_fraction", "-fno_train_fraction"},
      {"-validation_fraction", "-fno_validation_fraction"},
      {"-seed", "-fno_seed"},
      {"-out", "-fno_out"},
      {"-resume", "-fno_resume"},
      {"-overwrite", "-fno_overwrite"},
      {"-train_epochs", "-fno_epochs"},
      {"-train_batch", "-fno_batch"},
      {"-train_lr", "-fno_lr"},
      {"-train_weight_decay", "-fno_weight_decay"},
      {"-train_scheduler", "-fno_scheduler"},
      {"-train_loss", "-fno_loss"},
      {"-train_seed", "-fno_seed"},
      {"-train_checkpoint_every", "-fno_checkpoint_every"},
      {"-train_normalizer", "-fno_normalizer"},
      // One spelling: normalizer.
      {"-ltr_tsallis_normaliser", "-ltr_tsallis_normalizer"},
      {"-tune_tsallis_normaliser", "-tune_tsallis_normalizer"},
      {"-pc_sorbandit_tsallis_normaliser", "-pc_sorbandit_tsallis_normalizer", true},
  };
  return table;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic programme suffice: a swap looks two rows back.
  std::vector<std::size_t> two(b.size() + 1), one(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) one[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({one[j] + 1, cur[j - 1] + 1, one[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], two[j - 2] + 1);
    }
    std::swap(two, one);
    std::swap(one, cur);
  }
  return one[b.size()];
}

namespace {

/// The new names of a renamed option: exact entries, and prefixed object options (-x_pc_sorbandit_...).
std::vector<std::string> renamed_to(const std::string& name) {
  std::vector<std::string> out;
  for (const auto& r : option_renames()) {
    const std::string old_name = r.old_name;
    if (name == old_name) {
      out.emplace_back(r.new_name);
    } else if (r.prefixable && name.size() > old_name.size() &&
               name.compare(name.size() - old_name.size() + 1, std::string::npos, old_name, 1) == 0 &&
               name[name.size() - old_name.size()] == '_') {
      out.push_back(name.substr(0, name.size() - old_name.size() + 1) + (r.new_name + 1));
    }
  }
  return out;
}

struct Registry {
  std::mutex mutex;
  std::set<std::string> names;
  std::set<std::string> solver_prefixes;
};
Registry& registry() {
  static Registry r;
  return r;
}

// The KSP and PC options people give most; enough for a typo under a solver prefix to find its name.
const char* const kSolverSuffixes[] = {"ksp_type",
                                       "ksp_rtol",
                                       "ksp_atol",
                                       "ksp_max_it",
                                       "ksp_monitor",
                                       "ksp_view",
                                       "ksp_converged_reason",
                                       "ksp_norm_type",
                                       "ksp_initial_guess_nonzero",
                                       "pc_type",
                                       "pc_sor_omega",
                                       "pc_hypre_type",
                                       "pc_gamg_type",
                                       "pc_mg_levels",
                                       "pc_factor_levels"};

// Options that PETSc reads only in PetscFinalize, after this report (PETSc 3.18): not unused.
const char* const kReadAtFinalize[] = {
    "-options_view", "-citations",   "-get_total_flops", "-mpi_linear_solver_server_view",
    "-nox",          "-nox_warning", "-objects_dump"};

/// The options PETSc holds that were read (used) on this rank: names PETSc itself knows.
std::vector<std::string> used_database_names() {
  std::vector<std::string> out;
  char* all = nullptr;
  if (PetscOptionsGetAll(nullptr, &all) || !all) return out;
  std::istringstream words(all);
  PetscFree(all);
  std::string w;
  while (words >> w) {
    if (w.size() < 2 || w[0] != '-' || !(std::isalpha(static_cast<unsigned char>(w[1])) || w[1] == '_')) continue;
    PetscBool used = PETSC_FALSE;
    if (!PetscOptionsUsed(nullptr, w.c_str() + 1, &used) && used) out.push_back(w);
  }
  return out;
}

}  // namespace

std::string suggest_option(const std::string& name, const std::vector<std::string>& candidates) {
  const auto renamed = renamed_to(name);
  for (const auto& n : renamed)  // the new name this program reads, if the rename has several
    if (std::find(candidates.begin(), candidates.end(), n) != candidates.end()) return n;
  if (!renamed.empty()) return renamed.front();
  // A typo: the nearest name, if it is within a third of the name's length (at least 2 edits).
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    if (c == name) continue;
    const std::size_t d = edit_distance(name, c);
    if (d < best_d || (d == best_d && !best.empty() && c < best)) {
      if (d < best_d) best_d = d;
      best = c;
    }
  }
  return best;
}

void register_option_name(const std::string& name) {
  auto& r = registry();
  const std::lock_guard lock(r.mutex);
  r.names.insert(name);
}

void register_solver_prefix(const std::string& prefix) {
  auto& r = registry();
  const std::lock_guard lock(r.mutex);
  r.solver_prefixes.insert(prefix);
}

std::vector<std::string> registered_option_names() {
  auto& r = registry();
  const std::lock_guard lock(r.mutex);
  std::vector<std::string> out(r.names.begin(), r.names.end());
  for (const auto& p : r.solver_prefixes)
    for (const char* s : kSolverSuffixes) out.push_back("-" + p + s);
  return out;
}

std::vector<std::string> unused_option_warnings(MPI_Comm comm) {
  // Rank 0's unused options, kept if no rank used them (a rank may read an option the others do not).
  PetscInt n = 0;
  char** names = nullptr;
  char** values = nullptr;
  NEUROPS_PETSC(PetscOptionsLeftGet(nullptr, &n, &names, &values));
  std::string joined;
  for (PetscInt i = 0; i < n; ++i) joined += std::string("-") + names[i] + '\n';
  NEUROPS_PETSC(PetscOptionsLeftRestore(nullptr, &n, &names, &values));
  int length = int(joined.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  joined.resize(std::size_t(length));
  MPI_Bcast(joined.data(), length, MPI_CHAR, 0, comm);
  std::vector<std::string> left;
  std::istringstream lines(joined);
  for (std::string line; std::getline(lines, line);) left.push_back(line);
  std::vector<int> used(left.size(), 0);
  for (std::size_t i = 0; i < left.size(); ++i) {
    PetscBool u = PETSC_FALSE;
    NEUROPS_PETSC(PetscOptionsUsed(nullptr, left[i].c_str() + 1, &u));  // PETSc's names have no dash
    used[i] = u ? 1 : 0;
  }
  if (!used.empty()) MPI_Allreduce(MPI_IN_PLACE, used.data(), int(used.size()), MPI_INT, MPI_LOR, comm);

  std::vector<std::string> candidates = registered_option_names();
  for (auto& u : used_database_names()) candidates.push_back(std::move(u));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < left.size(); ++i) {
    if (used[i] ||
        std::find(std::begin(kReadAtFinalize), std::end(kReadAtFinalize), left[i]) != std::end(kReadAtFinalize))
      continue;
    const std::string hint = suggest_option(left[i], candidates);
    out.push_back("WARNING: option " + left[i] + " is not used" + (hint.empty() ? "" : "; did you mean " + hint + "?"));
  }
  return out;
}

void report_unused_options(MPI_Comm comm) {
  PetscBool report = PETSC_TRUE, set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetBool(nullptr, nullptr, "-options_left", &report, &set));
  // PETSc lists unused options in PetscFinalize when -options_left is on (and by default in debug
  // builds); this report replaces that list.
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-options_left", "0"));
  PetscBool has = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsHasName(nullptr, nullptr, "-options_left", &has));  // read: not reported itself
  if (set && !report) return;
  const auto warnings = unused_option_warnings(comm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  std::fflush(stdout);  // after what the program printed
  for (const auto& w : warnings) std::fprintf(stderr, "%s\n", w.c_str());
  std::fflush(stderr);
}

}  // namespace neurops
