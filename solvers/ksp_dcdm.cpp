// KSP type "dcdm": the Deep Conjugate Direction Method (see ksp_dcdm.hpp).
#include "neurops/solvers/ksp_dcdm.hpp"

#include <petsc/private/kspimpl.h>

#include <cmath>
#include <string>

#include "neurops/solvers/dcdm.hpp"

namespace neurops::solvers {

namespace {

struct KspDcdm {
  DcdmDirection net;
  std::string model;  // the option's value; empty: the shipped model
  DcdmPrecision precision = DcdmPrecision::single;
  bool true_residual = true;
  bool dirty = true;  // model or precision changed since the last load
};

KspDcdm* data_of(KSP ksp) { return static_cast<KspDcdm*>(ksp->data); }

// Exceptions must not cross PETSc's C frames: convert them to a PETSc error with the message.
#define DCDM_TRY(obj, body)                                                                                       \
  try {                                                                                                           \
    body                                                                                                          \
  } catch (const std::exception& e) {                                                                             \
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(obj)), PETSC_ERR_USER_INPUT, "ksp dcdm: %s", e.what()); \
  }

/// "-<prefix>name" of an option of this object.
std::string option_name(PetscObject obj, const char* name) {
  std::string key = "-";
  if (obj->prefix) key.append(obj->prefix);
  return key.append(name);
}

/// The network replaces the preconditioner. KSPSetFromOptions gives the PC its default type (ILU or
/// ICC, with a factorisation) before the KSP type is known, so unless -pc_type was given, use none.
PetscErrorCode drop_default_pc(KSP ksp) {
  PetscFunctionBeginUser;
  PetscBool given = PETSC_FALSE;
  PetscCall(PetscOptionsHasName(((PetscObject)ksp)->options, ((PetscObject)ksp)->prefix, "-pc_type", &given));
  if (!given) PetscCall(PCSetType(ksp->pc, PCNONE));
  PetscFunctionReturn(0);
}

PetscErrorCode setup(KSP ksp) {
  PetscFunctionBeginUser;
  KspDcdm* s = data_of(ksp);
  PetscCall(KSPSetWorkVecs(ksp, 6));
  PetscCall(drop_default_pc(ksp));
  DM dm = nullptr;
  PetscCall(KSPGetDM(ksp, &dm));
  DCDM_TRY(ksp, {
    if (s->dirty || !s->net.loaded()) {
      const std::string path = s->model.empty() ? default_dcdm_model() : s->model;
      s->net.load(path, s->precision, option_name((PetscObject)ksp, "ksp_dcdm_model"));
      s->dirty = false;
    }
    s->net.setup(dm, "ksp dcdm");
  })
  PetscFunctionReturn(0);
}

