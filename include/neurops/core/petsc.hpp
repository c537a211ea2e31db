#pragma once
// PETSc glue shared by every area: start-up that respects a host program, PETSc error codes turned
// into neurops::Error carrying PETSc's own message, and RAII handles for PETSc objects.
#include <petscdm.h>
#include <petscksp.h>
#include <petscviewer.h>

#include <string>
#include <utility>

#include "neurops/core/error.hpp"

namespace neurops {

/// Initialises PETSc (and MPI) only if the host has not; finalises only what it initialised.
/// A simulation code that already called PetscInitialize keeps full control of start-up/shut-down.
/// A session that initialised PETSc also
///  - with -help, lists the program's options first: PETSc's generic block (printed during
///    PetscInitialize) is held back and printed when the session ends;
///  - otherwise reports options left unused as warnings at the end (report_unused_options;
///    `-options_left no` turns it off).
class PetscSession {
 public:
  PetscSession(int* argc, char*** argv, const char* help = nullptr);
  /// For library code and tests that have no argv.
  PetscSession();
  ~PetscSession();
  PetscSession(const PetscSession&) = delete;
  PetscSession& operator=(const PetscSession&) = delete;
  bool owns_petsc() const noexcept { return owns_; }
  int rank() const;
  int size() const;

 private:
  bool owns_ = false;
  bool help_ = false;
  std::string petsc_help_;  // PETSc's -help output during PetscInitialize, printed at the end
};

namespace detail {
/// Installs an error handler for the duration of one PETSc call that records PETSc's message
/// instead of printing it, so the exception carries it.
class PetscErrorCapture {
 public:
  PetscErrorCapture();
  ~PetscErrorCapture();
  PetscErrorCapture(const PetscErrorCapture&) = delete;
  PetscErrorCapture& operator=(const PetscErrorCapture&) = delete;
};
[[noreturn]] void throw_petsc_error(PetscErrorCode code, const char* expr, const char* file, int line);
}  // namespace detail

/// Checks a PETSc call: NEUROPS_PETSC(KSPSolve(ksp, b, x)); throws neurops::Error with PETSc's message.
#define NEUROPS_PETSC(expr)                                                                            \
  do {                                                                                                 \
    ::neurops::detail::PetscErrorCapture neurops_capture_;                                             \
    const PetscErrorCode neurops_ierr_ = (expr);                                                       \
    if (neurops_ierr_) ::neurops::detail::throw_petsc_error(neurops_ierr_, #expr, __FILE__, __LINE__); \
  } while (0)

/// Converts a PETSc error code already returned into neurops::Error (for code that calls PETSc
/// with its own checks); a zero code does nothing.
void check_petsc(PetscErrorCode code, const char* what);

inline PetscErrorCode petsc_destroy(Vec* o) { return VecDestroy(o); }
inline PetscErrorCode petsc_destroy(Mat* o) { return MatDestroy(o); }
inline PetscErrorCode petsc_destroy(KSP* o) { return KSPDestroy(o); }
inline PetscErrorCode petsc_destroy(PC* o) { return PCDestroy(o); }
inline PetscErrorCode petsc_destroy(DM* o) { return DMDestroy(o); }
inline PetscErrorCode petsc_destroy(IS* o) { return ISDestroy(o); }
inline PetscErrorCode petsc_destroy(PetscViewer* o) { return PetscViewerDestroy(o); }

/// Owning handle of a PETSc object (Vec, Mat, KSP, PC, DM, IS, PetscViewer). Destroys on scope exit.
template <class H>
class PetscHandle {
 public:
  PetscHandle() = default;
  /// Takes ownership of a handle just created.
  explicit PetscHandle(H h) : h_(h) {}
  /// Shares a handle owned elsewhere (e.g. the PC of a KSP): adds a reference.
  static PetscHandle borrow(H h) {
    if (h) NEUROPS_PETSC(PetscObjectReference(reinterpret_cast<PetscObject>(h)));
    return PetscHandle(h);
  }
  ~PetscHandle() { reset(); }
  PetscHandle(const PetscHandle&) = delete;
  PetscHandle& operator=(const PetscHandle&) = delete;
  PetscHandle(PetscHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  PetscHandle& operator=(PetscHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  void reset() noexcept {
    if (h_) (void)petsc_destroy(&h_);  // destroy errors cannot be thrown from a destructor
    h_ = nullptr;
  }
  H get() const noexcept { return h_; }
  operator H() const noexcept { return h_; }
  /// Address for PETSc's create functions: VecCreate(comm, v.out()).
  H* out() noexcept {
    reset();
    return &h_;
  }
  H release() noexcept { return std::exchange(h_, nullptr); }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  H h_ = nullptr;
};

using PetscVec = PetscHandle<Vec>;
using PetscMat = PetscHandle<Mat>;
using PetscKSP = PetscHandle<KSP>;
using PetscPC = PetscHandle<PC>;
using PetscDM = PetscHandle<DM>;
using PetscIS = PetscHandle<IS>;
using PetscViewerHandle = PetscHandle<PetscViewer>;

}  // namespace neurops
