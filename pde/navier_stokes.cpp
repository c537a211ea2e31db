#include "neurops/pde/navier_stokes.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <mutex>
#include <numbers>

#include "fftw_support.hpp"

namespace neurops::pde {

namespace {
using cplx = std::complex<double>;
constexpr double kTwoPi = 2 * std::numbers::pi;

index_t wavenumber(index_t i, index_t n) { return i <= (n - 1) / 2 ? i : i - n; }
}  // namespace

struct NavierStokes2d::Impl {
  index_t n = 0, nc = 0;  // nc = n/2 + 1 columns of the half spectrum
  int threads = 1;
  double dt = 0;
  // Spectral state and stage terms, (n, nc) row-major.
  detail::ComplexBuffer w_hat, w_star, n0, n1, f_hat, product_hat;
  // Four spectral fields (u, v, w_x, w_y) transformed to physical space in one batched c2r.
  detail::ComplexBuffer spec4;
  detail::RealBuffer real4, product;
  // Per-mode factors.
  std::vector<double> ikx, iky;                      // 2 pi k for derivatives (0 at the Nyquist wavenumber)
  std::vector<double> inv_lap, lap;                  // 1/(4 pi^2 |k|^2) (0 at k = 0) and 4 pi^2 |k|^2
  std::vector<double> dealias;                       // 1 where the 2/3 rule keeps the mode
  std::vector<double> cn_explicit, cn_implicit_inv;  // (1 - dt nu L/2) and 1/(1 + dt nu L/2)
  detail::FftwPlan forward, backward4, backward1;
  detail::ComplexBuffer spec1;
  detail::RealBuffer real1;

  std::size_t spectral_size() const { return std::size_t(n * nc); }
  /// N(w) = -dealias(FFT(u . grad w)) into `out`; returns dt max(|u| + |v|) / h.
  double advection(const cplx* w, cplx* out);
};

double NavierStokes2d::Impl::advection(const cplx* w, cplx* out) {
  const std::size_t ns = spectral_size();
  const double inv_nn = 1.0 / double(n * n);
  cplx* su = spec4.get();
  cplx* sv = su + ns;
  cplx* swx = sv + ns;
  cplx* swy = swx + ns;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (index_t j = 0; j < n; ++j) {
    const double ky = iky[std::size_t(j)];
    for (index_t i = 0; i < nc; ++i) {
      const std::size_t p = std::size_t(j * nc + i);
      const double kx = ikx[std::size_t(i)];
      const cplx wn = w[p] * inv_nn;  // normalised so the c2r gives physical values
      const cplx psi = wn * inv_lap[p];
      su[p] = cplx(-ky * psi.imag(), ky * psi.real());  // u = d psi / dy
      sv[p] = cplx(kx * psi.imag(), -kx * psi.real());  // v = -d psi / dx
      swx[p] = cplx(-kx * wn.imag(), kx * wn.real());
      swy[p] = cplx(-ky * wn.imag(), ky * wn.real());
    }
  }
  backward4.execute();
  const std::size_t nn = std::size_t(n * n);
  const double* u = real4.get();
  const double* v = u + nn;
  const double* wx = v + nn;
  const double* wy = wx + nn;
  double* prod = product.get();
  double max_speed = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(max : max_speed)
  for (index_t p = 0; p < index_t(nn); ++p) {
    prod[p] = u[p] * wx[p] + v[p] * wy[p];
    max_speed = std::max(max_speed, std::abs(u[p]) + std::abs(v[p]));
  }
  forward.execute();
  const cplx* ph = product_hat.get();
#pragma omp parallel for num_threads(threads) schedule(static)
  for (index_t p = 0; p < index_t(ns); ++p) out[p] = -dealias[std::size_t(p)] * ph[p];
  return dt * max_speed * double(n);
}

NavierStokes2d::NavierStokes2d(const NavierStokesSettings& s) : settings_(s) {
  NEUROPS_CHECK(
      s.n >= 8 && s.n % 2 == 0,
      "NavierStokes2d: the 2/3-rule dealiasing and the real FFT need an even grid size >= 8, found n = " << s.n);
  NEUROPS_CHECK(s.viscosity > 0 && std::isfinite(s.viscosity),
                "NavierStokes2d: expected a viscosity > 0, found " << s.viscosity);
  NEUROPS_CHECK(s.dt > 0 && std::isfinite(s.dt), "NavierStokes2d: expected a time step dt > 0, found " << s.dt);
  NEUROPS_CHECK(s.max_cfl > 0, "NavierStokes2d: expected max_cfl > 0, found " << s.max_cfl);
  NEUROPS_CHECK(std::isfinite(s.forcing_amplitude), "NavierStokes2d: forcing amplitude is not finite");
  impl_ = std::make_unique<Impl>();
  Impl& m = *impl_;
  m.n = s.n;
  m.nc = s.n / 2 + 1;
  // Below 256^2 a step takes about a millisecond and thread start-up and barriers cost more than they
  // save, so the automatic choice is one thread there.
  m.threads = s.threads > 0 ? s.threads : (s.n >= 256 ? omp_get_max_threads() : 1);
  m.dt = s.dt;
  const std::size_t ns = m.spectral_size(), nn = std::size_t(s.n * s.n);
  for (auto* b : {&m.w_hat, &m.w_star, &m.n0, &m.n1, &m.f_hat, &m.product_hat, &m.spec1})
    *b = detail::fftw_buffer<cplx>(ns);
  m.spec4 = detail::fftw_buffer<cplx>(4 * ns);
  m.real4 = detail::fftw_buffer<double>(4 * nn);
  m.product = detail::fftw_buffer<double>(nn);
  m.real1 = detail::fftw_buffer<double>(nn);

  const index_t n = s.n, nc = m.nc;
  m.ikx.resize(std::size_t(nc));
  m.iky.resize(std::size_t(n));
  for (index_t i = 0; i < nc; ++i) m.ikx[std::size_t(i)] = (i == n / 2) ? 0.0 : kTwoPi * double(i);
  for (index_t j = 0; j < n; ++j) m.iky[std::size_t(j)] = (j == n / 2) ? 0.0 : kTwoPi * double(wavenumber(j, n));
  m.inv_lap.resize(ns);
  m.lap.resize(ns);
  m.dealias.resize(ns);
  m.cn_explicit.resize(ns);
  m.cn_implicit_inv.resize(ns);
  const double kmax_kept = (2.0 / 3.0) * double(n / 2);
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < nc; ++i) {
      const std::size_t p = std::size_t(j * nc + i);
      const double ky = double(wavenumber(j, n)), kx = double(i);
      const double L = kTwoPi * kTwoPi * (kx * kx + ky * ky);
      m.lap[p] = L;
      m.inv_lap[p] = (i == 0 && j == 0) ? 0.0 : 1.0 / L;
      m.dealias[p] = (std::abs(kx) <= kmax_kept && std::abs(ky) <= kmax_kept) ? 1.0 : 0.0;
      m.cn_explicit[p] = 1.0 - 0.5 * s.dt * s.viscosity * L;
      m.cn_implicit_inv[p] = 1.0 / (1.0 + 0.5 * s.dt * s.viscosity * L);
    }

