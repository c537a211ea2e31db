#include "neurops/solvers/sor.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "neurops/core/progress.hpp"
#include "neurops/core/random.hpp"

namespace neurops::solvers {

namespace {
std::string matrix_type(Mat A) {
  MatType type = nullptr;
  NEUROPS_PETSC(MatGetType(A, &type));
  return type ? type : "(none)";
}

// Borrowed read/write access to a Vec's local array, restored on scope exit.
class ArrayRead {
 public:
  explicit ArrayRead(Vec v) : v_(v) { NEUROPS_PETSC(VecGetArrayRead(v_, &p_)); }
  ~ArrayRead() { (void)VecRestoreArrayRead(v_, &p_); }
  const PetscScalar* get() const { return p_; }

 private:
  Vec v_;
  const PetscScalar* p_ = nullptr;
};
class ArrayWrite {
 public:
  explicit ArrayWrite(Vec v) : v_(v) { NEUROPS_PETSC(VecGetArray(v_, &p_)); }
  ~ArrayWrite() { (void)VecRestoreArray(v_, &p_); }
  PetscScalar* get() const { return p_; }

 private:
  Vec v_;
  PetscScalar* p_ = nullptr;
};

void residual(Mat A, Vec b, Vec x, Vec r) {  // r = b - A x
  NEUROPS_PETSC(MatMult(A, x, r));
  NEUROPS_PETSC(VecAYPX(r, -1.0, b));
}
double norm2(Vec v) {
  PetscReal n = 0;
  NEUROPS_PETSC(VecNorm(v, NORM_2, &n));
  return n;
}
}  // namespace

LocalCsr::LocalCsr(Mat A) {
  const std::string type = matrix_type(A);
  if (type == MATSEQAIJ) {
    block_ = A;
  } else if (type == MATMPIAIJ) {
    Mat off = nullptr;
    const PetscInt* colmap = nullptr;
    NEUROPS_PETSC(MatMPIAIJGetSeqAIJ(A, &block_, &off, &colmap));
  } else {
    NEUROPS_THROW("SOR kernels: expected an AIJ matrix (seqaij or mpiaij), found type '"
                  << type << "'; convert it with MatConvert(A, MATAIJ, ...) first");
  }
  PetscBool done = PETSC_FALSE;
  NEUROPS_PETSC(MatGetRowIJ(block_, 0, PETSC_FALSE, PETSC_FALSE, &n_, &ia_, &borrowed_ja_, &done));
  NEUROPS_CHECK(done, "SOR kernels: MatGetRowIJ could not expose the CSR arrays of the " << type << " matrix");
  NEUROPS_PETSC(MatSeqAIJGetArrayRead(block_, &borrowed_a_));
  ja_ = borrowed_ja_;
  a_ = borrowed_a_;
  // The sweeps take the entries left of the diagonal as L and those right of it as U, so each row's
  // columns must be increasing. MatSetValues keeps them so, but MatLoad takes a file's order as it is:
  // a file with decreasing columns made SOR diverge. Such rows are sorted into a private copy.
  if (!rows_sorted()) {
    try {
      sort_rows();
    } catch (...) {
      release();
      throw;
    }
  }
  diag_.assign(static_cast<std::size_t>(n_), -1);
  for (PetscInt i = 0; i < n_; ++i) {
    for (PetscInt k = ia_[i]; k < ia_[i + 1]; ++k)
      if (ja_[k] == i) diag_[static_cast<std::size_t>(i)] = k;
    if (diag_[static_cast<std::size_t>(i)] < 0 || a_[diag_[static_cast<std::size_t>(i)]] == 0.0) {
      PetscInt rstart = 0;
      NEUROPS_PETSC(MatGetOwnershipRange(A, &rstart, nullptr));
      const PetscInt row = rstart + i;
      release();
      NEUROPS_THROW("SOR kernels: row " << row << " has a zero or missing diagonal entry; SOR needs a_ii != 0");
    }
  }
  // Reciprocals keep the division out of the sweeps' row-to-row dependency chain.
  inv_diag_.resize(static_cast<std::size_t>(n_));
  for (PetscInt i = 0; i < n_; ++i)
    inv_diag_[static_cast<std::size_t>(i)] = 1.0 / a_[diag_[static_cast<std::size_t>(i)]];
}

bool LocalCsr::rows_sorted() const {
  for (PetscInt i = 0; i < n_; ++i)
    for (PetscInt k = ia_[i] + 1; k < ia_[i + 1]; ++k)
      if (ja_[k - 1] >= ja_[k]) return false;
  return true;
}

void LocalCsr::sort_rows() {
  const auto nnz = static_cast<std::size_t>(ia_[n_]);
  sorted_ja_.resize(nnz);
  sorted_a_.resize(nnz);
  std::vector<PetscInt> order;
  for (PetscInt i = 0; i < n_; ++i) {
    order.resize(static_cast<std::size_t>(ia_[i + 1] - ia_[i]));
    std::iota(order.begin(), order.end(), ia_[i]);
    std::stable_sort(order.begin(), order.end(), [&](PetscInt x, PetscInt y) { return ja_[x] < ja_[y]; });
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto dst = static_cast<std::size_t>(ia_[i]) + k;
      sorted_ja_[dst] = ja_[order[k]];
      sorted_a_[dst] = a_[order[k]];
      NEUROPS_CHECK(k == 0 || sorted_ja_[dst - 1] != sorted_ja_[dst],
                    "SOR kernels: local row " << i << " holds column " << sorted_ja_[dst] << " twice");
    }
  }
  // The borrowed arrays stay borrowed (release() returns them); the sweeps read the sorted copies.
  ja_ = sorted_ja_.data();
  a_ = sorted_a_.data();
}

