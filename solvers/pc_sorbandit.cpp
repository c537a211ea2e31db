// PC type "sorbandit": SOR/SSOR with omega tuned online by a bandit learner (see pc_sorbandit.hpp).
#include <petsc/private/pcimpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>
#include <vector>

#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/solvers/bandit_state.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/pc_sorbandit.hpp"
#include "neurops/solvers/sor.hpp"
#include "write_learner_state.hpp"

namespace neurops::solvers {

namespace {

struct SorBandit {
  TunerConfig config;
  bool symmetric = true;
  bool cost_is_applications = false;
  bool view_at_destroy = false;
  std::string context_source = "none";
  std::string state_path;  // -pc_sorbandit_state: read when the learner is made, written at destroy
  std::unique_ptr<OmegaTuner> tuner;
  std::unique_ptr<LocalCsr> csr;  // held between PCPreSolve and PCPostSolve
  PetscLogDouble flops_per_apply = 0;
  std::vector<PetscScalar> work;  // SSOR intermediate, reused across applications
  // A BAIJ/SBAIJ operator converted to AIJ for the sweeps, and the operator (id, state) it was made
  // from: a new matrix object can have the state number of the one it replaced.
  PetscMat aij;
  PetscObjectId aij_id = 0;
  PetscObjectState aij_state = -1;
  double omega = 1.0;
  double context = 0.0;
  PetscInt applications = 0;
  std::int64_t solves = 0, not_converged = 0;
  double total_cost = 0, tuner_seconds = 0;
  std::int64_t solves_at_view = -1;  // solves when the report was last shown (-ksp_view): not repeated at destroy
};

SorBandit* data_of(PC pc) { return static_cast<SorBandit*>(pc->data); }

// Exceptions must not cross PETSc's C frames: convert them to a PETSc error with the message.
#define SORBANDIT_TRY(pc, body)                                                                               \
  try {                                                                                                       \
    body                                                                                                      \
  } catch (const std::exception& e) {                                                                         \
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_LIB, "pc sorbandit: %s", e.what()); \
  }

// The learner: continued from the state file when one is given and present, new otherwise.
void ensure_tuner(SorBandit& s) {
  if (s.tuner) return;
  const bool resume = !s.state_path.empty() && std::filesystem::exists(s.state_path);
  s.tuner = resume ? load_tuner_state(s.state_path, s.config) : make_tuner(s.config);
}

// The operator the sweeps read. AIJ as it is; other formats (BAIJ, SBAIJ) converted to AIJ, again only
// when the operator has changed. The conversion keeps every entry, so the sweeps, and with them the
// iterates, are exactly those of the same matrix in AIJ (MatSOR on BAIJ/SBAIJ would run PETSc's own
// kernels, which order the arithmetic differently, and SBAIJ's supports symmetric sweeps only).
Mat sweep_operator(PC pc, SorBandit& s) {
  PetscBool aij = PETSC_FALSE;
  NEUROPS_PETSC(PetscObjectTypeCompareAny(reinterpret_cast<PetscObject>(pc->pmat), &aij, MATSEQAIJ, MATMPIAIJ, ""));
  if (aij) return pc->pmat;
  PetscObjectState state = 0;
  PetscObjectId id = 0;
  NEUROPS_PETSC(PetscObjectStateGet(reinterpret_cast<PetscObject>(pc->pmat), &state));
  NEUROPS_PETSC(PetscObjectGetId(reinterpret_cast<PetscObject>(pc->pmat), &id));
  if (!s.aij || id != s.aij_id || state != s.aij_state) {
    s.aij.reset();
    NEUROPS_PETSC(MatConvert(pc->pmat, MATAIJ, MAT_INITIAL_MATRIX, s.aij.out()));
    s.aij_id = id;
    s.aij_state = state;
  }
  return s.aij;
}

// Floating-point operations of one application, for -log_view: per row, 2 for each off-diagonal
// entry swept and 2 for the diagonal scaling (forward SOR: the L part; SSOR: both parts, plus 2 for
// combining the sweeps).
PetscLogDouble flops_per_apply(const LocalCsr& csr, bool symmetric) {
  PetscLogDouble lower = 0, upper = 0;
  const PetscInt* ia = csr.row_start();
  for (PetscInt i = 0; i < csr.rows(); ++i) {
    const PetscInt d = csr.diagonal_index()[static_cast<std::size_t>(i)];
    lower += PetscLogDouble(d - ia[i]);
    upper += PetscLogDouble(ia[i + 1] - d - 1);
  }
  const PetscLogDouble n = csr.rows();
  return symmetric ? 2 * (lower + upper) + 6 * n : 2 * lower + 2 * n;
}

// Writes the learner's state to -pc_sorbandit_state (rank 0 writes; every rank learns whether it worked).
PetscErrorCode write_state(PC pc, const SorBandit& s) {
  if (s.state_path.empty() || !s.tuner) return 0;
  return write_learner_state(pc, "-pc_sorbandit_state", s.state_path,
                             [&] { save_tuner_state(s.state_path, *s.tuner, s.config); });
}

double mean_diagonal(Mat A) {
  PetscVec d;
  NEUROPS_PETSC(MatCreateVecs(A, d.out(), nullptr));
  NEUROPS_PETSC(MatGetDiagonal(A, d));
  PetscScalar sum = 0;
  PetscInt n = 0;
  NEUROPS_PETSC(VecSum(d, &sum));
  NEUROPS_PETSC(VecGetSize(d, &n));
  return PetscRealPart(sum) / double(n);
}

double read_context(Mat A, const SorBandit& s) {
  if (s.context_source == "none") return 0.0;
  if (s.context_source == "shift") return diagonal_shift_estimate(A);
  if (s.context_source == "diagonal") return mean_diagonal(A);
  // Any other value names a real option the host program keeps up to date.
  const std::string name = s.context_source[0] == '-' ? s.context_source : "-" + s.context_source;
  PetscReal v = 0;
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetReal(nullptr, nullptr, name.c_str(), &v, &set));
  NEUROPS_CHECK(set, "-pc_sorbandit_context " << s.context_source << ": option " << name
                                              << " is not set; expected none, shift, diagonal or the name of a real "
                                                 "option the program sets before each solve");
  return v;
}

