#pragma once
// Dormand-Prince RK5(4) with adaptive step size (the RK45 of scipy's solve_ivp, used by DeepONet's
// ODE data): fifth-order solution propagated, embedded fourth-order estimate for the error, FSAL.
// Error norm: RMS over components of err_i / (atol + rtol max(|y_i|, |y_new_i|)); a step is accepted
// when the norm is <= 1 and the next step is h * clamp(0.9 norm^(-1/5), 0.2, 10).
// Requested output times are hit exactly by shortening the step that would pass them.
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace neurops::pde {

struct Rk45Settings {
  double rtol = 1e-8;
  double atol = 1e-10;
  double first_step = 0;  // 0: chosen from the initial derivative (Hairer's rule)
  double max_step = std::numeric_limits<double>::infinity();
  std::int64_t max_steps = 1000000;
  double fixed_step = 0;  // > 0: no adaptivity, steps of this size (for order checks)
};

struct Rk45Stats {
  std::int64_t accepted = 0, rejected = 0, evaluations = 0;
};

/// dy/dt = rhs(t, y): writes dim values to dydt.
using OdeRhs = std::function<void(double t, const double* y, double* dydt)>;

/// Integrates from (t0, y0) through the increasing times `t_out` (each >= t0) and returns the
/// states there, row-major (t_out.size(), dim). Throws on bad settings or when max_steps is exceeded.
std::vector<double> integrate_rk45(const OdeRhs& rhs, double t0, const std::vector<double>& y0,
                                   const std::vector<double>& t_out, const Rk45Settings& settings = {},
                                   Rk45Stats* stats = nullptr);

}  // namespace neurops::pde
