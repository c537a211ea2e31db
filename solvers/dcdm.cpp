// DcdmDirection: the DCDM network applied to a DMDA residual (see dcdm.hpp).
#include "neurops/solvers/dcdm.hpp"

#include <dlfcn.h>
#include <petscdmda.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "neurops/core/progress.hpp"

#ifndef NEUROPS_MODELS_INSTALL_DIR
#define NEUROPS_MODELS_INSTALL_DIR ""
#endif
#ifndef NEUROPS_MODELS_SOURCE_DIR
#define NEUROPS_MODELS_SOURCE_DIR ""
#endif

namespace neurops::solvers {

DcdmPrecision dcdm_precision_from_string(const std::string& name, const std::string& option) {
  if (name == "single" || name == "float" || name == "float32") return DcdmPrecision::single;
  if (name == "double" || name == "float64") return DcdmPrecision::dual;
  NEUROPS_THROW(option << " " << name << ": expected single or double");
}

std::string to_string(DcdmPrecision p) { return p == DcdmPrecision::single ? "single" : "double"; }

namespace {
/// <dir of libneurops.so>/../share/neurops/models: right wherever the installed tree was moved to.
std::string models_beside_library() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&default_dcdm_model), &info) || !info.dli_fname) return "";
  return (std::filesystem::path(info.dli_fname).parent_path().parent_path() / "share/neurops/models").string();
}
}  // namespace

std::string default_dcdm_model() {
  if (const char* env = std::getenv("NEUROPS_DCDM_MODEL"); env && *env) return env;
  for (const std::string& dir :
       {models_beside_library(), std::string(NEUROPS_MODELS_INSTALL_DIR), std::string(NEUROPS_MODELS_SOURCE_DIR)}) {
    if (dir.empty()) continue;
    const auto path = std::filesystem::path(dir) / "dcdm_poisson.h5";
    if (std::filesystem::exists(path)) return path.string();
  }
  return "";
}

DcdmDirection::~DcdmDirection() {
  if (scatter_) (void)VecScatterDestroy(&scatter_);
}

void DcdmDirection::load(const std::string& path, DcdmPrecision precision, const std::string& option) {
  NEUROPS_CHECK(!path.empty(), option << ": no model file given and no shipped model found (set " << option
                                      << " <file.h5> or NEUROPS_DCDM_MODEL)");
  NEUROPS_CHECK(std::filesystem::exists(path), option << " " << path << ": the file does not exist");
  try {
    if (precision == DcdmPrecision::single) {
      f32_ = std::make_unique<operators::DcdmNet<float>>(operators::load_dcdm_net<float>(path));
      f64_.reset();
    } else {
      f64_ = std::make_unique<operators::DcdmNet<double>>(operators::load_dcdm_net<double>(path));
      f32_.reset();
    }
  } catch (const Error& e) {
    NEUROPS_THROW(option << " " << path << ": " << e.what());
  }
  path_ = path;
  precision_ = precision;
}

void DcdmDirection::setup(DM dm, const std::string& who) {
  NEUROPS_CHECK(dm, who << ": no DM attached; DCDM takes its grid from a 3-D DMDA (KSPSetDM/PCSetDM)");
  PetscBool is_da = PETSC_FALSE;
  NEUROPS_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(dm), DMDA, &is_da));
  const char* type = nullptr;
  NEUROPS_PETSC(DMGetType(dm, &type));
  NEUROPS_CHECK(is_da, who << ": the DM is of type " << (type ? type : "(none)") << ", expected a 3-D DMDA");
  PetscInt dim = 0, mx = 0, my = 0, mz = 0, dof = 0;
  NEUROPS_PETSC(DMDAGetInfo(dm, &dim, &mx, &my, &mz, nullptr, nullptr, nullptr, &dof, nullptr, nullptr, nullptr,
                            nullptr, nullptr));
  NEUROPS_CHECK(dim == 3, who << ": the DMDA is " << dim << "-D, expected 3-D");
  NEUROPS_CHECK(dof == 1, who << ": the DMDA has " << dof << " dof per point, expected 1");
  NEUROPS_CHECK(mx % 2 == 0 && my % 2 == 0 && mz % 2 == 0,
                who << ": the grid " << mx << " x " << my << " x " << mz
                    << " does not fit the network: every side must be even (one 2x2x2 pooling level)");
  if (dm == dm_ && mx == nx_ && my == ny_ && mz == nz_ && scatter_) return;
  dm_ = dm;
  nx_ = mx;
  ny_ = my;
  nz_ = mz;
  if (scatter_) NEUROPS_PETSC(VecScatterDestroy(&scatter_));
  NEUROPS_PETSC(DMDACreateNaturalVector(dm, natural_.out()));
  NEUROPS_PETSC(VecScatterCreateToZero(natural_, &scatter_, gathered_.out()));
}

