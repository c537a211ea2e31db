#pragma once
// Training the DCDM network (the reference's src/datasetcreate.py and src/train.py):
//
//   DcdmDataConfig d;  d.n = 32;  d.samples = 400;
//   generate_dcdm_box_data("data.h5", d);                 // resumable, HDF5 /b (S, 1, n, n, n)
//   PetscDM grid = pde::dirichlet_grid_3d(PETSC_COMM_SELF, 32, 32, 32);
//   PetscMat A = pde::assemble_laplacian(grid);
//   DcdmLoss<float> loss(A);                              // ||b - alpha A q||^2, alpha = q.b / q.Aq
//   ... nn::Trainer over a FieldDataset with inputs = targets = b, identity normalizers
//
// Data. The reference runs m = 10000 Lanczos steps on A (from A*randn), takes the Ritz vectors (Ritz
// values below 1e-8 dropped) and draws b = sum_j c_j v_j, c_j ~ N(0,1) except 9 N(0,1) for the
// lowest m/2 + theta (theta = 500), then b /= ||b||. Storing 10000 vectors of 64^3 doubles needs
// ~21 GB. For the uniform Dirichlet box the eigenvectors are the discrete sine modes, so we use the
// exact ones instead of Ritz approximations and synthesise each b with one 3-D DST-I (FFTW RODFT00)
// of its coefficient array: no basis is stored. The m modes are chosen where the Ritz values of a long
// Lanczos run sit: at the Chebyshev (arcsine) points of the spectral interval, each taken by the
// nearest eigenvalue not yet used, so both ends of the spectrum are resolved exactly as converged
// Ritz pairs are. Matrices with solid cells (no sine basis) are not covered here.
#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "neurops/core/petsc.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/operators/dcdm_net.hpp"

namespace neurops::solvers {

struct DcdmDataConfig {
  index_t n = 32;          // interior grid points per side of the box
  index_t samples = 400;   // right-hand sides
  index_t modes = 0;       // m; 0: min(10000, n^3 / 4)
  index_t theta = -1;      // lowest m/2 + theta modes weighted; -1: m/20 (500 for m = 10000)
  double low_weight = 9;   // weight of those modes' coefficients
  std::uint64_t seed = 0;  // sample i draws from Rng(seed) advanced to its own stream: resumable
  index_t resolved_modes() const;
  index_t resolved_theta() const;
  void validate() const;
};

/// Mode numbers (kx, ky, kz), each in 1..n, of the m selected sine modes, sorted by eigenvalue
/// (ascending) of the unit-spacing 7-point Laplacian: lambda = sum over axes of 2 - 2 cos(k pi/(n+1)).
std::vector<std::array<int, 3>> dcdm_select_modes(index_t n, index_t m);

/// One right-hand side (n^3, z-major then y then x) from the mode coefficients: b = DST-I(c) / ||.||.
/// `coefficients` is (n, n, n) indexed [kz-1][ky-1][kx-1].
std::vector<double> dcdm_synthesise(index_t n, const std::vector<double>& coefficients);

/// Writes (or extends) dataset /b of shape (samples, 1, n, n, n), float32, with the configuration as
/// attributes. An existing file with the same configuration is resumed where it stopped; another
/// configuration is an Error naming the attribute that differs. Prints progress with ETA.
void generate_dcdm_box_data(const std::filesystem::path& file, const DcdmDataConfig& config, bool verbose = true);

/// The reference's unsupervised loss, mean over the batch of ||b - alpha A q||^2 with
/// alpha = q.b / q.Aq, q the prediction and b the target (= the input). Scale-invariant in q.
/// A is a sequential PETSc matrix of the training grid; the gradient uses A^T (MatMultTranspose).
template <class T>
class DcdmLoss : public nn::Loss<T> {
 public:
  explicit DcdmLoss(Mat A);
  double evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const override;
  std::string name() const override { return "DcdmLoss"; }

 private:
  PetscMat A_;
  PetscVec q_, b_, aq_, work_;  // sequential work vectors (PETSc scalars)
};

extern template class DcdmLoss<float>;
extern template class DcdmLoss<double>;

/// The reference's training settings (Adam 1e-4, batch 10, best model kept), scaled by the caller.
struct DcdmTrainConfig {
  std::int64_t epochs = 10;
  index_t batch = 10;
  double lr = 1e-4;
  double validation_fraction = 0.1;  // of the data file's samples (the reference holds out 10%)
  std::uint64_t seed = 0;            // split and batch order
  std::filesystem::path work_dir;    // Trainer logs and checkpoint.h5 (resumed when present)
  bool verbose = true;
};

struct DcdmTrainResult {
  double seconds = 0;
  double best_validation_loss = 0;
  std::int64_t best_epoch = -1, epochs = 0;
  index_t train_samples = 0, validation_samples = 0;
};

/// Trains `net` on dataset /b of `data` (inputs = targets = b, identity normalizers) with DcdmLoss on
/// the 7-point Dirichlet Laplacian of the data's grid, keeps the epoch with the lowest validation
/// loss, and writes it to `model` as a standard checkpoint (model_type DCDMNet3d, /config,
/// /parameters) with the data and training settings as root attributes. Resumes from
/// work_dir/checkpoint.h5 when it exists.
DcdmTrainResult train_dcdm(operators::DcdmNet<float>& net, const std::filesystem::path& data,
                           const DcdmTrainConfig& config, const std::filesystem::path& model);

}  // namespace neurops::solvers