LocalCsr::~LocalCsr() { release(); }

void LocalCsr::release() noexcept {
  if (!block_) return;
  if (borrowed_a_) (void)MatSeqAIJRestoreArrayRead(block_, &borrowed_a_);
  PetscBool done = PETSC_FALSE;
  if (ia_) (void)MatRestoreRowIJ(block_, 0, PETSC_FALSE, PETSC_FALSE, &n_, &ia_, &borrowed_ja_, &done);
  a_ = borrowed_a_ = nullptr;
  ia_ = ja_ = borrowed_ja_ = nullptr;
  block_ = nullptr;
}

void LocalCsr::forward_solve(double omega, const PetscScalar* r, PetscScalar* z) const {
  for (PetscInt i = 0; i < n_; ++i) {
    const PetscInt d = diag_[static_cast<std::size_t>(i)];
    PetscScalar s = r[i];
    for (PetscInt k = ia_[i]; k < d; ++k) s -= a_[k] * z[ja_[k]];
    // Columns are sorted (by PETSc or by sort_rows()): entries left of the diagonal are the L part.
    z[i] = s * (omega * inv_diag_[static_cast<std::size_t>(i)]);
  }
}

void LocalCsr::backward_solve(double omega, const PetscScalar* r, PetscScalar* z) const {
  for (PetscInt i = n_ - 1; i >= 0; --i) {
    const PetscInt d = diag_[static_cast<std::size_t>(i)];
    PetscScalar s = r[i];
    for (PetscInt k = d + 1; k < ia_[i + 1]; ++k) s -= a_[k] * z[ja_[k]];
    z[i] = s * (omega * inv_diag_[static_cast<std::size_t>(i)]);
  }
}

void LocalCsr::ssor_apply(double omega, const PetscScalar* r, PetscScalar* z, PetscScalar* work) const {
  // work = y = omega (D + wU)^{-1} r (backward sweep). The forward solve of
  // (D + wL) z = w (2 - w) D (D + wU)^{-1} r = (2 - w) D y then reads, row by row,
  //   z_i = (2 - w) y_i - w / a_ii sum_{j<i} a_ij z_j,
  // which gives z = M^{-1} r for M = (D + wU) D^{-1} (D + wL) / (w (2 - w)) in two sweeps.
  backward_solve(omega, r, work);
  const double c = 2.0 - omega;
  for (PetscInt i = 0; i < n_; ++i) {
    const PetscInt d = diag_[static_cast<std::size_t>(i)];
    PetscScalar s = 0;
    for (PetscInt k = ia_[i]; k < d; ++k) s += a_[k] * z[ja_[k]];
    z[i] = c * work[i] - omega * inv_diag_[static_cast<std::size_t>(i)] * s;
  }
}

