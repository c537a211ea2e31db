#pragma once
// PC "sorbandit": SOR/SSOR whose relaxation parameter omega is tuned online across the solves of a
// program. Before each KSPSolve (PCPreSolve) a bandit learner picks omega from a grid; after it
// (PCPostSolve) the learner sees that solve's cost (KSP iterations or preconditioner applications).
// The sweeps are neurops' own kernels on the AIJ arrays (block Jacobi over ranks, SOR/SSOR inside).
// Options (prefix as the PC's, shown by -help):
//   -pc_sorbandit_learner tsallis|chebcb|binned|fixed   (tsallis)
//   -pc_sorbandit_arms 20  -pc_sorbandit_omega_min 1  -pc_sorbandit_omega_max 1.95
//   -pc_sorbandit_omega 1.5                              omega of the fixed learner
//   -pc_sorbandit_sweep symmetric|forward                 SSOR (for CG) or forward SOR
//   -pc_sorbandit_cost iterations|applications
//   -pc_sorbandit_context none|shift|diagonal|<option>    context of chebcb/binned: the diagonal
//        shift estimate min_i (a_ii - sum_j |a_ij|), the mean diagonal, or the value of a real
//        option (e.g. -heat_kappa) that the host updates before each solve
//   -pc_sorbandit_context_range lo,hi  (-0.15,0.65)     -pc_sorbandit_bins 5
//   -pc_sorbandit_tsallis_normalizer reference|safeguarded  (see TsallisNormaliser in bandits.hpp)
//   -pc_sorbandit_seed 0   -pc_sorbandit_view            summary of what it learned at destroy (not
//        repeated when -ksp_view has just shown it)
//   -pc_sorbandit_state omega.h5   the learner continues from this file when it exists (read when the
//        learner is made, at the first set-up) and is saved to it at destroy (atomically, rank 0); a
//        file of another learner or configuration is an error (bandit_state.hpp)
// BAIJ/SBAIJ operators are converted to AIJ (again when they change) for the sweeps; -log_view counts
// the sweeps' flops. C interface for scripts: sorbandit_c.h.
#include <petscksp.h>

namespace neurops::solvers {

class BanditLearner;
using OmegaTuner = BanditLearner;

inline constexpr const char* PCSORBANDIT = "sorbandit";

/// PETSc's create function of the type (registered by register_petsc_types()).
PetscErrorCode PCCreate_SorBandit(PC pc);

/// The learner of a sorbandit PC (nullptr before its first setup); throws if pc is another type.
const OmegaTuner* sorbandit_tuner(PC pc);
/// omega used by the last (or current) solve of a sorbandit PC.
double sorbandit_omega(PC pc);

}  // namespace neurops::solvers
