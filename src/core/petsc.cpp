#include "neurops/core/petsc.hpp"

#include <string>

namespace neurops {

namespace {
thread_local std::string g_petsc_message;  // first (innermost) message of the failing call
thread_local bool g_have_message = false;

PetscErrorCode capture_handler(MPI_Comm, int line, const char* fun, const char* file, PetscErrorCode n,
                               PetscErrorType p, const char* mess, void*) {
  if (p == PETSC_ERROR_INITIAL || !g_have_message) {
    const char* generic = nullptr;
    PetscErrorMessage(n, &generic, nullptr);
    g_petsc_message = std::string(mess && *mess ? mess : (generic ? generic : "unknown PETSc error"));
    if (generic && mess && *mess) g_petsc_message += " [" + std::string(generic) + "]";
    g_petsc_message += " (in " + std::string(fun ? fun : "?") + " at " + std::string(file ? file : "?") + ":" +
                       std::to_string(line) + ")";
    g_have_message = true;
  }
  return n;
}
}  // namespace

namespace detail {
PetscErrorCapture::PetscErrorCapture() {
  g_have_message = false;
  PetscPushErrorHandler(capture_handler, nullptr);
}
PetscErrorCapture::~PetscErrorCapture() { PetscPopErrorHandler(); }

void throw_petsc_error(PetscErrorCode code, const char* expr, const char* file, int line) {
  std::string msg = std::string("PETSc call ") + expr + " failed with error " + std::to_string(code) + ": ";
  if (g_have_message) {
    msg += g_petsc_message;
  } else {
    const char* generic = nullptr;
    PetscErrorMessage(code, &generic, nullptr);
    msg += generic ? generic : "unknown PETSc error";
  }
  g_have_message = false;
  throw Error(file, line, msg);
}
}  // namespace detail

void check_petsc(PetscErrorCode code, const char* what) {
  if (code) detail::throw_petsc_error(code, what, __FILE__, __LINE__);
}

PetscSession::PetscSession(int* argc, char*** argv, const char* help) {
  PetscBool initialised = PETSC_FALSE;
  PetscInitialized(&initialised);
  if (initialised) return;
  const PetscErrorCode ierr = PetscInitialize(argc, argv, nullptr, help);
  NEUROPS_CHECK(ierr == 0, "PetscInitialize failed with error " << ierr);
  owns_ = true;
}

PetscSession::PetscSession() : PetscSession(nullptr, nullptr, nullptr) {}

PetscSession::~PetscSession() {
  if (owns_) PetscFinalize();
}

int PetscSession::rank() const {
  PetscMPIInt r = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &r);
  return r;
}
int PetscSession::size() const {
  PetscMPIInt s = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &s);
  return s;
}

}  // namespace neurops