void check_relaxation_input(Mat A, double omega, const char* what) {
  NEUROPS_CHECK(std::isfinite(omega) && omega > 0.0 && omega < 2.0,
                what << ": relaxation parameter omega must lie in (0, 2), found " << omega);
  PetscInt m = 0, n = 0;
  NEUROPS_PETSC(MatGetSize(A, &m, &n));
  NEUROPS_CHECK(m == n, what << ": expected a square matrix, found " << m << " x " << n);
}

RelaxationResult sor_solve(Mat A, Vec b, Vec x, double omega, const RelaxationSettings& settings) {
  check_relaxation_input(A, omega, "sor_solve");
  NEUROPS_CHECK(settings.max_it >= 1 && settings.rtol > 0,
                "sor_solve: expected max_it >= 1 and rtol > 0, found " << settings.max_it << ", " << settings.rtol);
  Timer timer;
  const LocalCsr csr(A);
  PetscVec r, z;
  NEUROPS_PETSC(VecDuplicate(b, r.out()));
  NEUROPS_PETSC(VecDuplicate(b, z.out()));
  if (!settings.nonzero_guess) NEUROPS_PETSC(VecZeroEntries(x));
  residual(A, b, x, r);
  const double norm0 = norm2(r);
  RelaxationResult out;
  if (norm0 == 0.0) {
    out.converged = true;
    out.seconds = timer.seconds();
    return out;
  }
  double rel = 1.0;
  for (PetscInt k = 1; k <= settings.max_it; ++k) {
    {
      const ArrayRead rr(r);
      const ArrayWrite zz(z);
      csr.forward_solve(omega, rr.get(), zz.get());
    }
    NEUROPS_PETSC(VecAXPY(x, 1.0, z));
    residual(A, b, x, r);
    rel = norm2(r) / norm0;
    out.iterations = k;
    if (!std::isfinite(rel)) {
      out.message = "SOR diverged: the residual became non-finite at iteration " + std::to_string(k);
      break;
    }
    if (rel < settings.rtol) {
      out.converged = true;
      break;
    }
  }
  out.relative_residual = rel;
  if (!out.converged && out.message.empty()) {
    std::ostringstream os;
    os << "SOR did not converge in " << settings.max_it << " iterations (|r|/|r0| = " << rel << ", omega = " << omega
       << ")";
    out.message = os.str();
  }
  out.seconds = timer.seconds();
  return out;
}

