#include "neurops/pde/ns_residual.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <vector>

#include "fftw_support.hpp"
#include "neurops/core/error.hpp"
#include "neurops/pde/navier_stokes.hpp"

namespace neurops::pde {

namespace {
using cplx = std::complex<double>;
constexpr double kTwoPi = 2 * std::numbers::pi;

/// Fields of one frame that the adjoint of C needs: u = psi_y, q = psi_x, w_x, w_y.
struct Velocity {
  detail::RealBuffer u, q, wx, wy;
};

/// Per-thread buffers: spectra (n, n/2+1) and physical fields (n, n).
struct Workspace {
  detail::ComplexBuffer w_hat, g_hat, wt_hat, wbar_hat, c_hat, r_hat, scratch, p1, p2, p3, p4, adj, grad_hat;
  detail::RealBuffer input, field, product;
  Velocity at_w, at_wbar;
};
}  // namespace

struct NsResidual::Impl {
  index_t n = 0, nc = 0;
  double a = 0, b = 0, dt = 0;
  // Per-mode factors of the half spectrum, row-major (row j: k_y, column i: k_x).
  std::vector<double> dx, dy;        // i dx, i dy are the derivative symbols (reference conventions, see header)
  std::vector<double> lap, kinv;     // Lap symbol (1 at k = 0) and K = -1/Lap (psi = K w)
  std::vector<double> dealias;       // 1 where the 2/3 rule keeps the mode (all 1 without dealiasing)
  std::vector<double> m, pm;         // w_t = M G, w_bar = (a + b) w + dt Pm G
  std::vector<double> weight;        // (alpha + 4 pi^2 |k|^2)^(2p)
  std::vector<double> multiplicity;  // 1 for the columns k_x = 0, n/2, else 2 (Hermitian partner)
  detail::ComplexBuffer f_hat;
  detail::FftwPlan r2c, c2r;
  // One workspace per thread; FFTW's new-array execute needs its SIMD-aligned buffers, so frames are
  // copied in and out rather than transformed in place in the caller's tensors.
  mutable std::vector<Workspace> work;
  double viscosity = 0;

  std::size_t spectral_size() const { return std::size_t(n * nc); }
  std::size_t real_size() const { return std::size_t(n * n); }
  Workspace make_workspace() const;

  void forward(const double* in, cplx* out) const {
    fftw_execute_dft_r2c(r2c.get(), const_cast<double*>(in), detail::as_fftw(out));
  }
  /// Physical field of a spectrum (c2r destroys its input, so it runs on a scaled copy).
  void inverse(const cplx* in, double* out, cplx* scratch) const {
    const double s = 1.0 / double(n * n);
    for (std::size_t p = 0; p < spectral_size(); ++p) scratch[p] = in[p] * s;
    fftw_execute_dft_c2r(c2r.get(), detail::as_fftw(scratch), out);
  }
  /// i s X for a real symbol s.
  static cplx times_i(double s, cplx x) { return {-s * x.imag(), s * x.real()}; }

  /// C(w) = dealias(FFT(u w_x - q w_y)) of the spectrum w_hat; keeps u, q, w_x, w_y in `vel`.
  void convection(const cplx* w_hat, Velocity& vel, Workspace& ws, cplx* out) const;
  /// The adjoint of C's linearisation at the fields `vel`, applied to the spectrum z_hat.
  void convection_adjoint(const cplx* z_hat, const Velocity& vel, Workspace& ws, cplx* out) const;
  /// One frame: returns q^2 (the weighted sum); residual / w_t fields when asked; with `gradient`,
  /// adds scale * d(q^2)/dw to it.
  double frame(const double* w, Workspace& ws, double* residual, double* w_t, double* gradient, double scale) const;

