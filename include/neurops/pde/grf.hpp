#pragma once
// Gaussian random fields (GRF) for the input functions of the PDE data sets.
//
//  * PeriodicGrf: 2-D periodic field on the unit torus with covariance operator
//    sigma^2 (-Laplacian + tau^2)^(-alpha), sampled by FFT. This is the sampler of the FNO data
//    (neuraloperator `GaussianRF`, torch-cfd): on an n x n grid x_i = i/n,
//        u(x) = Re sum_k sqrt(2) sigma (4 pi^2 |k|^2 + tau^2)^(-alpha/2) (xi_k + i eta_k) e^{2 pi i k.x},
//    xi, eta standard normal, the k = 0 mode removed, and by default sigma = tau^(0.5 (2 alpha - d))
//    with d = 2 (FNO's convention; sigma = 7^1.5 for the Navier-Stokes initial vorticity with
//    alpha = 2.5, tau = 7). Each discrete Fourier coefficient u_hat_k = fft2(u)_k / n^2 then has
//    E|u_hat_k|^2 = 2 sigma^2 (4 pi^2 |k|^2 + tau^2)^(-alpha).
//  * DirichletGrf: field on the unit square vanishing on the boundary, the sine series
//        u(x, y) = sum_{k,l=1}^{n-2} sigma (pi^2 (k^2 + l^2) + tau^2)^(-alpha/2) xi_kl 2 sin(pi k x) sin(pi l y)
//    on the nodes x_i = i/(n-1) (boundary included), evaluated by a DST-I (FFTW RODFT00). The
//    functions 2 sin sin are L2-orthonormal, so the KL coefficients have variance
//    sigma^2 (pi^2 (k^2 + l^2) + tau^2)^(-alpha). Used for Darcy coefficients (thresholded or exponentiated).
//  * RbfGrf1d: 1-D field on [0, T] with covariance exp(-|x - x'|^2 / (2 l^2)), as DeepONet's
//    `spaces.GRF`: sampled on N equispaced points by a Cholesky factor of the kernel matrix (+ jitter
//    1e-13 on the diagonal) and interpolated to any point by a not-a-knot cubic spline (scipy's
//    interp1d(kind="cubic")).
//
// Every sampler draws from a caller-owned Rng, so a sample is a function of the seed alone.
// Samplers hold FFT plans and work buffers: use one object per thread.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/core/tensor.hpp"

namespace neurops::pde {

/// Shared parameters: spectrum ~ sigma^2 (-Laplacian + tau^2)^(-alpha). A NaN sigma means FNO's
/// default tau^(0.5 (2 alpha - d)).
struct GrfSpectrum {
  double alpha = 2.5;
  double tau = 7.0;
  double sigma = std::numeric_limits<double>::quiet_NaN();
};

class PeriodicGrf {
 public:
  /// n x n grid on the unit torus (n >= 2).
  PeriodicGrf(index_t n, GrfSpectrum spectrum = {});
  ~PeriodicGrf();
  PeriodicGrf(PeriodicGrf&&) noexcept;
  PeriodicGrf& operator=(PeriodicGrf&&) noexcept;

  /// One sample of shape (n, n), rows along y, columns along x.
  Tensor<double> sample(Rng& rng);
  void sample(Rng& rng, TensorView<double> out);

  index_t n() const noexcept { return n_; }
  double sigma() const noexcept { return sigma_; }
  /// Integer wavenumber of FFT index i on an n-point axis (0, 1, ..., -1).
  static index_t wavenumber(index_t i, index_t n) { return i <= (n - 1) / 2 ? i : i - n; }
  /// E|u_hat_k|^2 for the discrete Fourier coefficient u_hat = fft2(u) / n^2 (0 for k = 0).
  double coefficient_variance(index_t kx, index_t ky) const;

 private:
  struct Impl;
  index_t n_;
  GrfSpectrum spectrum_;
  double sigma_;
  std::unique_ptr<Impl> impl_;
};

class DirichletGrf {
 public:
  /// n x n nodes of the unit square including the boundary (n >= 3).
  DirichletGrf(index_t n, GrfSpectrum spectrum = {});
  ~DirichletGrf();
  DirichletGrf(DirichletGrf&&) noexcept;
  DirichletGrf& operator=(DirichletGrf&&) noexcept;

  Tensor<double> sample(Rng& rng);
  void sample(Rng& rng, TensorView<double> out);

  index_t n() const noexcept { return n_; }
  double sigma() const noexcept { return sigma_; }
  /// Variance of the KL coefficient of mode (k, l), k, l >= 1.
  double coefficient_variance(index_t k, index_t l) const;
  /// KL coefficients c_kl (shape (n-2, n-2), row l-1, column k-1) of a field sampled on this grid:
  /// the inverse of sample() up to rounding (the DST-I is its own inverse up to a factor).
  Tensor<double> coefficients(const Tensor<double>& field);

 private:
  struct Impl;
  index_t n_;
  GrfSpectrum spectrum_;
  double sigma_;
  std::unique_ptr<Impl> impl_;
};

/// Not-a-knot cubic spline through equispaced values, as scipy's interp1d(kind="cubic").
class CubicSpline1d {
 public:
  /// Knots x_i = x0 + i h, i = 0..values.size()-1 (at least 4).
  CubicSpline1d(double x0, double h, std::vector<double> values);
  double operator()(double x) const;
  double x_min() const noexcept { return x0_; }
  double x_max() const noexcept { return x0_ + h_ * double(values_.size() - 1); }

 private:
  double x0_, h_;
  std::vector<double> values_, second_derivatives_;
};

class RbfGrf1d {
 public:
  /// Kernel exp(-|x - x'|^2 / (2 length_scale^2)) on `points` equispaced points of [0, T].
  RbfGrf1d(double length_scale = 0.2, index_t points = 1000, double T = 1.0, double jitter = 1e-13);
  /// Values on the N grid points.
  std::vector<double> sample_values(Rng& rng) const;
  /// A sample as a spline that can be evaluated anywhere in [0, T].
  CubicSpline1d sample(Rng& rng) const;
  /// The spline of a sample evaluated at `x`.
  static std::vector<double> evaluate(const CubicSpline1d& u, const std::vector<double>& x);
  double kernel(double x, double y) const;
  index_t points() const noexcept { return points_; }
  double length_scale() const noexcept { return length_scale_; }
  double T() const noexcept { return T_; }

 private:
  double length_scale_;
  index_t points_;
  double T_;
  // Lower Cholesky factor L (column-major N x N) with L L^T = K + jitter I. Plain storage: Eigen
  // objects in a public class would tie its layout to the SIMD flags of each translation unit.
  std::vector<double> cholesky_;
};

}  // namespace neurops::pde