RelaxationResult ssor_pcg_solve(Mat A, Vec b, Vec x, double omega, const RelaxationSettings& settings) {
  check_relaxation_input(A, omega, "ssor_pcg_solve");
  NEUROPS_CHECK(settings.max_it >= 1 && settings.rtol > 0, "ssor_pcg_solve: expected max_it >= 1 and rtol > 0, found "
                                                               << settings.max_it << ", " << settings.rtol);
  Timer timer;
  const LocalCsr csr(A);
  PetscVec r, z, p, q, work;
  for (PetscVec* v : {&r, &z, &p, &q, &work}) NEUROPS_PETSC(VecDuplicate(b, v->out()));
  auto precondition = [&]() {  // z = M^{-1} r
    const ArrayRead rr(r);
    const ArrayWrite zz(z), ww(work);
    csr.ssor_apply(omega, rr.get(), zz.get(), ww.get());
  };
  if (!settings.nonzero_guess) NEUROPS_PETSC(VecZeroEntries(x));
  RelaxationResult out;
  const double norm_b = norm2(b);
  if (norm_b == 0.0) {  // the solution is zero
    NEUROPS_PETSC(VecZeroEntries(x));
    out.converged = true;
    out.seconds = timer.seconds();
    return out;
  }
  const double target = settings.rtol * norm_b;
  residual(A, b, x, r);
  double rnorm = norm2(r);
  if (rnorm <= target) {
    out.converged = true;
    out.relative_residual = rnorm / norm_b;
    out.seconds = timer.seconds();
    return out;
  }
  precondition();
  PetscScalar rz = 0;
  NEUROPS_PETSC(VecDot(r, z, &rz));
  NEUROPS_PETSC(VecCopy(z, p));
  for (PetscInt k = 1; k <= settings.max_it; ++k) {
    out.iterations = k;
    NEUROPS_PETSC(MatMult(A, p, q));
    PetscScalar pq = 0;
    NEUROPS_PETSC(VecDot(p, q, &pq));
    if (!(pq > 0.0)) {  // also catches NaN
      out.breakdown = true;
      std::ostringstream os;
      os << "SSOR-PCG breakdown at iteration " << k << ": p^T A p = " << pq
         << " <= 0, the matrix is not symmetric positive definite";
      out.message = os.str();
      break;
    }
    const PetscScalar alpha = rz / pq;
    NEUROPS_PETSC(VecAXPY(x, alpha, p));
    NEUROPS_PETSC(VecAXPY(r, -alpha, q));
    rnorm = norm2(r);
    if (rnorm <= target) {
      residual(A, b, x, r);  // confirm on the true residual, as MATLAB's pcg does
      rnorm = norm2(r);
      if (rnorm <= target) {
        out.converged = true;
        break;
      }
    }
    precondition();
    PetscScalar rz_next = 0;
    NEUROPS_PETSC(VecDot(r, z, &rz_next));
    if (!(rz_next > 0.0)) {
      out.breakdown = true;
      std::ostringstream os;
      os << "SSOR-PCG breakdown at iteration " << k << ": r^T M^{-1} r = " << rz_next
         << " <= 0, the SSOR preconditioner is not positive definite (non-positive diagonal?)";
      out.message = os.str();
      break;
    }
    NEUROPS_PETSC(VecAYPX(p, rz_next / rz, z));
    rz = rz_next;
  }
  out.relative_residual = rnorm / norm_b;
  if (!out.converged && out.message.empty()) {
    std::ostringstream os;
    os << "SSOR-PCG did not converge in " << settings.max_it << " iterations (|r|/|b| = " << out.relative_residual
       << ", omega = " << omega << ")";
    out.message = os.str();
  }
  out.seconds = timer.seconds();
  return out;
}

