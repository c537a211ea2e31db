#pragma once
// SOR as a solver and SSOR-preconditioned CG, counted exactly as in Learning to Relax (Khodak et
// al., ICLR 2024, solvers/sor.m and ssor_pcg.m), on PETSc AIJ matrices with in-house sweep kernels
// on the CSR arrays.
//
// SOR: x <- x + (D/omega + L)^{-1} r with the true residual r = b - A x recomputed after every
// sweep; stop when |r| / |r0| < rtol (1e-8) or after max_it (10000) sweeps; x0 = 0 by default.
// SSOR-PCG: CG preconditioned by M = (D + omega U) D^{-1} (D + omega L) / (omega (2 - omega)), the
// scaling that makes M -> A-consistent; stop when |r| <= rtol |b| (MATLAB pcg's convention), with
// warm starts allowed.
//
// Parallel semantics (MPIAIJ): the sweeps run on each rank's diagonal block only, i.e. the
// preconditioner is block Jacobi over ranks with SOR/SSOR inside each block (PETSc's "local"
// SOR). Residuals and norms are global, so the stopping test is exact; iteration counts grow
// with the number of ranks as for any block-Jacobi method.
#include <string>
#include <vector>

#include "neurops/core/petsc.hpp"

namespace neurops::solvers {

/// Read-only CSR view of the rank-local diagonal block of a SEQAIJ or MPIAIJ matrix, with the
/// position of each diagonal entry. Restores PETSc's arrays on destruction.
class LocalCsr {
 public:
  explicit LocalCsr(Mat A);
  ~LocalCsr();
  LocalCsr(const LocalCsr&) = delete;
  LocalCsr& operator=(const LocalCsr&) = delete;
  PetscInt rows() const { return n_; }
  const PetscInt* row_start() const { return ia_; }
  const PetscInt* columns() const { return ja_; }
  const PetscScalar* values() const { return a_; }
  const std::vector<PetscInt>& diagonal_index() const { return diag_; }
  PetscScalar diagonal(PetscInt i) const { return a_[diag_[static_cast<std::size_t>(i)]]; }

  /// z = omega (D + omega L)^{-1} r, i.e. (D/omega + L) z = r: one forward SOR correction.
  void forward_solve(double omega, const PetscScalar* r, PetscScalar* z) const;
  /// z = omega (D + omega U)^{-1} r: one backward SOR correction.
  void backward_solve(double omega, const PetscScalar* r, PetscScalar* z) const;
  /// z = M^{-1} r for the SSOR preconditioner M = (D + wU) D^{-1} (D + wL) / (w (2 - w)).
  void ssor_apply(double omega, const PetscScalar* r, PetscScalar* z, PetscScalar* work) const;

 private:
  void release() noexcept;
  bool rows_sorted() const;
  void sort_rows();  // own copies of the column and value arrays, sorted by column within each row
  Mat block_ = nullptr;
  PetscInt n_ = 0;
  const PetscInt *ia_ = nullptr, *ja_ = nullptr;  // what the kernels read: PETSc's arrays or the sorted copies
  const PetscScalar* a_ = nullptr;
  const PetscInt* borrowed_ja_ = nullptr;  // PETSc's own arrays, returned by release()
  const PetscScalar* borrowed_a_ = nullptr;
  std::vector<PetscInt> diag_;
  std::vector<PetscScalar> inv_diag_;
  std::vector<PetscInt> sorted_ja_;  // used only when PETSc's rows are not sorted (e.g. a loaded file)
  std::vector<PetscScalar> sorted_a_;
};

struct RelaxationSettings {
  double rtol = 1e-8;
  PetscInt max_it = 10000;
  /// Use x as given (warm start); otherwise x is zeroed first.
  bool nonzero_guess = false;
};

struct RelaxationResult {
  PetscInt iterations = 0;
  bool converged = false;
  /// |r| / |r0| for SOR, |r| / |b| for SSOR-PCG (true residual at exit).
  double relative_residual = 0;
  double seconds = 0;
  /// Set when CG met p^T A p <= 0 (the matrix is not SPD): the solve stops there.
  bool breakdown = false;
  std::string message;
};

/// Checks omega in (0, 2), a square AIJ matrix and nonzero diagonal entries; throws neurops::Error.
void check_relaxation_input(Mat A, double omega, const char* what);

/// SOR iterations counted as in the paper (see file comment).
RelaxationResult sor_solve(Mat A, Vec b, Vec x, double omega, const RelaxationSettings& settings = {});
/// SSOR-preconditioned CG (see file comment). Non-SPD input shows as breakdown = true.
RelaxationResult ssor_pcg_solve(Mat A, Vec b, Vec x, double omega, const RelaxationSettings& settings = {});

/// Spectral radius of the Jacobi iteration matrix I - D^{-1} A of a symmetric matrix with a positive
/// diagonal: dense eigen-decomposition up to 1500 unknowns, Lanczos on D^{-1/2} A D^{-1/2} beyond.
double jacobi_spectral_radius(Mat A);
/// min_i (a_ii - sum_{j != i} |a_ij|) over all rows (global in parallel): exactly c for A = L + c I
/// with L a Dirichlet Laplacian stencil; the default context of the tuners for unknown matrices.
double diagonal_shift_estimate(Mat A);
/// Young's optimal SOR parameter 1 + (beta / (1 + sqrt(1 - beta^2)))^2 for beta = rho(Jacobi) < 1.
double young_optimal_omega(double rho_jacobi);

}  // namespace neurops::solvers
