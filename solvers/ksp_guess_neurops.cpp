// KSPGuess "neurops": x0 = model(b) from a trained operator (see ksp_guess_neurops.hpp).
#include "neurops/solvers/ksp_guess_neurops.hpp"

#include <petsc/private/kspimpl.h>

#include <memory>
#include <string>

#include "neurops/core/progress.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/solvers/dmda_bridge.hpp"

namespace neurops::solvers {

namespace {

struct GuessNeurops {
  std::string model_path;
  std::unique_ptr<TrainedModel<float>> model;
  bool dirty = true;
  std::unique_ptr<DmdaBridge> bridge;
  DM bridged = nullptr;
  bool box_dirichlet = true;
  PetscInt smooth = 0;
  PetscReal omega = 2.0 / 3.0;
  PetscBool view = PETSC_FALSE;
  PetscBool boundary_only = PETSC_FALSE;
  PetscVec diagonal, residual, boundary;
  long applications = 0;
  double seconds = 0;
};

GuessNeurops* data_of(KSPGuess guess) { return static_cast<GuessNeurops*>(guess->data); }

#define KSPGUESS_NEUROPS_TRY(obj, body)                                                                         \
  try {                                                                                                         \
    body                                                                                                        \
  } catch (const std::exception& e) {                                                                           \
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(obj)), PETSC_ERR_USER_INPUT, "ksp guess neurops: %s", \
            e.what());                                                                                          \
  }

/// "-<prefix>ksp_guess_neurops_<name>".
std::string option(KSPGuess guess, const std::string& name) {
  std::string key = "-";
  if (((PetscObject)guess)->prefix) key.append(((PetscObject)guess)->prefix);
  return key + "ksp_guess_neurops_" + name;
}

/// Loads the model and (re)builds the bridge when the model or the grid changed.
void prepare(KSPGuess guess, GuessNeurops& s) {
  NEUROPS_CHECK(!s.model_path.empty(), option(guess, "model") << ": no trained model given (an HDF5 checkpoint "
                                                                 "of an operator from b to x, e.g. best.h5)");
  if (s.dirty || !s.model) {
    try {
      s.model = std::make_unique<TrainedModel<float>>(load_model<float>(s.model_path));
    } catch (const Error& e) {
      NEUROPS_THROW(option(guess, "model") << " " << s.model_path << ": " << e.what());
    }
    s.dirty = false;
  }
  DM dm = guess->ksp->dm;  // not KSPGetDM: that would create an empty DMShell
  NEUROPS_CHECK(dm, "the KSP has no DM; the guess takes its grid from a 2-D or 3-D DMDA (KSPSetDM)");
  if (dm != s.bridged || !s.bridge) {
    s.bridge = std::make_unique<DmdaBridge>(dm, Ranks::root);
    s.bridged = dm;
    s.diagonal.reset();
  }
  check_model_fits(*s.model, s.bridge->layout(), s.bridge->layout());
}

/// D = diag(A), refreshed when the operator changed.
void refresh_diagonal(KSPGuess guess, GuessNeurops& s, Mat A, Vec b) {
  PetscObjectState state = 0;
  NEUROPS_PETSC(PetscObjectStateGet(reinterpret_cast<PetscObject>(A), &state));
  if (s.diagonal && state == guess->omatstate) return;
  NEUROPS_PETSC(VecDuplicate(b, s.diagonal.out()));
  NEUROPS_PETSC(VecDuplicate(b, s.residual.out()));
  NEUROPS_PETSC(VecDuplicate(b, s.boundary.out()));
  NEUROPS_PETSC(MatGetDiagonal(A, s.diagonal));
  guess->omatstate = state;
}

void form_guess(KSPGuess guess, Vec b, Vec x) {
  GuessNeurops& s = *data_of(guess);
  Timer timer;
  if (!s.boundary_only) prepare(guess, s);
  Mat A = nullptr;
  NEUROPS_PETSC(KSPGetOperators(guess->ksp, &A, nullptr));
  refresh_diagonal(guess, s, A, b);
  DirichletNodes nodes;
  if (s.box_dirichlet || s.boundary_only) {
    NEUROPS_PETSC(VecPointwiseDivide(s.boundary, b, s.diagonal));  // exact where the row is only a diagonal
    if (s.box_dirichlet) nodes = DirichletNodes::box(s.boundary);
  }
  if (s.boundary_only) {
    NEUROPS_CHECK(guess->ksp->dm, "the KSP has no DM; the guess takes its grid from a 2-D or 3-D DMDA (KSPSetDM)");
    NEUROPS_PETSC(VecSet(x, 0.0));
    impose_dirichlet(guess->ksp->dm, DirichletNodes::box(s.boundary), x);
  } else {
    apply(*s.model, *s.bridge, b, *s.bridge, x, nodes);
  }
  // Damped Jacobi on the guess: removes the high-frequency error the network leaves.
  for (PetscInt k = 0; k < s.smooth; ++k) {
    NEUROPS_PETSC(MatMult(A, x, s.residual));
    NEUROPS_PETSC(VecAYPX(s.residual, -1.0, b));
    NEUROPS_PETSC(VecPointwiseDivide(s.residual, s.residual, s.diagonal));
    NEUROPS_PETSC(VecAXPY(x, s.omega, s.residual));
  }
  ++s.applications;
  s.seconds += timer.seconds();
  if (s.view) {
    NEUROPS_PETSC(MatMult(A, x, s.residual));
    NEUROPS_PETSC(VecAYPX(s.residual, -1.0, b));
    PetscReal r = 0, bn = 0;
    NEUROPS_PETSC(VecNorm(s.residual, NORM_2, &r));
    NEUROPS_PETSC(VecNorm(b, NORM_2, &bn));
    NEUROPS_PETSC(PetscPrintf(PetscObjectComm(reinterpret_cast<PetscObject>(guess)),
                              "ksp guess neurops: ||b - A x0|| / ||b|| = %.4e (x0 = 0: 1), %" PetscInt_FMT
                              " smoothing sweeps\n",
                              double(bn > 0 ? r / bn : 0), s.smooth));
  }
}

