#pragma once
// The Deep Conjugate Direction Method's network inside PETSc: DcdmDirection applies a trained
// DcdmNet to a residual held in a 3-D DMDA Vec, q = f(r / ||r||), for the KSP type "dcdm"
// (ksp_dcdm.hpp) and the PC type "dcdm" (pc_dcdm.hpp).
//
//   DcdmDirection net;
//   net.load(default_dcdm_model(), DcdmPrecision::single);
//   net.setup(dm, "-ksp_dcdm_model");      // checks: 3-D DMDA, one dof, even sides
//   net.apply(r, q);                        // q = f(r / ||r||), same layout as r
//
// Distributed DMDAs: the residual is gathered in natural (z, y, x) order on rank 0, the network runs
// there (OpenMP threads), and the direction is scattered back. The result therefore does not depend
// on how the grid is split over ranks; the network's work is not distributed (no halo exchange).
#include <petscdm.h>
#include <petscvec.h>

#include <memory>
#include <string>

#include "neurops/core/petsc.hpp"
#include "neurops/operators/dcdm_net.hpp"

namespace neurops::solvers {

enum class DcdmPrecision { single, dual };

/// "single" or "double" -> precision; Error naming `option` otherwise.
DcdmPrecision dcdm_precision_from_string(const std::string& name, const std::string& option);
std::string to_string(DcdmPrecision p);

/// The shipped model for the 7-point Dirichlet Poisson problem: $NEUROPS_DCDM_MODEL if set, else
/// share/neurops/models beside the loaded libneurops.so (an installed tree, wherever it was moved),
/// else the configured install prefix's copy, else the source tree's models/ folder. Returns "" when
/// none exists.
std::string default_dcdm_model();

class DcdmDirection {
 public:
  DcdmDirection() = default;
  ~DcdmDirection();
  DcdmDirection(const DcdmDirection&) = delete;
  DcdmDirection& operator=(const DcdmDirection&) = delete;

  /// Loads the network (Error naming `option` and the file when missing or of another model type).
  void load(const std::string& path, DcdmPrecision precision, const std::string& option);
  /// Takes the grid from `dm`: Error naming `who` unless it is a 3-D DMDA with one dof and even
  /// sides. Rebuilds the gather/scatter when the grid changed.
  void setup(DM dm, const std::string& who);
  /// q = f(r / ||r||). r and q are global vectors of the DMDA given to setup(); rnorm = ||r||
  /// (computed when negative). A zero residual gives q = 0.
  void apply(Vec r, Vec q, PetscReal rnorm = -1);

  bool loaded() const noexcept { return f32_ || f64_; }
  const std::string& model_path() const noexcept { return path_; }
  DcdmPrecision precision() const noexcept { return precision_; }
  /// One line for -ksp_view / -pc_view: model, precision, grid, applications, seconds.
  std::string describe() const;
  long applications() const noexcept { return applications_; }
  double seconds() const noexcept { return seconds_; }

 private:
  void run_network(const PetscScalar* in, PetscScalar* out, PetscReal scale);

  std::string path_;
  DcdmPrecision precision_ = DcdmPrecision::single;
  std::unique_ptr<operators::DcdmNet<float>> f32_;
  std::unique_ptr<operators::DcdmNet<double>> f64_;
  DM dm_ = nullptr;  // not owned: the KSP/PC holds it
  PetscInt nx_ = 0, ny_ = 0, nz_ = 0;
  PetscVec natural_, gathered_;
  VecScatter scatter_ = nullptr;  // natural -> rank 0 (VecScatter has no PetscHandle overload)
  long applications_ = 0;
  double seconds_ = 0;
};

}  // namespace neurops::solvers
