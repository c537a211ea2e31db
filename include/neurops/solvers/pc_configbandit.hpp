#pragma once
// PC "configbandit": a bandit over whole preconditioner configurations. The user lists option sets;
// before each KSPSolve (PCPreSolve) a learner picks one, after it (PCPostSolve) the learner sees the
// solve's cost, and it learns online which configuration is cheapest for the program's sequence of
// systems (as PCGBandit does for OpenFOAM's PCG solves).
//
//   -ksp_type cg -pc_type configbandit
//   -pc_configbandit_configs "icc;gamg;sor -pc_sor_omega 1.7;hypre -pc_hypre_type boomeramg"
//
// Syntax of -pc_configbandit_configs: option sets separated by ';'. Each set is a PC type followed by
// that PC's options written as they would be for a PC without prefix (-pc_sor_omega 1.7; a token
// after an option name is its value unless it is itself an option name, so values have no spaces
// or ';', and negative numbers are values). Set k
// becomes an inner PC with options prefix <pc prefix>configbandit_<k>_, its options put into the
// options database under that prefix. Every set is checked when the options are read, before the
// first solve: an empty set, an unknown PC type, or an option the inner PC does not read (PETSc's
// "used" flag after its PCSetFromOptions) is an error naming the set and the option.
//
// Each arm keeps its inner PC, so an operator that only changed its values is set up again as PETSc
// does (SAME_NONZERO_PATTERN: symbolic factorisations and hierarchies reused where the type can),
// and an unchanged operator is not set up again at all.
//
// Cost (-pc_configbandit_cost): `time` (default) is the wall time from PCPreSolve (before the chosen
// PC's set-up) to PCPostSolve, the maximum over ranks; `iterations` is the KSP iteration count.
// The learner is Tsallis-INF (TsallisInf, bandits.hpp), whose loss for a cost c is (c - 1)/s with s
// the running mean of (c - 1). It is given 1 + cost, so its loss is cost / (running mean cost): free of
// units (seconds or iterations), about 1 for a typical solve and below 1 for the cheaper
// configurations; the importance weights then make the estimates of rarely played arms large, as
// Tsallis-INF's analysis for losses of order one expects.
//
// Options (prefix as the PC's, shown by -help):
//   -pc_configbandit_configs "type opts;type opts;..."   the arms (required)
//   -pc_configbandit_learner tsallis|fixed  (tsallis)    -pc_configbandit_fixed 0   arm of `fixed`
//   -pc_configbandit_cost time|iterations  (time)        -pc_configbandit_seed 0
//   -pc_configbandit_tsallis_normalizer safeguarded|reference  (safeguarded: see ArmSetConfig)
//   -pc_configbandit_view   report at destroy (pulls, mean cost and share of each arm; not repeated
//        when -ksp_view has just shown it)
//   -pc_configbandit_state file.h5   continue from this file when it exists (read at the first
//        set-up), written at destroy atomically by rank 0; a file of another learner or arm set is an
//        error naming the file and the difference, and the file is left as it was
// Under MPI every rank makes the same choice (same seed, same costs: the time is reduced with
// MPI_MAX); a disagreement is an error.
#include <petscksp.h>

#include <string>
#include <vector>

namespace neurops::solvers {

class BanditLearner;

inline constexpr const char* PCCONFIGBANDIT = "configbandit";

/// PETSc's create function of the type (registered by register_petsc_types()).
PetscErrorCode PCCreate_ConfigBandit(PC pc);

/// The learner of a configbandit PC (nullptr before its first set-up); throws if pc is another type.
const BanditLearner* configbandit_learner(PC pc);
/// The option sets (arms) as read from -pc_configbandit_configs, trimmed.
std::vector<std::string> configbandit_arm_set(PC pc);
/// The arm of the last (or current) solve, -1 before the first.
int configbandit_arm(PC pc);

}  // namespace neurops::solvers