PetscErrorCode formguess(KSPGuess guess, Vec b, Vec x) {
  PetscFunctionBeginUser;
  KSPGUESS_NEUROPS_TRY(guess, { form_guess(guess, b, x); })
  PetscFunctionReturn(0);
}

PetscErrorCode update(KSPGuess, Vec, Vec) {
  PetscFunctionBeginUser;  // the model does not learn from the solves
  PetscFunctionReturn(0);
}

PetscErrorCode set_from_options(KSPGuess guess) {
  PetscFunctionBeginUser;
  GuessNeurops* s = data_of(guess);
  PetscOptionsBegin(PetscObjectComm((PetscObject)guess), ((PetscObject)guess)->prefix,
                    "KSPGuess neurops options (initial guess from a trained operator b -> x)", "KSPGuess");
  char model[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(model, s->model_path.c_str(), sizeof model));
  PetscBool set = PETSC_FALSE;
  PetscCall(PetscOptionsString("-ksp_guess_neurops_model", "Trained operator from b to x (HDF5 checkpoint)", "KSPGuess",
                               model, model, sizeof model, &set));
  if (set && s->model_path != model) {
    s->model_path = model;
    s->dirty = true;
  }
  const char* kinds[] = {"box", "none"};
  PetscInt kind = s->box_dirichlet ? 0 : 1;
  PetscCall(PetscOptionsEList("-ksp_guess_neurops_dirichlet", "Guess on the DMDA's box faces: b_i/A_ii or the model's",
                              "KSPGuess", kinds, 2, kinds[kind], &kind, nullptr));
  s->box_dirichlet = kind == 0;
  PetscCall(PetscOptionsInt("-ksp_guess_neurops_smooth", "Damped Jacobi sweeps applied to the guess", "KSPGuess",
                            s->smooth, &s->smooth, nullptr));
  PetscCall(PetscOptionsReal("-ksp_guess_neurops_omega", "Damping of the Jacobi sweeps", "KSPGuess", s->omega,
                             &s->omega, nullptr));
  PetscCall(
      PetscOptionsBool("-ksp_guess_neurops_boundary_only",
                       "No model: b_i/A_ii on the box faces, 0 inside (the baseline that shows what the model adds)",
                       "KSPGuess", s->boundary_only, &s->boundary_only, nullptr));
  PetscCall(PetscOptionsBool("-ksp_guess_neurops_view", "Print the relative residual of every guess", "KSPGuess",
                             s->view, &s->view, nullptr));
  PetscOptionsEnd();
  PetscCheck(s->smooth >= 0, PetscObjectComm((PetscObject)guess), PETSC_ERR_ARG_OUTOFRANGE,
             "-ksp_guess_neurops_smooth: expected a number of sweeps >= 0, found %" PetscInt_FMT, s->smooth);
  PetscFunctionReturn(0);
}

PetscErrorCode view(KSPGuess guess, PetscViewer viewer) {
  PetscFunctionBeginUser;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  const GuessNeurops* s = data_of(guess);
  if (ascii) {
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "  neurops model %s (%s), %ld guesses in %.3g s, dirichlet %s, %" PetscInt_FMT " smoothing sweeps\n",
        s->model_path.c_str(), s->model ? s->model->type().c_str() : "not loaded", s->applications, s->seconds,
        s->box_dirichlet ? "box" : "none", s->smooth));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode destroy(KSPGuess guess) {
  PetscFunctionBeginUser;
  delete data_of(guess);
  guess->data = nullptr;
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode KSPGuessCreate_Neurops(KSPGuess guess) {
  PetscFunctionBeginUser;
  guess->data = new GuessNeurops();
  guess->ops->formguess = formguess;
  guess->ops->update = update;
  guess->ops->setfromoptions = set_from_options;
  guess->ops->view = view;
  guess->ops->destroy = destroy;
  PetscFunctionReturn(0);
}

}  // namespace neurops::solvers
