#include "neurops/core/petsc.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include "neurops/core/option_report.hpp"

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

namespace {
// What PETSc prints through PetscHelpPrintf while it starts: with -help, its ~70 lines of options for
// all programs, which would otherwise come before the program's own options.
std::string* g_help_capture = nullptr;

PetscErrorCode capture_help(MPI_Comm comm, const char format[], ...) {
  PetscMPIInt rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0 || !g_help_capture) return 0;
  char buf[4096];
  std::va_list args;
  va_start(args, format);
  const PetscErrorCode ierr = PetscVSNPrintf(buf, sizeof buf, format, nullptr, args);
  va_end(args);
  if (!ierr) *g_help_capture += buf;
  return 0;
}

/// "-help intro" makes PETSc print the description and exit inside PetscInitialize: nothing to defer.
bool help_intro(int* argc, char*** argv) {
  if (!argc || !argv) return false;
  for (int i = 1; i + 1 < *argc; ++i)
    if (std::strcmp((*argv)[i], "-help") == 0 && std::strcmp((*argv)[i + 1], "intro") == 0) return true;
  return false;
}
}  // namespace

PetscSession::PetscSession(int* argc, char*** argv, const char* help) {
  PetscBool initialised = PETSC_FALSE;
  PetscInitialized(&initialised);
  if (initialised) return;
  const bool capture = !help_intro(argc, argv);
  auto* const default_help_printf = PetscHelpPrintf;
  if (capture) {
    g_help_capture = &petsc_help_;
    PetscHelpPrintf = capture_help;
  }
  // The description is printed below, above the program's options.
  const PetscErrorCode ierr = PetscInitialize(argc, argv, nullptr, capture ? nullptr : help);
  PetscHelpPrintf = default_help_printf;
  g_help_capture = nullptr;
  NEUROPS_CHECK(ierr == 0, "PetscInitialize failed with error " << ierr);
  owns_ = true;
  PetscBool h = PETSC_FALSE, hh = PETSC_FALSE;
  PetscOptionsHasName(nullptr, nullptr, "-help", &h);
  PetscOptionsHasName(nullptr, nullptr, "-h", &hh);
  help_ = h || hh;
  if (!help_) {  // not help (-version, ...): printed now, as PETSc would have
    if (!petsc_help_.empty()) PetscPrintf(PETSC_COMM_WORLD, "%s", petsc_help_.c_str());
    petsc_help_.clear();
    return;
  }
  // The description opens the help; PETSc's generic block moves to the end.
  std::string first = help && *help ? help : "Options";
  while (!first.empty() && first.back() == '\n') first.pop_back();
  PetscPrintf(PETSC_COMM_WORLD, "%s\n(this program's options first; PETSc's options for all programs at the end)\n",
              first.c_str());
}

PetscSession::PetscSession() : PetscSession(nullptr, nullptr, nullptr) {}

PetscSession::~PetscSession() {
  if (!owns_) return;
  try {
    if (help_ && !petsc_help_.empty())  // empty with -h, which PETSc does not answer
      PetscPrintf(PETSC_COMM_WORLD, "PETSc's options for all programs:\n%s", petsc_help_.c_str());
    else
      report_unused_options(PETSC_COMM_WORLD);
  } catch (const std::exception& e) {  // a destructor cannot throw; the report is only a warning
    std::fprintf(stderr, "warning: could not report unused options: %s\n", e.what());
  }
  PetscFinalize();
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