PetscErrorCode setup(PC pc) {
  PetscFunctionBeginUser;
  SorBandit* s = data_of(pc);
  SORBANDIT_TRY(pc, {
    check_relaxation_input(pc->pmat, 0.5 * (s->config.omega_min + s->config.omega_max), "pc sorbandit");
    ensure_tuner(*s);
    LocalCsr probe(sweep_operator(pc, *s));  // checks the type and the diagonal now rather than inside the solve
  })
  PetscFunctionReturn(0);
}

PetscErrorCode presolve(PC pc, KSP, Vec, Vec) {
  PetscFunctionBeginUser;
  SorBandit* s = data_of(pc);
  SORBANDIT_TRY(pc, {
    ensure_tuner(*s);
    const Mat A = sweep_operator(pc, *s);
    Timer timer;
    s->context = read_context(A, *s);
    s->omega = s->tuner->choose(s->context);
    s->tuner_seconds += timer.seconds();
    s->applications = 0;
    s->csr = std::make_unique<LocalCsr>(A);
    s->flops_per_apply = flops_per_apply(*s->csr, s->symmetric);
  })
  PetscFunctionReturn(0);
}

PetscErrorCode postsolve(PC pc, KSP ksp, Vec, Vec) {
  PetscFunctionBeginUser;
  SorBandit* s = data_of(pc);
  SORBANDIT_TRY(pc, {
    s->csr.reset();
    PetscInt its = 0;
    KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
    NEUROPS_PETSC(KSPGetIterationNumber(ksp, &its));
    NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
    const double cost = s->cost_is_applications ? double(s->applications) : double(its);
    Timer timer;
    if (s->tuner && s->tuner->last_arm() >= 0) s->tuner->observe(cost);
    s->tuner_seconds += timer.seconds();
    ++s->solves;
    s->total_cost += cost;
    if (reason < 0) ++s->not_converged;
  })
  PetscFunctionReturn(0);
}

PetscErrorCode apply(PC pc, Vec x, Vec y) {
  PetscFunctionBeginUser;
  SorBandit* s = data_of(pc);
  SORBANDIT_TRY(pc, {
    std::unique_ptr<LocalCsr> own;
    const LocalCsr* csr = s->csr.get();
    PetscLogDouble flops = s->flops_per_apply;
    if (!csr) {  // applied outside a KSPSolve: take the arrays for this call only
      own = std::make_unique<LocalCsr>(sweep_operator(pc, *s));
      csr = own.get();
      flops = flops_per_apply(*csr, s->symmetric);
    }
    const PetscScalar* xa = nullptr;
    PetscScalar* ya = nullptr;
    NEUROPS_PETSC(VecGetArrayRead(x, &xa));
    NEUROPS_PETSC(VecGetArray(y, &ya));
    if (s->symmetric) {
      s->work.resize(static_cast<std::size_t>(csr->rows()));
      csr->ssor_apply(s->omega, xa, ya, s->work.data());
    } else {
      csr->forward_solve(s->omega, xa, ya);
    }
    NEUROPS_PETSC(VecRestoreArray(y, &ya));
    NEUROPS_PETSC(VecRestoreArrayRead(x, &xa));
    NEUROPS_PETSC(PetscLogFlops(flops));
    ++s->applications;
  })
  PetscFunctionReturn(0);
}