/// Logs, monitors and tests the residual norm of iteration `it`; true when the solve stops.
PetscErrorCode record(KSP ksp, PetscInt it, PetscReal rnorm, PetscBool* stop) {
  PetscFunctionBeginUser;
  PetscCall(PetscObjectSAWsTakeAccess((PetscObject)ksp));
  ksp->its = it;
  ksp->rnorm = rnorm;
  PetscCall(PetscObjectSAWsGrantAccess((PetscObject)ksp));
  PetscCall(KSPLogResidualHistory(ksp, rnorm));
  PetscCall(KSPMonitor(ksp, it, rnorm));
  PetscCall((*ksp->converged)(ksp, it, rnorm, &ksp->reason, ksp->cnvP));
  *stop = ksp->reason ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/// Sets r = b - A x (or r = b, x = 0 for a zero guess).
PetscErrorCode initial_residual(KSP ksp, Mat A, Vec r) {
  PetscFunctionBeginUser;
  if (ksp->guess_zero) {
    PetscCall(VecSet(ksp->vec_sol, 0.0));
    PetscCall(VecCopy(ksp->vec_rhs, r));
  } else {
    PetscCall(KSP_MatMult(ksp, A, ksp->vec_sol, r));
    PetscCall(VecAYPX(r, -1.0, ksp->vec_rhs));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode solve(KSP ksp) {
  PetscFunctionBeginUser;
  KspDcdm* s = data_of(ksp);
  Mat A = nullptr;
  PetscCall(PCGetOperators(ksp->pc, &A, nullptr));
  Vec r = ksp->work[0], q = ksp->work[1];
  Vec p[2] = {ksp->work[2], ksp->work[3]};   // p[0] older, p[1] newer direction
  Vec ap[2] = {ksp->work[4], ksp->work[5]};  // A p
  PetscScalar pap[2] = {1.0, 1.0};           // p.A p (1 while the direction is still zero)
  PetscCall(VecSet(p[0], 0.0));
  PetscCall(VecSet(p[1], 0.0));
  PetscCall(VecSet(ap[0], 0.0));
  PetscCall(VecSet(ap[1], 0.0));
  ksp->reason = KSP_CONVERGED_ITERATING;
  PetscCall(initial_residual(ksp, A, r));
  PetscReal rnorm = 0;
  PetscCall(VecNorm(r, NORM_2, &rnorm));
  PetscBool stop = PETSC_FALSE;
  PetscCall(record(ksp, 0, rnorm, &stop));
  for (PetscInt it = 1; it <= ksp->max_it && !stop; ++it) {
    DCDM_TRY(ksp, { s->net.apply(r, q, rnorm); })
    // A-orthogonalise against the last two directions.
    PetscScalar dots[2];
    PetscCall(VecMDot(q, 2, ap, dots));
    PetscScalar coef[2] = {-dots[0] / pap[0], -dots[1] / pap[1]};
    PetscCall(VecMAXPY(q, 2, coef, p));
    // Shift the history: the oldest direction's storage takes the new one.
    std::swap(p[0], p[1]);
    std::swap(ap[0], ap[1]);
    pap[0] = pap[1];
    PetscCall(VecSwap(p[1], q));
    PetscCall(KSP_MatMult(ksp, A, p[1], ap[1]));
    PetscCall(VecDot(p[1], ap[1], &pap[1]));
    const PetscReal curvature = PetscRealPart(pap[1]);
    if (!std::isfinite(curvature) || curvature == 0) {
      ksp->reason = KSP_DIVERGED_BREAKDOWN;
      PetscCall(PetscInfo(ksp, "DCDM breakdown at iteration %d: p.Ap = %g\n", (int)it, (double)curvature));
      break;
    }
    if (curvature < 0) {
      ksp->reason = KSP_DIVERGED_INDEFINITE_MAT;
      PetscCall(PetscInfo(ksp, "DCDM: p.Ap = %g < 0 at iteration %d: the matrix is not positive definite\n",
                          (double)curvature, (int)it));
      break;
    }
    PetscScalar pr = 0;
    PetscCall(VecDot(p[1], r, &pr));
    const PetscScalar alpha = pr / pap[1];
    PetscCall(VecAXPY(ksp->vec_sol, alpha, p[1]));
    if (s->true_residual) {  // one extra product, as the reference: no drift of the recursive residual
      PetscCall(KSP_MatMult(ksp, A, ksp->vec_sol, r));
      PetscCall(VecAYPX(r, -1.0, ksp->vec_rhs));
    } else {
      PetscCall(VecAXPY(r, -alpha, ap[1]));
    }
    PetscCall(VecNorm(r, NORM_2, &rnorm));
    PetscCall(record(ksp, it, rnorm, &stop));
  }
  if (!ksp->reason) ksp->reason = KSP_DIVERGED_ITS;
  PetscFunctionReturn(0);
}

PetscErrorCode set_from_options(KSP ksp, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBeginUser;
  KspDcdm* s = data_of(ksp);
  PetscOptionsHeadBegin(PetscOptionsObject, "KSP DCDM options (Deep Conjugate Direction Method)");
  char model[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(model, s->model.c_str(), sizeof model));
  PetscBool set = PETSC_FALSE;
  PetscCall(PetscOptionsString("-ksp_dcdm_model", "Trained DCDM network (HDF5 checkpoint); default: the shipped model",
                               "KSPDCDM", model, model, sizeof model, &set));
  if (set && s->model != model) {
    s->model = model;
    s->dirty = true;
  }
  const char* precisions[] = {"single", "double"};
  PetscInt precision = s->precision == DcdmPrecision::single ? 0 : 1;
  PetscCall(PetscOptionsEList("-ksp_dcdm_precision", "Arithmetic of the network", "KSPDCDM", precisions, 2,
                              precisions[precision], &precision, &set));
  const DcdmPrecision chosen = precision == 0 ? DcdmPrecision::single : DcdmPrecision::dual;
  if (chosen != s->precision) {
    s->precision = chosen;
    s->dirty = true;
  }
  PetscBool tr = s->true_residual ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscOptionsBool("-ksp_dcdm_true_residual", "Recompute r = b - Ax every iteration (the reference)",
                             "KSPDCDM", tr, &tr, nullptr));
  s->true_residual = tr;
  PetscOptionsHeadEnd();
  PetscFunctionReturn(0);
}

PetscErrorCode view(KSP ksp, PetscViewer viewer) {
  PetscFunctionBeginUser;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (ascii) {
    const KspDcdm* s = data_of(ksp);
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %s", s->net.describe().c_str()));
    PetscCall(PetscViewerASCIIPrintf(viewer, "  A-orthogonal to the last 2 directions, %s residual\n",
                                     s->true_residual ? "true (b - Ax)" : "recursive"));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode destroy(KSP ksp) {
  PetscFunctionBeginUser;
  delete data_of(ksp);
  ksp->data = nullptr;
  PetscCall(KSPDestroyDefault(ksp));
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode KSPCreate_DCDM(KSP ksp) {
  PetscFunctionBeginUser;
  ksp->data = new KspDcdm();
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_UNPRECONDITIONED, PC_LEFT, 3));
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_UNPRECONDITIONED, PC_RIGHT, 2));
  ksp->ops->setup = setup;
  ksp->ops->solve = solve;
  ksp->ops->setfromoptions = set_from_options;
  ksp->ops->view = view;
  ksp->ops->destroy = destroy;
  ksp->ops->buildsolution = KSPBuildSolutionDefault;
  ksp->ops->buildresidual = KSPBuildResidualDefault;
  PetscFunctionReturn(0);
}

const DcdmDirection& ksp_dcdm_direction(KSP ksp) {
  PetscBool same = PETSC_FALSE;
  NEUROPS_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(ksp), KSPDCDM, &same));
  NEUROPS_CHECK(same, "expected a KSP of type " << KSPDCDM);
  return data_of(ksp)->net;
}

}  // namespace neurops::solvers