  {
    std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
    detail::fftw_plan_threads(m.threads);
    const unsigned flags = s.measure_plans ? FFTW_MEASURE : FFTW_ESTIMATE;
    const int dims[2] = {int(n), int(n)};
    m.forward = detail::FftwPlan(
        fftw_plan_dft_r2c_2d(int(n), int(n), m.product.get(), detail::as_fftw(m.product_hat.get()), flags));
    m.backward4 = detail::FftwPlan(fftw_plan_many_dft_c2r(2, dims, 4, detail::as_fftw(m.spec4.get()), nullptr, 1,
                                                          int(ns), m.real4.get(), nullptr, 1, int(nn), flags));
    m.backward1 =
        detail::FftwPlan(fftw_plan_dft_c2r_2d(int(n), int(n), detail::as_fftw(m.spec1.get()), m.real1.get(), flags));
    NEUROPS_CHECK(m.forward.get() && m.backward4.get() && m.backward1.get(), "NavierStokes2d: FFTW planning failed");
  }
  // Forcing in spectral space, transformed once.
  const Tensor<double> f = forcing(n, s.forcing_amplitude);
  std::copy(f.begin(), f.end(), m.product.get());
  m.forward.execute();
  std::copy(m.product_hat.get(), m.product_hat.get() + ns, m.f_hat.get());
}

NavierStokes2d::~NavierStokes2d() = default;
NavierStokes2d::NavierStokes2d(NavierStokes2d&&) noexcept = default;
NavierStokes2d& NavierStokes2d::operator=(NavierStokes2d&&) noexcept = default;

Tensor<double> NavierStokes2d::forcing(index_t n, double amplitude) {
  Tensor<double> f({n, n});
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i) {
      const double phase = kTwoPi * (double(i) + double(j)) / double(n);
      f(j, i) = amplitude * (std::sin(phase) + std::cos(phase));
    }
  return f;
}

void NavierStokes2d::set_vorticity(const Tensor<double>& w, double time) {
  check_shape(w.shape(), {settings_.n, settings_.n}, "NavierStokes2d vorticity");
  for (double v : w) NEUROPS_CHECK(std::isfinite(v), "NavierStokes2d: the vorticity holds a non-finite value");
  Impl& m = *impl_;
  std::copy(w.begin(), w.end(), m.product.get());
  m.forward.execute();
  std::copy(m.product_hat.get(), m.product_hat.get() + m.spectral_size(), m.w_hat.get());
  time_ = time;
  steps_ = 0;
}