PetscErrorCode set_from_options(PC pc, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBeginUser;
  SorBandit* s = data_of(pc);
  const TunerConfig before = s->config;
  const char* learners[] = {"tsallis", "chebcb", "binned", "fixed"};
  const char* sweeps[] = {"symmetric", "forward"};
  const char* costs[] = {"iterations", "applications"};
  PetscOptionsHeadBegin(PetscOptionsObject, "SOR bandit options (online tuning of omega)");
  PetscInt learner = 0;
  for (PetscInt i = 0; i < 4; ++i)
    if (s->config.learner == learners[i]) learner = i;
  PetscCall(PetscOptionsEList("-pc_sorbandit_learner", "Bandit learner choosing omega", "PCSORBANDIT", learners, 4,
                              learners[learner], &learner, nullptr));
  s->config.learner = learners[learner];
  PetscInt arms = s->config.arms;
  PetscCall(
      PetscOptionsInt("-pc_sorbandit_arms", "Number of omega values on the grid", "PCSORBANDIT", arms, &arms, nullptr));
  s->config.arms = static_cast<int>(arms);
  PetscCall(PetscOptionsReal("-pc_sorbandit_omega_min", "Smallest omega of the grid", "PCSORBANDIT",
                             s->config.omega_min, &s->config.omega_min, nullptr));
  PetscCall(PetscOptionsReal("-pc_sorbandit_omega_max", "Largest omega of the grid", "PCSORBANDIT", s->config.omega_max,
                             &s->config.omega_max, nullptr));
  PetscCall(PetscOptionsReal("-pc_sorbandit_omega", "omega of the fixed learner", "PCSORBANDIT", s->config.fixed_omega,
                             &s->config.fixed_omega, nullptr));
  PetscInt sweep = s->symmetric ? 0 : 1;
  PetscCall(PetscOptionsEList("-pc_sorbandit_sweep", "SSOR (symmetric, for CG) or forward SOR", "PCSORBANDIT", sweeps,
                              2, sweeps[sweep], &sweep, nullptr));
  s->symmetric = sweep == 0;
  PetscInt cost = s->cost_is_applications ? 1 : 0;
  PetscCall(PetscOptionsEList("-pc_sorbandit_cost", "Cost the learner minimises", "PCSORBANDIT", costs, 2, costs[cost],
                              &cost, nullptr));
  s->cost_is_applications = cost == 1;
  char context[256];
  PetscCall(PetscStrncpy(context, s->context_source.c_str(), sizeof context));
  PetscCall(PetscOptionsString("-pc_sorbandit_context",
                               "Context of chebcb/binned: none, shift (diagonal shift estimate), diagonal (mean), or a "
                               "real option name",
                               "PCSORBANDIT", context, context, sizeof context, nullptr));
  s->context_source = context;
  PetscReal range[2] = {s->config.context_lo, s->config.context_hi};
  PetscInt nrange = 2;
  PetscBool range_set = PETSC_FALSE;
  PetscCall(PetscOptionsRealArray("-pc_sorbandit_context_range", "Context interval lo,hi", "PCSORBANDIT", range,
                                  &nrange, &range_set));
  if (range_set) {
    PetscCheck(nrange == 2, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_WRONG,
               "-pc_sorbandit_context_range: expected two values lo,hi, found %d", (int)nrange);
    s->config.context_lo = range[0];
    s->config.context_hi = range[1];
  }
  const char* normalisers[] = {"reference", "safeguarded"};
  PetscInt normaliser = s->config.tsallis_normaliser == "safeguarded" ? 1 : 0;
  PetscCall(PetscOptionsEList("-pc_sorbandit_tsallis_normalizer",
                              "Tsallis-INF normalizer: reference (Newton from -1, as the paper's code) or safeguarded",
                              "PCSORBANDIT", normalisers, 2, normalisers[normaliser], &normaliser, nullptr));
  s->config.tsallis_normaliser = normalisers[normaliser];
  PetscInt bins = s->config.bins;
  PetscCall(
      PetscOptionsInt("-pc_sorbandit_bins", "Context bins of the binned learner", "PCSORBANDIT", bins, &bins, nullptr));
  s->config.bins = static_cast<int>(bins);
  PetscInt seed = static_cast<PetscInt>(s->config.seed);
  PetscCall(PetscOptionsInt("-pc_sorbandit_seed", "Seed of the learner's random choices", "PCSORBANDIT", seed, &seed,
                            nullptr));
  s->config.seed = static_cast<std::uint64_t>(seed);
  PetscBool view = s->view_at_destroy ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscOptionsBool("-pc_sorbandit_view", "Print what the learner learned when the PC is destroyed",
                             "PCSORBANDIT", view, &view, nullptr));
  s->view_at_destroy = view;
  char state[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(state, s->state_path.c_str(), sizeof state));
  PetscCall(PetscOptionsString("-pc_sorbandit_state",
                               "HDF5 file of the learner's state: continued from when present, written at destroy",
                               "PCSORBANDIT", state, state, sizeof state, nullptr));
  const bool state_changed = s->state_path != state;
  s->state_path = state;
  PetscOptionsHeadEnd();
  PetscCheck(s->config.omega_min > 0 && s->config.omega_max < 2 && s->config.omega_min <= s->config.omega_max,
             PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_sorbandit_omega_min/max: expected 0 < min <= max < 2, found [%g, %g]", (double)s->config.omega_min,
             (double)s->config.omega_max);
  PetscCheck(s->config.arms >= 1, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_sorbandit_arms: expected at least 1, found %d", s->config.arms);
  PetscCheck(s->config.fixed_omega > 0 && s->config.fixed_omega < 2, PetscObjectComm((PetscObject)pc),
             PETSC_ERR_ARG_OUTOFRANGE, "-pc_sorbandit_omega: expected a value in (0, 2), found %g",
             (double)s->config.fixed_omega);
  const bool changed = before.learner != s->config.learner || before.arms != s->config.arms ||
                       before.omega_min != s->config.omega_min || before.omega_max != s->config.omega_max ||
                       before.fixed_omega != s->config.fixed_omega || before.context_lo != s->config.context_lo ||
                       before.context_hi != s->config.context_hi || before.bins != s->config.bins ||
                       before.seed != s->config.seed || before.tsallis_normaliser != s->config.tsallis_normaliser;
  // A new configuration or state file starts a new learner (from the file when it exists).
  if (changed || state_changed) s->tuner.reset();
  PetscFunctionReturn(0);
}

