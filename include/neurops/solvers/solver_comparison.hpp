#pragma once
// Side-by-side runs of PETSc solver configurations on one system: iterations, set-up and solve
// time, true relative residual, and the residual history (for tables, CSV and plots).
//
//   auto specs = poisson_baselines();            // CG, CG+ICC(0), CG+GAMG, CG+BoomerAMG
//   specs.insert(specs.begin(), {"DCDM", "dcdm", "none", {{"ksp_dcdm_model", path}}});
//   for (auto& s : specs) results.push_back(run_solver(s, A, dm, b, 1e-8, 10000));
//   std::cout << results_table(results);
//
// Every solver stops on ||b - A x|| < rtol ||b|| (unpreconditioned norm, zero initial guess), so the
// counts compare like with like. Each run has its own options prefix "<prefix>" (e.g. cmp_icc_), so
// the command line can still change it (-cmp_gamg_pc_gamg_threshold 0.02).
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "neurops/core/petsc.hpp"

namespace neurops::solvers {

struct SolverSpec {
  std::string name;  // "CG+ICC(0)"
  std::string ksp_type, pc_type;
  std::vector<std::pair<std::string, std::string>> options;  // without the prefix and the dash
  std::string prefix;                                        // options prefix; empty: "cmp_<index>_"
};

struct SolverResult {
  std::string name;
  PetscInt iterations = 0;
  double setup_seconds = 0, solve_seconds = 0;
  double relative_residual = 0;  // ||b - A x|| / ||b|| recomputed after the solve
  std::string reason;            // KSPConvergedReason as text, or why the solver is not available
  bool available = true;
  std::vector<double> history;  // ||r_k|| / ||b||
};

/// CG, CG+ICC(0), CG+GAMG, CG+BoomerAMG (hypre) with prefixes cmp_cg_, cmp_icc_, cmp_gamg_, cmp_hypre_.
std::vector<SolverSpec> poisson_baselines();

/// Solves A x = b from x = 0 with the spec; the DM (may be null) is attached for types that take
/// their grid from it. A PC type this PETSc lacks gives available = false, not an Error.
SolverResult run_solver(const SolverSpec& spec, Mat A, DM dm, Vec b, double rtol, PetscInt max_it);

/// Text table: solver, iterations, set-up, solve, total time, relative residual, reason.
std::string results_table(const std::vector<SolverResult>& results);

/// CSV with columns `iteration,<solver>...` (relative residuals; empty cells after a solver stopped).
void write_histories_csv(const std::filesystem::path& path, const std::vector<SolverResult>& results);
/// Semi-log plot of log10 of the relative residual histories.
void write_histories_png(const std::filesystem::path& path, const std::vector<SolverResult>& results,
                         const std::string& title);

}  // namespace neurops::solvers
