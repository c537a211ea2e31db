#include "neurops/pde/grf.hpp"

#include <Eigen/Cholesky>
#include <complex>
#include <mutex>
#include <numbers>

#include "fftw_support.hpp"

namespace neurops::pde {

namespace {
constexpr double kPi = std::numbers::pi;

double default_sigma(const GrfSpectrum& s, int dim) {
  return std::isnan(s.sigma) ? std::pow(s.tau, 0.5 * (2 * s.alpha - dim)) : s.sigma;
}

void check_spectrum(const GrfSpectrum& s, const char* what) {
  NEUROPS_CHECK(s.alpha > 0 && std::isfinite(s.alpha), what << ": expected alpha > 0, found " << s.alpha);
  NEUROPS_CHECK(s.tau >= 0 && std::isfinite(s.tau), what << ": expected tau >= 0, found " << s.tau);
  NEUROPS_CHECK(std::isnan(s.sigma) || s.sigma > 0, what << ": expected sigma > 0, found " << s.sigma);
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// PeriodicGrf
// ---------------------------------------------------------------------------------------------
struct PeriodicGrf::Impl {
  detail::ComplexBuffer coeff;
  std::vector<double> sqrt_eig;  // sqrt(2) sigma lambda_k^(-alpha/2), row-major (ky, kx)
  detail::FftwPlan backward;
};

PeriodicGrf::PeriodicGrf(index_t n, GrfSpectrum spectrum) : n_(n), spectrum_(spectrum) {
  NEUROPS_CHECK(n >= 2, "PeriodicGrf: expected at least 2 grid points per side, found " << n);
  check_spectrum(spectrum, "PeriodicGrf");
  sigma_ = default_sigma(spectrum, 2);
  impl_ = std::make_unique<Impl>();
  const auto nn = static_cast<std::size_t>(n * n);
  impl_->coeff = detail::fftw_buffer<std::complex<double>>(nn);
  impl_->sqrt_eig.resize(nn);
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i) {
      const double k2 = double(wavenumber(i, n) * wavenumber(i, n) + wavenumber(j, n) * wavenumber(j, n));
      impl_->sqrt_eig[std::size_t(j * n + i)] =
          std::sqrt(2.0) * sigma_ * std::pow(4 * kPi * kPi * k2 + spectrum.tau * spectrum.tau, -spectrum.alpha / 2);
    }
  impl_->sqrt_eig[0] = 0.0;
  std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
  detail::fftw_plan_threads(1);
  impl_->backward =
      detail::FftwPlan(fftw_plan_dft_2d(int(n), int(n), detail::as_fftw(impl_->coeff.get()),
                                        detail::as_fftw(impl_->coeff.get()), FFTW_BACKWARD, FFTW_ESTIMATE));
}

PeriodicGrf::~PeriodicGrf() = default;
PeriodicGrf::PeriodicGrf(PeriodicGrf&&) noexcept = default;
PeriodicGrf& PeriodicGrf::operator=(PeriodicGrf&&) noexcept = default;

double PeriodicGrf::coefficient_variance(index_t kx, index_t ky) const {
  if (kx == 0 && ky == 0) return 0.0;
  const double lambda = 4 * kPi * kPi * double(kx * kx + ky * ky) + spectrum_.tau * spectrum_.tau;
  return 2 * sigma_ * sigma_ * std::pow(lambda, -spectrum_.alpha);
}

Tensor<double> PeriodicGrf::sample(Rng& rng) {
  Tensor<double> out = Tensor<double>::uninitialized({n_, n_});
  sample(rng, out.view());
  return out;
}

void PeriodicGrf::sample(Rng& rng, TensorView<double> out) {
  NEUROPS_CHECK(out.numel() == n_ * n_,
                "PeriodicGrf::sample: expected an output of " << n_ * n_ << " values, found shape " << out.shape());
  // Draw order as in the reference sampler: row-major over the grid, real part then imaginary part.
  const auto nn = static_cast<std::size_t>(n_ * n_);
  for (std::size_t p = 0; p < nn; ++p) {
    const double re = rng.normal(), im = rng.normal();
    impl_->coeff[p] = impl_->sqrt_eig[p] * std::complex<double>(re, im);
  }
  impl_->backward.execute();  // unnormalised inverse DFT: sum_k c_k e^{+2 pi i k.x}
  for (std::size_t p = 0; p < nn; ++p) out[index_t(p)] = impl_->coeff[p].real();
}

// ---------------------------------------------------------------------------------------------
// DirichletGrf
// ---------------------------------------------------------------------------------------------
struct DirichletGrf::Impl {
  detail::RealBuffer in, out;
  std::vector<double> half_sqrt_eig;  // sigma lambda_kl^(-alpha/2) / 2, row-major (l-1, k-1)
  detail::FftwPlan dst;
};

DirichletGrf::DirichletGrf(index_t n, GrfSpectrum spectrum) : n_(n), spectrum_(spectrum) {
  NEUROPS_CHECK(n >= 3, "DirichletGrf: expected at least 3 nodes per side (one interior node), found " << n);
  check_spectrum(spectrum, "DirichletGrf");
  sigma_ = default_sigma(spectrum, 2);
  impl_ = std::make_unique<Impl>();
  const index_t m = n - 2;
  const auto mm = static_cast<std::size_t>(m * m);
  impl_->in = detail::fftw_buffer<double>(mm);
  impl_->out = detail::fftw_buffer<double>(mm);
  impl_->half_sqrt_eig.resize(mm);
  for (index_t l = 1; l <= m; ++l)
    for (index_t k = 1; k <= m; ++k)
      impl_->half_sqrt_eig[std::size_t((l - 1) * m + (k - 1))] = 0.5 * std::sqrt(coefficient_variance(k, l));
  std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
  detail::fftw_plan_threads(1);
  impl_->dst = detail::FftwPlan(
      fftw_plan_r2r_2d(int(m), int(m), impl_->in.get(), impl_->out.get(), FFTW_RODFT00, FFTW_RODFT00, FFTW_ESTIMATE));
}

DirichletGrf::~DirichletGrf() = default;
DirichletGrf::DirichletGrf(DirichletGrf&&) noexcept = default;
DirichletGrf& DirichletGrf::operator=(DirichletGrf&&) noexcept = default;

double DirichletGrf::coefficient_variance(index_t k, index_t l) const {
  const double lambda = kPi * kPi * double(k * k + l * l) + spectrum_.tau * spectrum_.tau;
  return sigma_ * sigma_ * std::pow(lambda, -spectrum_.alpha);
}

Tensor<double> DirichletGrf::sample(Rng& rng) {
  Tensor<double> out = Tensor<double>::uninitialized({n_, n_});
  sample(rng, out.view());
  return out;
}

void DirichletGrf::sample(Rng& rng, TensorView<double> out) {
  NEUROPS_CHECK(out.numel() == n_ * n_,
                "DirichletGrf::sample: expected an output of " << n_ * n_ << " values, found shape " << out.shape());
  const index_t m = n_ - 2;
  const auto mm = static_cast<std::size_t>(m * m);
  for (std::size_t p = 0; p < mm; ++p) impl_->in[p] = impl_->half_sqrt_eig[p] * rng.normal();
  // RODFT00 in 2-D: out_ij = 4 sum_kl in_kl sin(pi (i+1)(k+1)/(m+1)) sin(pi (j+1)(l+1)/(m+1)),
  // which is the series with the orthonormal functions 2 sin sin once `in` holds c_kl / 2.
  impl_->dst.execute();
  std::fill(out.begin(), out.end(), 0.0);
  for (index_t j = 0; j < m; ++j)
    for (index_t i = 0; i < m; ++i) out[(j + 1) * n_ + (i + 1)] = impl_->out[std::size_t(j * m + i)];
}

Tensor<double> DirichletGrf::coefficients(const Tensor<double>& field) {
  check_shape(field.shape(), {n_, n_}, "DirichletGrf::coefficients field");
  const index_t m = n_ - 2;
  for (index_t j = 0; j < m; ++j)
    for (index_t i = 0; i < m; ++i) impl_->in[std::size_t(j * m + i)] = field(j + 1, i + 1);
  impl_->dst.execute();
  Tensor<double> c({m, m});
  const double scale = 1.0 / (2.0 * double(m + 1) * double(m + 1));
  for (index_t p = 0; p < m * m; ++p) c[p] = impl_->out[std::size_t(p)] * scale;
  return c;
}

// ---------------------------------------------------------------------------------------------
// CubicSpline1d: second derivatives M from the not-a-knot conditions. With equal spacing the
// first and last interior equations decouple (M0 - 2 M1 + M2 = 0 inserted into
// M0 + 4 M1 + M2 = r1 gives 6 M1 = r1), leaving a tridiagonal system for M2..M_{N-3}.
// ---------------------------------------------------------------------------------------------
CubicSpline1d::CubicSpline1d(double x0, double h, std::vector<double> values)
    : x0_(x0), h_(h), values_(std::move(values)) {
  const auto n = values_.size();
  NEUROPS_CHECK(n >= 4, "CubicSpline1d: expected at least 4 knots, found " << n);
  NEUROPS_CHECK(h > 0, "CubicSpline1d: expected a positive knot spacing, found " << h);
  std::vector<double> r(n, 0.0), M(n, 0.0);
  for (std::size_t i = 1; i + 1 < n; ++i) r[i] = 6.0 * (values_[i - 1] - 2 * values_[i] + values_[i + 1]) / (h * h);
  M[1] = r[1] / 6.0;
  M[n - 2] = r[n - 2] / 6.0;
  if (n > 4) {
    // Rows i = 2..n-3: M_{i-1} + 4 M_i + M_{i+1} = r_i with M_1, M_{n-2} known (Thomas algorithm).
    const std::size_t first = 2, last = n - 3;
    std::vector<double> c(n, 0.0), d(n, 0.0);
    for (std::size_t i = first; i <= last; ++i) {
      double rhs = r[i];
      if (i == first) rhs -= M[1];
      if (i == last) rhs -= M[n - 2];
      const double sub = (i == first) ? 0.0 : 1.0;
      const double denom = 4.0 - sub * c[i - 1];
      c[i] = (i == last) ? 0.0 : 1.0 / denom;
      d[i] = (rhs - sub * d[i - 1]) / denom;
    }
    for (std::size_t i = last + 1; i-- > first;) M[i] = d[i] - c[i] * (i == last ? 0.0 : M[i + 1]);
  }
  M[0] = 2 * M[1] - M[2];
  M[n - 1] = 2 * M[n - 2] - M[n - 3];
  second_derivatives_ = std::move(M);
}

double CubicSpline1d::operator()(double x) const {
  const auto n = static_cast<index_t>(values_.size());
  index_t i = static_cast<index_t>(std::floor((x - x0_) / h_));
  i = std::clamp<index_t>(i, 0, n - 2);
  const double a = x0_ + h_ * double(i + 1) - x, b = x - (x0_ + h_ * double(i));
  const double Mi = second_derivatives_[std::size_t(i)], Mj = second_derivatives_[std::size_t(i + 1)];
  return (Mi * a * a * a + Mj * b * b * b) / (6 * h_) + (values_[std::size_t(i)] - Mi * h_ * h_ / 6) * a / h_ +
         (values_[std::size_t(i + 1)] - Mj * h_ * h_ / 6) * b / h_;
}

// ---------------------------------------------------------------------------------------------
// RbfGrf1d
// ---------------------------------------------------------------------------------------------
RbfGrf1d::RbfGrf1d(double length_scale, index_t points, double T, double jitter)
    : length_scale_(length_scale), points_(points), T_(T) {
  NEUROPS_CHECK(length_scale > 0, "RbfGrf1d: expected a positive length scale, found " << length_scale);
  NEUROPS_CHECK(points >= 4, "RbfGrf1d: expected at least 4 points, found " << points);
  NEUROPS_CHECK(T > 0, "RbfGrf1d: expected T > 0, found " << T);
  NEUROPS_CHECK(jitter >= 0, "RbfGrf1d: expected a jitter >= 0, found " << jitter);
  Eigen::MatrixXd K(points, points);
  const double h = T / double(points - 1);
  for (index_t i = 0; i < points; ++i)
    for (index_t j = 0; j < points; ++j) K(i, j) = kernel(h * double(i), h * double(j));
  K.diagonal().array() += jitter;
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  NEUROPS_CHECK(llt.info() == Eigen::Success, "RbfGrf1d: the kernel matrix of "
                                                  << points << " points with length scale " << length_scale
                                                  << " is not positive definite with jitter " << jitter
                                                  << "; use a larger jitter or fewer points");
  cholesky_.resize(static_cast<std::size_t>(points * points));
  Eigen::Map<Eigen::MatrixXd>(cholesky_.data(), points, points) = llt.matrixL();
}

double RbfGrf1d::kernel(double x, double y) const {
  const double d = (x - y) / length_scale_;
  return std::exp(-0.5 * d * d);
}

std::vector<double> RbfGrf1d::sample_values(Rng& rng) const {
  Eigen::VectorXd xi(points_);
  for (index_t i = 0; i < points_; ++i) xi[i] = rng.normal();
  const Eigen::Map<const Eigen::MatrixXd> L(cholesky_.data(), points_, points_);
  Eigen::VectorXd u = L.triangularView<Eigen::Lower>() * xi;
  return {u.data(), u.data() + u.size()};
}

CubicSpline1d RbfGrf1d::sample(Rng& rng) const {
  return CubicSpline1d(0.0, T_ / double(points_ - 1), sample_values(rng));
}

std::vector<double> RbfGrf1d::evaluate(const CubicSpline1d& u, const std::vector<double>& x) {
  std::vector<double> v(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) v[i] = u(x[i]);
  return v;
}

}  // namespace neurops::pde