void DcdmDirection::run_network(const PetscScalar* in, PetscScalar* out, PetscReal scale) {
  const Shape shape{1, 1, nz_, ny_, nx_};
  const index_t n = shape.numel();
  auto run = [&](auto& net, auto zero) {
    using T = decltype(zero);
    Tensor<T> x = Tensor<T>::uninitialized(shape);
    for (index_t i = 0; i < n; ++i) x[i] = static_cast<T>(PetscRealPart(in[i]) * scale);
    const Tensor<T> y = net.forward(x);
    for (index_t i = 0; i < n; ++i) out[i] = static_cast<PetscScalar>(y[i]);
  };
  if (f32_)
    run(*f32_, 0.0f);
  else
    run(*f64_, 0.0);
}

void DcdmDirection::apply(Vec r, Vec q, PetscReal rnorm) {
  NEUROPS_CHECK(loaded(), "DCDM: apply() before a model was loaded");
  NEUROPS_CHECK(scatter_, "DCDM: apply() before setup() took the grid from a DMDA");
  Timer timer;
  if (rnorm < 0) NEUROPS_PETSC(VecNorm(r, NORM_2, &rnorm));
  if (rnorm == 0) {
    NEUROPS_PETSC(VecSet(q, 0.0));
    return;
  }
  // Gather r on rank 0 in natural order, run the network there, scatter the direction back.
  NEUROPS_PETSC(DMDAGlobalToNaturalBegin(dm_, r, INSERT_VALUES, natural_));
  NEUROPS_PETSC(DMDAGlobalToNaturalEnd(dm_, r, INSERT_VALUES, natural_));
  NEUROPS_PETSC(VecScatterBegin(scatter_, natural_, gathered_, INSERT_VALUES, SCATTER_FORWARD));
  NEUROPS_PETSC(VecScatterEnd(scatter_, natural_, gathered_, INSERT_VALUES, SCATTER_FORWARD));
  PetscInt local = 0;
  NEUROPS_PETSC(VecGetLocalSize(gathered_, &local));
  if (local > 0) {
    PetscScalar* a = nullptr;
    NEUROPS_PETSC(VecGetArray(gathered_, &a));
    try {
      run_network(a, a, PetscReal(1) / rnorm);  // the network reads all of `a` before writing it
    } catch (...) {
      (void)VecRestoreArray(gathered_, &a);
      throw;
    }
    NEUROPS_PETSC(VecRestoreArray(gathered_, &a));
  }
  NEUROPS_PETSC(VecScatterBegin(scatter_, gathered_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  NEUROPS_PETSC(VecScatterEnd(scatter_, gathered_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  NEUROPS_PETSC(DMDANaturalToGlobalBegin(dm_, natural_, INSERT_VALUES, q));
  NEUROPS_PETSC(DMDANaturalToGlobalEnd(dm_, natural_, INSERT_VALUES, q));
  ++applications_;
  seconds_ += timer.seconds();
}

std::string DcdmDirection::describe() const {
  std::ostringstream os;
  os << "DCDM network " << (path_.empty() ? "(none loaded)" : path_) << ", " << to_string(precision_)
     << " precision, grid " << nx_ << " x " << ny_ << " x " << nz_ << " (gathered on rank 0), " << applications_
     << " applications in " << seconds_ << " s\n";
  return os.str();
}

}  // namespace neurops::solvers