Tensor<double> NavierStokes2d::vorticity() const {
  Impl& m = *impl_;
  const std::size_t ns = m.spectral_size();
  const double inv_nn = 1.0 / double(m.n * m.n);
  for (std::size_t p = 0; p < ns; ++p) m.spec1[p] = m.w_hat[p] * inv_nn;
  m.backward1.execute();
  Tensor<double> w = Tensor<double>::uninitialized({m.n, m.n});
  std::copy(m.real1.get(), m.real1.get() + m.n * m.n, w.begin());
  return w;
}

Tensor<double> NavierStokes2d::velocity() const {
  Impl& m = *impl_;
  const std::size_t nn = std::size_t(m.n * m.n);
  (void)m.advection(m.w_hat.get(), m.n1.get());
  Tensor<double> uv = Tensor<double>::uninitialized({2, m.n, m.n});
  std::copy(m.real4.get(), m.real4.get() + 2 * nn, uv.begin());
  return uv;
}

void NavierStokes2d::step() {
  Impl& m = *impl_;
  const std::size_t ns = m.spectral_size();
  const double dt = settings_.dt;
  auto check_cfl = [&](double cfl, const char* stage) {
    NEUROPS_CHECK(std::isfinite(cfl),
                  "NavierStokes2d: the velocity became non-finite at t = " << time_ << " (" << stage << ")");
    NEUROPS_CHECK(cfl <= settings_.max_cfl,
                  "NavierStokes2d: time step dt = " << dt << " violates the CFL limit at t = " << time_ << " (" << stage
                                                    << "): CFL number dt max(|u|+|v|)/h = " << cfl
                                                    << " > max_cfl = " << settings_.max_cfl << "; reduce dt below "
                                                    << dt * settings_.max_cfl / cfl);
  };
  check_cfl(m.advection(m.w_hat.get(), m.n0.get()), "predictor");
  const cplx *w = m.w_hat.get(), *f = m.f_hat.get(), *n0 = m.n0.get();
  cplx* ws = m.w_star.get();
#pragma omp parallel for num_threads(m.threads) schedule(static)
  for (index_t p = 0; p < index_t(ns); ++p)
    ws[p] = (m.cn_explicit[std::size_t(p)] * w[p] + dt * (n0[p] + f[p])) * m.cn_implicit_inv[std::size_t(p)];
  check_cfl(m.advection(ws, m.n1.get()), "corrector");
  cplx* wn = m.w_hat.get();
  const cplx* n1 = m.n1.get();
#pragma omp parallel for num_threads(m.threads) schedule(static)
  for (index_t p = 0; p < index_t(ns); ++p)
    wn[p] = (m.cn_explicit[std::size_t(p)] * wn[p] + dt * (0.5 * (n0[p] + n1[p]) + f[p])) *
            m.cn_implicit_inv[std::size_t(p)];
  ++steps_;
  time_ += dt;
}

void NavierStokes2d::run_to(double t) {
  const double span = t - time_;
  const double dt = settings_.dt;
  const double steps = std::round(span / dt);
  NEUROPS_CHECK(span >= -1e-9 * dt && std::abs(steps * dt - span) <= 1e-6 * dt,
                "NavierStokes2d::run_to: time " << t << " is not reached from t = " << time_
                                                << " by a whole number of steps of dt = " << dt);
  const double start = time_;
  for (index_t k = 0; k < index_t(steps); ++k) step();
  time_ = start + steps * dt;  // no drift from repeated additions
}

Tensor<double> NavierStokes2d::run(const std::vector<double>& times, index_t coarse_n, Coarsening coarsening) {
  const index_t m = coarse_n > 0 ? coarse_n : settings_.n;
  Tensor<double> out({index_t(times.size()), m, m});
  for (std::size_t s = 0; s < times.size(); ++s) {
    NEUROPS_CHECK(s == 0 || times[s] > times[s - 1],
                  "NavierStokes2d::run: snapshot times must increase, found " << times[s - 1] << " then " << times[s]);
    run_to(times[s]);
    const Tensor<double> w = m == settings_.n ? vorticity() : coarsen(vorticity(), m, coarsening);
    std::copy(w.begin(), w.end(), out.begin() + index_t(s) * m * m);
  }
  return out;
}