double jacobi_spectral_radius(Mat A) {
  PetscInt m = 0, n = 0;
  NEUROPS_PETSC(MatGetSize(A, &m, &n));
  NEUROPS_CHECK(m == n, "jacobi_spectral_radius: expected a square matrix, found " << m << " x " << n);
  PetscMPIInt size = 1;
  MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(A));
  MPI_Comm_size(comm, &size);
  PetscVec d;
  NEUROPS_PETSC(MatCreateVecs(A, d.out(), nullptr));
  NEUROPS_PETSC(MatGetDiagonal(A, d));
  PetscReal dmin = 0;
  NEUROPS_PETSC(VecMin(d, nullptr, &dmin));
  NEUROPS_CHECK(dmin > 0, "jacobi_spectral_radius: expected a positive diagonal, found minimum " << dmin);
  double mu_min = 0, mu_max = 0;  // extreme eigenvalues of S = D^{-1/2} A D^{-1/2}
  if (size == 1 && n <= 1500) {
    const LocalCsr csr(A);
    Eigen::MatrixXd S = Eigen::MatrixXd::Zero(n, n);
    for (PetscInt i = 0; i < n; ++i)
      for (PetscInt k = csr.row_start()[i]; k < csr.row_start()[i + 1]; ++k) {
        const PetscInt j = csr.columns()[k];
        S(i, j) = csr.values()[k] / std::sqrt(csr.diagonal(i) * csr.diagonal(j));
      }
    const Eigen::MatrixXd Ssym = 0.5 * (S + S.transpose());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Ssym, Eigen::EigenvaluesOnly);
    mu_min = eig.eigenvalues().minCoeff();
    mu_max = eig.eigenvalues().maxCoeff();
  } else {
    // Lanczos without reorthogonalisation: the extreme Ritz values converge first; the
    // spurious copies that loss of orthogonality creates do not move the extremes.
    NEUROPS_PETSC(VecSqrtAbs(d));
    NEUROPS_PETSC(VecReciprocal(d));  // d = D^{-1/2}
    PetscVec v, v_prev, w;
    NEUROPS_PETSC(VecDuplicate(d, v.out()));
    NEUROPS_PETSC(VecDuplicate(d, v_prev.out()));
    NEUROPS_PETSC(VecDuplicate(d, w.out()));
    PetscInt lo = 0, hi = 0;
    NEUROPS_PETSC(VecGetOwnershipRange(v, &lo, &hi));
    {
      const ArrayWrite vv(v);
      for (PetscInt i = lo; i < hi; ++i) vv.get()[i - lo] = Rng::stream(20240101, std::uint64_t(i)).normal();
    }
    NEUROPS_PETSC(VecScale(v, 1.0 / norm2(v)));
    NEUROPS_PETSC(VecZeroEntries(v_prev));
    const int steps = static_cast<int>(std::min<PetscInt>(n, 200));
    std::vector<double> alpha, beta;
    double beta_prev = 0;
    PetscVec tmp;  // w = S v - alpha v - beta_prev v_prev
    NEUROPS_PETSC(VecDuplicate(d, tmp.out()));
    NEUROPS_PETSC(VecZeroEntries(v_prev));
    for (int k = 0; k < steps; ++k) {
      NEUROPS_PETSC(VecPointwiseMult(tmp, d, v));
      NEUROPS_PETSC(MatMult(A, tmp, w));
      NEUROPS_PETSC(VecPointwiseMult(w, d, w));
      PetscScalar a = 0;
      NEUROPS_PETSC(VecDot(w, v, &a));
      alpha.push_back(a);
      NEUROPS_PETSC(VecAXPY(w, -a, v));
      NEUROPS_PETSC(VecAXPY(w, -beta_prev, v_prev));
      const double bnext = norm2(w);
      if (bnext < 1e-12 * std::abs(a) || k + 1 == steps) break;
      beta.push_back(bnext);
      NEUROPS_PETSC(VecCopy(v, v_prev));
      NEUROPS_PETSC(VecCopy(w, v));
      NEUROPS_PETSC(VecScale(v, 1.0 / bnext));
      beta_prev = bnext;
    }
    const int k = static_cast<int>(alpha.size());
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(k, k);
    for (int i = 0; i < k; ++i) {
      T(i, i) = alpha[static_cast<std::size_t>(i)];
      if (i + 1 < k) T(i, i + 1) = T(i + 1, i) = beta[static_cast<std::size_t>(i)];
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(T, Eigen::EigenvaluesOnly);
    mu_min = eig.eigenvalues().minCoeff();
    mu_max = eig.eigenvalues().maxCoeff();
  }
  return std::max(std::abs(1.0 - mu_min), std::abs(1.0 - mu_max));
}

double diagonal_shift_estimate(Mat A) {
  PetscInt lo = 0, hi = 0;
  NEUROPS_PETSC(MatGetOwnershipRange(A, &lo, &hi));
  double local = std::numeric_limits<double>::infinity();
  for (PetscInt i = lo; i < hi; ++i) {
    PetscInt ncols = 0;
    const PetscInt* cols = nullptr;
    const PetscScalar* vals = nullptr;
    NEUROPS_PETSC(MatGetRow(A, i, &ncols, &cols, &vals));
    double diag = 0, off = 0;
    for (PetscInt k = 0; k < ncols; ++k) {
      if (cols[k] == i)
        diag += PetscRealPart(vals[k]);
      else
        off += std::abs(vals[k]);
    }
    NEUROPS_PETSC(MatRestoreRow(A, i, &ncols, &cols, &vals));
    local = std::min(local, diag - off);
  }
  double global = local;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MIN, PetscObjectComm(reinterpret_cast<PetscObject>(A)));
  return global;
}

double young_optimal_omega(double rho_jacobi) {
  NEUROPS_CHECK(rho_jacobi >= 0 && rho_jacobi < 1,
                "young_optimal_omega: expected a Jacobi spectral radius in [0, 1), found " << rho_jacobi);
  const double t = rho_jacobi / (1.0 + std::sqrt(1.0 - rho_jacobi * rho_jacobi));
  return 1.0 + t * t;
}

}  // namespace neurops::solvers
