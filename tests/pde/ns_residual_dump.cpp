// ns_residual_dump OUT.h5 — a short Navier-Stokes trajectory and what pde::NsResidual makes of it
// under several settings, for tests/pde/check_ns_residual_torch.py (the reference's formulas in
// PyTorch). Writes /w (B, T, n, n): batch entry 0 from the solver, entry 1 the same frames plus noise
// and a mean (exercising Nyquist content and the k = 0 conventions), and per setting i the group /c<i>
// with settings = [viscosity, forcing amplitude, alpha, power, dt, weight_minus, weight_plus, dealias]
// and the results residual, w_t (B, T, n, n), per_step (B, T), total (1); per frames-mode setting i
// the group /f<i> with settings = [viscosity, forcing amplitude, alpha, power, frame_dt, dealias] and
// the same results plus gradient (B, T, n, n), the gradient of total.
#include <cstdio>
#include <vector>

#include "neurops/io/hdf5.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/pde/navier_stokes.hpp"
#include "neurops/pde/ns_residual.hpp"

using namespace neurops;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ns_residual_dump OUT.h5\n");
    return 2;
  }
  try {
    const index_t n = 32, T = 3;
    pde::PeriodicGrf grf(n, {.alpha = 2.5, .tau = 7.0});
    Rng rng(2024);
    pde::NavierStokes2d ns({.n = n, .viscosity = 1e-3, .dt = 1e-3, .threads = 1});
    ns.set_vorticity(grf.sample(rng));
    const Tensor<double> frames = ns.run({0.1, 0.2, 0.3});
    Tensor<double> w({2, T, n, n});
    const index_t per = T * n * n;
    for (index_t p = 0; p < per; ++p) {
      w[p] = frames[p];
      w[per + p] = frames[p] + 0.25 + 0.05 * rng.normal();
    }
    const std::vector<pde::NsResidualSettings> settings{
        {.dt = 5e-2},                                           // the notebook's weights (1/2, 1/2)
        {.dt = 1e-2, .weight_minus = 0.0, .weight_plus = 1.0},  // OutConvFT's default weights
        {.viscosity = 1e-2, .forcing_amplitude = 0.3, .alpha = 2.0, .power = -0.5, .dt = 2e-2, .dealias = false},
        {.dt = 1e-6}};  // the notebook's dt: the reference's difference quotient is rounding-dominated here
    auto out = io::H5File::create(argv[1]);
    out.write("/w", w);
    for (std::size_t i = 0; i < settings.size(); ++i) {
      const auto& s = settings[i];
      pde::NsResidual est(n, s);
      const std::string g = "/c" + std::to_string(i);
      out.write(g + "/settings", Tensor<double>(Shape({8}), {s.viscosity, s.forcing_amplitude, s.alpha, s.power, s.dt,
                                                             s.weight_minus, s.weight_plus, s.dealias ? 1.0 : 0.0}));
      Tensor<double> w_t;
      out.write(g + "/residual", est.residual(w, &w_t));
      out.write(g + "/w_t", w_t);
      const pde::NsResidualNorms q = est.norms(w);
      out.write(g + "/per_step", q.per_step);
      out.write(g + "/total", Tensor<double>(Shape({1}), {q.total}));
    }
    const std::vector<pde::NsResidualSettings> frames_settings{
        {.time_derivative = pde::NsTimeDerivative::frames, .frame_dt = 0.1},
        {.viscosity = 1e-2,
         .forcing_amplitude = 0.3,
         .alpha = 2.0,
         .power = -0.5,
         .time_derivative = pde::NsTimeDerivative::frames,
         .frame_dt = 0.05,
         .dealias = false}};
    for (std::size_t i = 0; i < frames_settings.size(); ++i) {
      const auto& s = frames_settings[i];
      pde::NsResidual est(n, s);
      const std::string g = "/f" + std::to_string(i);
      out.write(g + "/settings", Tensor<double>(Shape({6}), {s.viscosity, s.forcing_amplitude, s.alpha, s.power,
                                                             s.frame_dt, s.dealias ? 1.0 : 0.0}));
      Tensor<double> w_t, gradient;
      out.write(g + "/residual", est.residual(w, &w_t));
      out.write(g + "/w_t", w_t);
      const pde::NsResidualNorms q = est.norms(w);
      out.write(g + "/per_step", q.per_step);
      out.write(g + "/total", Tensor<double>(Shape({1}), {est.value_and_gradient(w, gradient)}));
      out.write(g + "/gradient", gradient);
    }
    out.commit();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ns_residual_dump: error: %s\n", e.what());
    return 1;
  }
}