FlowDiagnostics NavierStokes2d::diagnostics() const {
  Impl& m = *impl_;
  FlowDiagnostics d;
  d.time = time_;
  const index_t n = m.n, nc = m.nc;
  double energy = 0, enstrophy = 0;
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < nc; ++i) {
      const std::size_t p = std::size_t(j * nc + i);
      const double weight = (i == 0 || i == n / 2) ? 1.0 : 2.0;  // half spectrum of a real field
      const double w2 = std::norm(m.w_hat[p]);
      enstrophy += weight * w2;
      energy += weight * w2 * m.inv_lap[p];
    }
  const double n4 = double(n) * double(n) * double(n) * double(n);
  d.energy = 0.5 * energy / n4;
  d.enstrophy = 0.5 * enstrophy / n4;
  d.cfl = m.advection(m.w_hat.get(), m.n1.get());
  d.max_velocity = d.cfl / (m.dt * double(n));
  return d;
}

Tensor<double> NavierStokes2d::coarsen(const Tensor<double>& field, index_t m, Coarsening coarsening) {
  NEUROPS_CHECK(field.rank() == 2 && field.size(0) == field.size(1),
                "coarsen: expected a square (n, n) field, found shape " << field.shape());
  const index_t n = field.size(0);
  NEUROPS_CHECK(m >= 2 && m <= n, "coarsen: expected a target size in [2, " << n << "], found " << m);
  if (coarsening == Coarsening::subsample) {
    NEUROPS_CHECK(n % m == 0, "coarsen: subsampling " << n << " points to " << m << " needs n to be a multiple of m");
    const index_t stride = n / m;
    Tensor<double> out({m, m});
    for (index_t j = 0; j < m; ++j)
      for (index_t i = 0; i < m; ++i) out(j, i) = field(j * stride, i * stride);
    return out;
  }
  if (coarsening == Coarsening::bilinear) {
    NEUROPS_CHECK(n % m == 0,
                  "coarsen: bilinear averaging of " << n << " points to " << m << " needs n to be a multiple of m");
    // Source position (i + 1/2) r - 1/2 >= 0 and its right neighbour < n for integer r = n/m, so
    // PyTorch's clamping never applies; weights as its linear interpolation.
    const index_t r = n / m;
    const double src0 = 0.5 * double(r) - 0.5;
    const index_t left = index_t(std::floor(src0));
    const double lambda = src0 - double(left);
    const index_t right = std::min(left + 1, n - 1);
    Tensor<double> out({m, m});
    for (index_t j = 0; j < m; ++j)
      for (index_t i = 0; i < m; ++i) {
        const index_t y0 = j * r + left, y1 = j * r + right, x0 = i * r + left, x1 = i * r + right;
        const double top = (1 - lambda) * field(y0, x0) + lambda * field(y0, x1);
        const double bottom = (1 - lambda) * field(y1, x0) + lambda * field(y1, x1);
        out(j, i) = (1 - lambda) * top + lambda * bottom;
      }
    return out;
  }
  NEUROPS_CHECK(m % 2 == 0, "coarsen: spectral truncation needs an even target size, found " << m);
  const index_t nc = n / 2 + 1, mc = m / 2 + 1;
  auto fine_real = detail::fftw_buffer<double>(std::size_t(n * n));
  auto fine_hat = detail::fftw_buffer<cplx>(std::size_t(n * nc));
  auto coarse_hat = detail::fftw_buffer<cplx>(std::size_t(m * mc));
  auto coarse_real = detail::fftw_buffer<double>(std::size_t(m * m));
  detail::FftwPlan fwd, bwd;
  {
    std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
    detail::fftw_plan_threads(1);
    fwd = detail::FftwPlan(
        fftw_plan_dft_r2c_2d(int(n), int(n), fine_real.get(), detail::as_fftw(fine_hat.get()), FFTW_ESTIMATE));
    bwd = detail::FftwPlan(
        fftw_plan_dft_c2r_2d(int(m), int(m), detail::as_fftw(coarse_hat.get()), coarse_real.get(), FFTW_ESTIMATE));
  }
  std::copy(field.begin(), field.end(), fine_real.get());
  fwd.execute();
  const double inv_nn = 1.0 / double(n * n);
  for (index_t j = 0; j < m; ++j) {
    const index_t k = wavenumber(j, m);
    const index_t src_row = k >= 0 ? k : k + n;
    for (index_t i = 0; i < mc; ++i) {
      const bool nyquist = (j == m / 2) || (i == m / 2);  // no counterpart of +-m/2 on the coarse grid
      coarse_hat[std::size_t(j * mc + i)] = nyquist ? cplx(0) : fine_hat[std::size_t(src_row * nc + i)] * inv_nn;
    }
  }
  bwd.execute();
  Tensor<double> out({m, m});
  std::copy(coarse_real.get(), coarse_real.get() + m * m, out.begin());
  return out;
}

}  // namespace neurops::pde