  // The frames mode (settings.time_derivative == frames), one (B, T) batch of trajectories at a time.
  /// R_hat of every frame, frame after frame (B T spectra); the difference quotients when asked.
  std::vector<cplx> frames_residual(const double* w, index_t B, index_t T, std::vector<cplx>* w_t_hat) const;
  /// Adds scale[b] * d(q^2)/dw of every frame of trajectory b to `gradient`, given R_hat.
  void frames_gradient(const double* w, index_t B, index_t T, const std::vector<cplx>& r_hat,
                       const std::vector<double>& scale, double* gradient) const;
  /// Per-step norms and total from the R_hat of frames_residual (unit: 1, or 1/n^2 with grid_mean).
  NsResidualNorms frames_norms(const std::vector<cplx>& r_hat, index_t B, index_t T, double unit) const;
  /// The weighted sum q^2 of one R_hat.
  double weighted_square(const cplx* r_hat) const;
  /// Physical field of one spectrum into dst (through the workspace's aligned buffers).
  void store(const cplx* spectrum, Workspace& ws, double* dst) const;
  double frame_dt = 0;
};

namespace {
/// Second-order difference of frame t of T (T >= 3) in units of 1/(2 dt_f): coefficients of the
/// frames first, first + 1, first + 2 (central inside, one-sided at the ends).
struct Stencil {
  index_t first;
  double c[3];
};
Stencil time_stencil(index_t t, index_t T) {
  if (t == 0) return {0, {-3, 4, -1}};
  if (t == T - 1) return {T - 3, {1, -4, 3}};
  return {t - 1, {-1, 0, 1}};
}
}  // namespace

Workspace NsResidual::Impl::make_workspace() const {
  const std::size_t ns = spectral_size(), nr = real_size();
  Workspace ws;
  for (auto* c : {&ws.w_hat, &ws.g_hat, &ws.wt_hat, &ws.wbar_hat, &ws.c_hat, &ws.r_hat, &ws.scratch, &ws.p1, &ws.p2,
                  &ws.p3, &ws.p4, &ws.adj, &ws.grad_hat})
    *c = detail::fftw_buffer<cplx>(ns);
  for (auto* r : {&ws.input, &ws.field, &ws.product, &ws.at_w.u, &ws.at_w.q, &ws.at_w.wx, &ws.at_w.wy, &ws.at_wbar.u,
                  &ws.at_wbar.q, &ws.at_wbar.wx, &ws.at_wbar.wy})
    *r = detail::fftw_buffer<double>(nr);
  return ws;
}

void NsResidual::Impl::convection(const cplx* w_hat, Velocity& vel, Workspace& ws, cplx* out) const {
  const std::size_t ns = spectral_size(), nr = real_size();
  cplx* s = ws.p1.get();
  // psi_y, psi_x, w_x, w_y one after the other through the same spectral buffer.
  const auto derivative = [&](bool of_psi, const std::vector<double>& sym, double* dst) {
    for (std::size_t p = 0; p < ns; ++p) s[p] = times_i(sym[p], of_psi ? kinv[p] * w_hat[p] : w_hat[p]);
    inverse(s, dst, ws.scratch.get());
  };
  derivative(true, dy, vel.u.get());
  derivative(true, dx, vel.q.get());
  derivative(false, dx, vel.wx.get());
  derivative(false, dy, vel.wy.get());
  double* prod = ws.product.get();
  for (std::size_t p = 0; p < nr; ++p) prod[p] = vel.u[p] * vel.wx[p] - vel.q[p] * vel.wy[p];
  forward(prod, out);
  for (std::size_t p = 0; p < ns; ++p) out[p] *= dealias[p];
}

void NsResidual::Impl::convection_adjoint(const cplx* z_hat, const Velocity& vel, Workspace& ws, cplx* out) const {
  const std::size_t ns = spectral_size(), nr = real_size();
  // y = D z in physical space, then the four products of the linearised u w_x - q w_y.
  for (std::size_t p = 0; p < ns; ++p) ws.p1[p] = dealias[p] * z_hat[p];
  double* y = ws.field.get();
  inverse(ws.p1.get(), y, ws.scratch.get());
  double* prod = ws.product.get();
  const auto transform = [&](const double* factor, cplx* dst) {
    for (std::size_t p = 0; p < nr; ++p) prod[p] = factor[p] * y[p];
    forward(prod, dst);
  };
  transform(vel.wx.get(), ws.p1.get());
  transform(vel.u.get(), ws.p2.get());
  transform(vel.wy.get(), ws.p3.get());
  transform(vel.q.get(), ws.p4.get());
  // Transposes of the derivatives are their negatives (purely imaginary, odd symbols), K is symmetric:
  // J^T z = -K D_y(w_x y) - D_x(u y) + K D_x(w_y y) + D_y(q y).
  for (std::size_t p = 0; p < ns; ++p)
    out[p] = times_i(dy[p], ws.p4[p] - kinv[p] * ws.p1[p]) + times_i(dx[p], kinv[p] * ws.p3[p] - ws.p2[p]);
}

double NsResidual::Impl::frame(const double* w, Workspace& ws, double* residual, double* w_t, double* gradient,
                               double scale) const {
  const std::size_t ns = spectral_size();
  cplx *wh = ws.w_hat.get(), *gh = ws.g_hat.get(), *wt = ws.wt_hat.get(), *wb = ws.wbar_hat.get();
  cplx *ch = ws.c_hat.get(), *rh = ws.r_hat.get();
  const cplx* fh = f_hat.get();
  std::copy(w, w + real_size(), ws.input.get());
  forward(ws.input.get(), wh);
  convection(wh, ws.at_w, ws, ch);
  for (std::size_t p = 0; p < ns; ++p) {
    const double A = viscosity * lap[p];
    gh[p] = fh[p] - ch[p] + A * wh[p];
    wt[p] = m[p] * gh[p];
    wb[p] = (a + b) * wh[p] + dt * pm[p] * gh[p];
  }
  convection(wb, ws.at_wbar, ws, ch);
  double q2 = 0;
  for (std::size_t p = 0; p < ns; ++p) {
    rh[p] = wt[p] + ch[p] - viscosity * lap[p] * wb[p] - fh[p];
    q2 += multiplicity[p] * weight[p] * std::norm(rh[p]);
  }
  if (residual) store(rh, ws, residual);
  if (w_t) store(wt, ws, w_t);
  if (!gradient) return q2;

  // Adjoint sweep, every spectrum being r2c of a real gradient field: d(q^2)/dR = 2 c2r(weight R_hat).
  const double nn = double(n * n);
  cplx* g_r = ws.grad_hat.get();
  for (std::size_t p = 0; p < ns; ++p) g_r[p] = scale * 2 * nn * weight[p] * rh[p];
  cplx* adj = ws.adj.get();
  convection_adjoint(g_r, ws.at_wbar, ws, adj);  // adj: gradient w.r.t. w_bar (after the next loop)
  for (std::size_t p = 0; p < ns; ++p) {
    const double A = viscosity * lap[p];
    adj[p] -= A * g_r[p];
    gh[p] = m[p] * g_r[p] + dt * pm[p] * adj[p];  // gradient w.r.t. G
  }
  convection_adjoint(gh, ws.at_w, ws, ch);
  for (std::size_t p = 0; p < ns; ++p) {
    const double A = viscosity * lap[p];
    wh[p] = (a + b) * adj[p] - ch[p] + A * gh[p];
  }
  double* field = ws.field.get();
  inverse(wh, field, ws.scratch.get());
  for (std::size_t p = 0; p < real_size(); ++p) gradient[p] += field[p];
  return q2;
}

void NsResidual::Impl::store(const cplx* spectrum, Workspace& ws, double* dst) const {
  inverse(spectrum, ws.field.get(), ws.scratch.get());
  std::copy(ws.field.get(), ws.field.get() + real_size(), dst);
}

double NsResidual::Impl::weighted_square(const cplx* r_hat) const {
  double q2 = 0;
  for (std::size_t p = 0; p < spectral_size(); ++p) q2 += multiplicity[p] * weight[p] * std::norm(r_hat[p]);
  return q2;
}

std::vector<cplx> NsResidual::Impl::frames_residual(const double* w, index_t B, index_t T,
                                                    std::vector<cplx>* w_t_hat) const {
  const std::size_t ns = spectral_size();
  const index_t frames = B * T;
  std::vector<cplx> w_hat(std::size_t(frames) * ns), r_hat(std::size_t(frames) * ns);
  // Pass 1, frame by frame: w_hat and the spatial part C(w) - A w - f.
#pragma omp parallel for num_threads(int(work.size())) schedule(dynamic)
  for (index_t k = 0; k < frames; ++k) {
    Workspace& ws = work[std::size_t(omp_get_thread_num())];
    std::copy(w + k * n * n, w + (k + 1) * n * n, ws.input.get());
    forward(ws.input.get(), ws.w_hat.get());
    convection(ws.w_hat.get(), ws.at_w, ws, ws.c_hat.get());
    cplx *wh = &w_hat[std::size_t(k) * ns], *rh = &r_hat[std::size_t(k) * ns];
    for (std::size_t p = 0; p < ns; ++p) {
      wh[p] = ws.w_hat[p];
      rh[p] = ws.c_hat[p] - viscosity * lap[p] * wh[p] - f_hat[p];
    }
  }
  // Pass 2: the difference quotient couples each frame to its neighbours in the same trajectory.
  if (w_t_hat) w_t_hat->assign(std::size_t(frames) * ns, cplx(0));
  const double inv = 1.0 / (2 * frame_dt);
#pragma omp parallel for num_threads(int(work.size())) schedule(static)
  for (index_t k = 0; k < frames; ++k) {
    const Stencil st = time_stencil(k % T, T);
    const cplx* base = &w_hat[std::size_t(k - k % T + st.first) * ns];
    cplx* rh = &r_hat[std::size_t(k) * ns];
    cplx* wt = w_t_hat ? &(*w_t_hat)[std::size_t(k) * ns] : nullptr;
    for (std::size_t p = 0; p < ns; ++p) {
      const cplx d = inv * (st.c[0] * base[p] + st.c[1] * base[ns + p] + st.c[2] * base[2 * ns + p]);
      rh[p] += d;
      if (wt) wt[p] = d;
    }
  }
  return r_hat;
}

void NsResidual::Impl::frames_gradient(const double* w, index_t B, index_t T, const std::vector<cplx>& r_hat,
                                       const std::vector<double>& scale, double* gradient) const {
  const std::size_t ns = spectral_size();
  const index_t frames = B * T;
  // d(q_k^2)/dR_k as the spectrum of a real field (see frame()), scaled per trajectory.
  const double nn = double(n * n);
  std::vector<cplx> g(std::size_t(frames) * ns);
#pragma omp parallel for num_threads(int(work.size())) schedule(static)
  for (index_t k = 0; k < frames; ++k)
    for (std::size_t p = 0; p < ns; ++p) {
      const std::size_t kp = std::size_t(k) * ns + p;
      g[kp] = scale[std::size_t(k / T)] * 2 * nn * weight[p] * r_hat[kp];
    }
  const double inv = 1.0 / (2 * frame_dt);
#pragma omp parallel for num_threads(int(work.size())) schedule(dynamic)
  for (index_t j = 0; j < frames; ++j) {
    Workspace& ws = work[std::size_t(omp_get_thread_num())];
    // C's adjoint needs the velocity and gradient fields of frame j again.
    std::copy(w + j * n * n, w + (j + 1) * n * n, ws.input.get());
    forward(ws.input.get(), ws.w_hat.get());
    convection(ws.w_hat.get(), ws.at_w, ws, ws.c_hat.get());
    const cplx* gj = &g[std::size_t(j) * ns];
    cplx* out = ws.grad_hat.get();
    convection_adjoint(gj, ws.at_w, ws, out);
    for (std::size_t p = 0; p < ns; ++p) out[p] -= viscosity * lap[p] * gj[p];
    // Transpose of the difference stencil: every frame k whose stencil reaches frame j.
    const index_t t = j % T, start = j - t;
    for (index_t tk = std::max<index_t>(0, t - 2); tk <= std::min(T - 1, t + 2); ++tk) {
      const Stencil st = time_stencil(tk, T);
      const index_t offset = t - st.first;
      if (offset < 0 || offset > 2 || st.c[offset] == 0) continue;
      const double c = inv * st.c[offset];
      const cplx* gk = &g[std::size_t(start + tk) * ns];
      for (std::size_t p = 0; p < ns; ++p) out[p] += c * gk[p];
    }
    double* field = ws.field.get();
    inverse(out, field, ws.scratch.get());
    for (std::size_t p = 0; p < real_size(); ++p) gradient[j * n * n + index_t(p)] += field[p];
  }
}

namespace {
void check_settings(index_t n, const NsResidualSettings& s) {
  NEUROPS_CHECK(n >= 4 && n % 2 == 0, "NsResidual: expected an even grid size n >= 4, found n = " << n);
  NEUROPS_CHECK(std::isfinite(s.viscosity) && s.viscosity > 0,
                "NsResidual: expected viscosity > 0, found " << s.viscosity);
  NEUROPS_CHECK(std::isfinite(s.forcing_amplitude), "NsResidual: forcing amplitude is not finite");
  NEUROPS_CHECK(std::isfinite(s.alpha) && s.alpha > 0, "NsResidual: expected alpha > 0, found " << s.alpha);
  NEUROPS_CHECK(std::isfinite(s.power), "NsResidual: the Sobolev power is not finite");
  NEUROPS_CHECK(std::isfinite(s.dt) && s.dt > 0, "NsResidual: expected dt > 0, found " << s.dt);
  NEUROPS_CHECK(std::isfinite(s.weight_minus) && std::isfinite(s.weight_plus),
                "NsResidual: the step weights are not finite");
  NEUROPS_CHECK(s.threads >= 0, "NsResidual: expected threads >= 0, found " << s.threads);
  NEUROPS_CHECK(
      s.time_derivative == NsTimeDerivative::reference_imex || (std::isfinite(s.frame_dt) && s.frame_dt > 0),
      "NsResidual: time_derivative = frames needs frame_dt > 0 (the spacing of the trajectory's frames), found "
          << s.frame_dt);
}

index_t frequency(index_t i, index_t n) { return i < (n + 1) / 2 ? i : i - n; }  // torch.fft.fftfreq * n
}  // namespace

NsResidual::NsResidual(index_t n, const NsResidualSettings& s) : n_(n), settings_(s), impl_(std::make_unique<Impl>()) {
  check_settings(n, s);
  Impl& I = *impl_;
  I.n = n;
  I.nc = n / 2 + 1;
  I.a = s.weight_minus;
  I.b = s.weight_plus;
  I.dt = s.dt;
  I.viscosity = s.viscosity;
  I.frame_dt = s.frame_dt;
  const std::size_t ns = I.spectral_size();
  for (auto* v : {&I.dx, &I.dy, &I.lap, &I.kinv, &I.dealias, &I.m, &I.pm, &I.weight, &I.multiplicity}) v->resize(ns);
  const double cut = (2.0 / 3.0) * double(n / 2);
  double worst_denominator = 1;
  for (index_t j = 0; j < n; ++j) {
    const index_t ky = frequency(j, n);  // -n/2 in the Nyquist row, as fftfreq
    for (index_t i = 0; i < I.nc; ++i) {
      const index_t kx = i;  // the rfft column n/2 has k_x = n/2 (only |k_x| is used)
      const std::size_t p = std::size_t(j * I.nc + i);
      const bool nyquist_x = i == n / 2, nyquist_y = j == n / 2;
      // The reference halves its last axis, which is y on our (y, x) frames: its d/dy vanishes on the
      // Nyquist row; its d/dx (full axis) takes k_x = -n/2 in the Nyquist column for k_y > 0 (and the
      // conjugate, +n/2, for k_y < 0), 0 where k_y is 0 or n/2 (irfft2 keeps only the real part there).
      const double kx_odd = !nyquist_x ? double(kx) : (ky == 0 || nyquist_y) ? 0.0 : ky > 0 ? -0.5 * n : 0.5 * n;
      I.dx[p] = kTwoPi * kx_odd;
      I.dy[p] = nyquist_y ? 0.0 : kTwoPi * double(ky);
      const double k2 = double(kx * kx + ky * ky);
      I.lap[p] = (i == 0 && j == 0) ? 1.0 : -kTwoPi * kTwoPi * k2;
      I.kinv[p] = -1.0 / I.lap[p];
      I.dealias[p] = !s.dealias || (std::abs(double(kx)) <= cut && std::abs(double(ky)) <= cut) ? 1.0 : 0.0;
      const double half = 0.5 * s.dt * s.viscosity * I.lap[p];
      worst_denominator = std::min({worst_denominator, std::abs(1 - half), std::abs(1 + half)});
      I.m[p] = s.weight_minus / (1 + half) + s.weight_plus / (1 - half);
      I.pm[p] = s.weight_plus / (1 - half) - s.weight_minus / (1 + half);
      I.weight[p] = std::pow(s.alpha + kTwoPi * kTwoPi * k2, 2 * s.power);
      I.multiplicity[p] = (i == 0 || nyquist_x) ? 1.0 : 2.0;
    }
  }
  // The IMEX steps exist only in the reference mode.
  NEUROPS_CHECK(
      s.time_derivative == NsTimeDerivative::frames || worst_denominator > 1e-8,
      "NsResidual: dt = " << s.dt << " makes 1 -+ (dt/2) nu Lap vanish on the " << n << "^2 grid; take a smaller dt");
  {
    std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
    detail::fftw_plan_threads(1);
    auto real = detail::fftw_buffer<double>(I.real_size());
    auto spec = detail::fftw_buffer<cplx>(ns);
    I.r2c =
        detail::FftwPlan(fftw_plan_dft_r2c_2d(int(n), int(n), real.get(), detail::as_fftw(spec.get()), FFTW_ESTIMATE));
    I.c2r =
        detail::FftwPlan(fftw_plan_dft_c2r_2d(int(n), int(n), detail::as_fftw(spec.get()), real.get(), FFTW_ESTIMATE));
  }
  I.f_hat = detail::fftw_buffer<cplx>(ns);
  set_forcing(NavierStokes2d::forcing(n, s.forcing_amplitude));
  const int threads = s.threads > 0 ? s.threads : omp_get_max_threads();
  for (int t = 0; t < threads; ++t) I.work.push_back(I.make_workspace());
}

NsResidual::~NsResidual() = default;
NsResidual::NsResidual(NsResidual&&) noexcept = default;
NsResidual& NsResidual::operator=(NsResidual&&) noexcept = default;

void NsResidual::set_forcing(const Tensor<double>& f) {
  NEUROPS_CHECK(f.shape() == Shape({n_, n_}),
                "NsResidual: forcing of shape " << f.shape() << ", expected (" << n_ << ", " << n_ << ")");
  NEUROPS_CHECK(std::all_of(f.begin(), f.end(), [](double v) { return std::isfinite(v); }),
                "NsResidual: the forcing field holds non-finite values");
  auto copy = detail::fftw_buffer<double>(impl_->real_size());
  std::copy(f.begin(), f.end(), copy.get());
  impl_->forward(copy.get(), impl_->f_hat.get());
}

namespace {
/// (B, T) of a trajectory (T, n, n) or (B, T, n, n), after checking it.
std::pair<index_t, index_t> frames_of(const Tensor<double>& w, index_t n, NsTimeDerivative mode) {
  NEUROPS_CHECK(w.rank() == 3 || w.rank() == 4,
                "NsResidual: trajectory of shape " << w.shape() << ", expected (T, n, n) or (B, T, n, n)");
  const int r = w.rank();
  NEUROPS_CHECK(w.size(r - 1) == n && w.size(r - 2) == n,
                "NsResidual: trajectory of shape " << w.shape() << ", expected frames of " << n << " x " << n);
  const index_t B = r == 4 ? w.size(0) : 1, T = w.size(r - 3);
  NEUROPS_CHECK(B >= 1 && T >= 1, "NsResidual: trajectory of shape " << w.shape() << " holds no frame");
  NEUROPS_CHECK(mode == NsTimeDerivative::reference_imex || T >= 3,
                "NsResidual: trajectory of shape " << w.shape() << " has " << T
                                                   << " frames; time_derivative = frames needs T >= 3");
  const auto bad = std::find_if(w.begin(), w.end(), [](double v) { return !std::isfinite(v); });
  NEUROPS_CHECK(bad == w.end(), "NsResidual: trajectory of shape "
                                    << w.shape() << " holds a non-finite value at flat index " << (bad - w.begin()));
  return {B, T};
}
}  // namespace

namespace {
/// Sets out.total = mean_b (mean_t q(b, t)^2)^(1/2) from out.per_step.
void set_total(NsResidualNorms& out) {
  const index_t B = out.per_step.size(0), T = out.per_step.size(1);
  out.total = 0;
  for (index_t bi = 0; bi < B; ++bi) {
    double sum = 0;
    for (index_t t = 0; t < T; ++t) sum += out.per_step(bi, t) * out.per_step(bi, t);
    out.total += std::sqrt(sum / double(T)) / double(B);
  }
}
}  // namespace

NsResidualNorms NsResidual::Impl::frames_norms(const std::vector<cplx>& r_hat, index_t B, index_t T,
                                               double unit) const {
  NsResidualNorms out;
  out.per_step = Tensor<double>(Shape({B, T}));
#pragma omp parallel for num_threads(int(work.size())) schedule(static)
  for (index_t k = 0; k < B * T; ++k)
    out.per_step[k] = unit * std::sqrt(weighted_square(&r_hat[std::size_t(k) * spectral_size()]));
  set_total(out);
  return out;
}

NsResidualNorms NsResidual::norms(const Tensor<double>& w) const {
  const auto [B, T] = frames_of(w, n_, settings_.time_derivative);
  const Impl& I = *impl_;
  const index_t frames = B * T, cells = n_ * n_;
  const double unit = settings_.grid_mean ? 1.0 / double(cells) : 1.0;
  if (settings_.time_derivative == NsTimeDerivative::frames)
    return I.frames_norms(I.frames_residual(w.data(), B, T, nullptr), B, T, unit);
  NsResidualNorms out;
  out.per_step = Tensor<double>(Shape({B, T}));
#pragma omp parallel for num_threads(int(I.work.size())) schedule(dynamic)
  for (index_t k = 0; k < frames; ++k) {
    Workspace& ws = I.work[std::size_t(omp_get_thread_num())];
    out.per_step[k] = unit * std::sqrt(I.frame(w.data() + k * cells, ws, nullptr, nullptr, nullptr, 0));
  }
  set_total(out);
  return out;
}

double NsResidual::value_and_gradient(const Tensor<double>& w, Tensor<double>& gradient) const {
  const auto [B, T] = frames_of(w, n_, settings_.time_derivative);
  const Impl& I = *impl_;
  const bool from_frames = settings_.time_derivative == NsTimeDerivative::frames;
  // The frames mode's residual spectra serve both the value and the adjoint.
  const std::vector<cplx> r_hat = from_frames ? I.frames_residual(w.data(), B, T, nullptr) : std::vector<cplx>{};
  const NsResidualNorms nrm =
      from_frames ? I.frames_norms(r_hat, B, T, settings_.grid_mean ? 1.0 / double(n_ * n_) : 1.0) : norms(w);
  gradient = Tensor<double>(w.shape());
  const index_t frames = B * T, cells = n_ * n_;
  const double unit = settings_.grid_mean ? 1.0 / double(cells) : 1.0;
  // total = unit mean_b (mean_t q^2)^(1/2), q^2 the weighted sum of one frame.
  std::vector<double> scale(std::size_t(B), 0.0);
  for (index_t bi = 0; bi < B; ++bi) {
    double sum = 0;
    for (index_t t = 0; t < T; ++t) sum += nrm.per_step(bi, t) * nrm.per_step(bi, t);
    const double rms = std::sqrt(sum / double(T)) / unit;  // (mean_t q^2)^(1/2) without the unit
    scale[std::size_t(bi)] = rms > 0 ? unit / (double(B) * double(T) * 2 * rms) : 0.0;
  }
  if (from_frames) {
    I.frames_gradient(w.data(), B, T, r_hat, scale, gradient.data());
    return nrm.total;
  }
#pragma omp parallel for num_threads(int(I.work.size())) schedule(dynamic)
  for (index_t k = 0; k < frames; ++k) {
    Workspace& ws = I.work[std::size_t(omp_get_thread_num())];
    I.frame(w.data() + k * cells, ws, nullptr, nullptr, gradient.data() + k * cells, scale[std::size_t(k / T)]);
  }
  return nrm.total;
}

namespace {
template <class To, class From>
Tensor<To> converted(const Tensor<From>& x) {
  Tensor<To> y(x.shape());
  std::transform(x.begin(), x.end(), y.begin(), [](From v) { return To(v); });
  return y;
}
}  // namespace

NsResidualNorms NsResidual::norms(const Tensor<float>& w) const { return norms(converted<double>(w)); }

double NsResidual::value_and_gradient(const Tensor<float>& w, Tensor<float>& gradient) const {
  Tensor<double> g;
  const double value = value_and_gradient(converted<double>(w), g);
  gradient = converted<float>(g);
  return value;
}

Tensor<double> NsResidual::residual(const Tensor<double>& w, Tensor<double>* w_t) const {
  const auto [B, T] = frames_of(w, n_, settings_.time_derivative);
  const Impl& I = *impl_;
  Tensor<double> r(w.shape());
  if (w_t) *w_t = Tensor<double>(w.shape());
  const index_t frames = B * T, cells = n_ * n_;
  if (settings_.time_derivative == NsTimeDerivative::frames) {
    std::vector<cplx> w_t_hat;
    const std::vector<cplx> r_hat = I.frames_residual(w.data(), B, T, w_t ? &w_t_hat : nullptr);
    const std::size_t ns = I.spectral_size();
#pragma omp parallel for num_threads(int(I.work.size())) schedule(dynamic)
    for (index_t k = 0; k < frames; ++k) {
      Workspace& ws = I.work[std::size_t(omp_get_thread_num())];
      I.store(&r_hat[std::size_t(k) * ns], ws, r.data() + k * cells);
      if (w_t) I.store(&w_t_hat[std::size_t(k) * ns], ws, w_t->data() + k * cells);
    }
    return r;
  }
#pragma omp parallel for num_threads(int(I.work.size())) schedule(dynamic)
  for (index_t k = 0; k < frames; ++k) {
    Workspace& ws = I.work[std::size_t(omp_get_thread_num())];
    I.frame(w.data() + k * cells, ws, r.data() + k * cells, w_t ? w_t->data() + k * cells : nullptr, nullptr, 0);
  }
  return r;
}

}  // namespace neurops::pde