std::string describe(const SorBandit& s) {
  std::ostringstream os;
  os << "sorbandit: learner " << s.config.learner << ", " << (s.symmetric ? "SSOR" : "forward SOR") << ", omega grid "
     << s.config.arms << " values in [" << s.config.omega_min << ", " << s.config.omega_max << "], context "
     << s.context_source << ", cost " << (s.cost_is_applications ? "PC applications" : "KSP iterations") << "\n";
  os << "sorbandit: " << s.solves << " solves, total cost " << s.total_cost << ", mean "
     << (s.solves ? s.total_cost / double(s.solves) : 0.0) << ", not converged " << s.not_converged << ", last omega "
     << s.omega << ", tuner time " << s.tuner_seconds << " s\n";
  if (s.tuner) os << "sorbandit: " << s.tuner->summary();
  return os.str();
}

PetscErrorCode view(PC pc, PetscViewer viewer) {
  PetscFunctionBeginUser;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (ascii) {
    SorBandit* s = data_of(pc);
    std::istringstream lines(describe(*s));
    for (std::string line; std::getline(lines, line);)  // line by line, so each is indented as the viewer says
      PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line.c_str()));
    s->solves_at_view = s->solves;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode destroy(PC pc) {
  PetscFunctionBeginUser;
  const std::unique_ptr<SorBandit> s(data_of(pc));  // freed on every path out
  pc->data = nullptr;
  // -pc_sorbandit_view: the report at the end, unless -ksp_view has just shown the same one.
  if (s->view_at_destroy && s->solves_at_view != s->solves)
    PetscCall(PetscPrintf(PetscObjectComm((PetscObject)pc), "%s", describe(*s).c_str()));
  PetscCall(write_state(pc, *s));
  PetscFunctionReturn(0);
}

PetscErrorCode create(PC pc) {
  PetscFunctionBeginUser;
  pc->data = new SorBandit();
  pc->ops->setup = setup;
  pc->ops->apply = apply;
  pc->ops->applysymmetricleft = nullptr;
  pc->ops->presolve = presolve;
  pc->ops->postsolve = postsolve;
  pc->ops->setfromoptions = set_from_options;
  pc->ops->view = view;
  pc->ops->destroy = destroy;
  PetscFunctionReturn(0);
}

SorBandit& checked(PC pc) {
  PetscBool same = PETSC_FALSE;
  NEUROPS_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(pc), PCSORBANDIT, &same));
  NEUROPS_CHECK(same, "expected a PC of type " << PCSORBANDIT);
  return *data_of(pc);
}

}  // namespace

PetscErrorCode PCCreate_SorBandit(PC pc) { return create(pc); }

const OmegaTuner* sorbandit_tuner(PC pc) { return checked(pc).tuner.get(); }
double sorbandit_omega(PC pc) { return checked(pc).omega; }

}  // namespace neurops::solvers
