#pragma once
// The DeepONet benchmark operators (Lu et al. 2021, lululxvi/deeponet src/system.py, ADR_solver.py)
// with input functions u drawn from the RBF Gaussian random field (length scale 0.2) and s(0) = 0:
//
//   antiderivative      s' = u                                  on [0, T]
//   ode                 s' = -s^2 + u                           on [0, T]
//   pendulum            s1' = s2, s2' = -sin(s1) + u            on [0, T]
//   diffusion_reaction  s_t = D s_xx + k s^2 + u(x),  D = k = 0.01, s = 0 at t = 0 and at x = 0, 1
//
// The ODEs are integrated by the adaptive Dormand-Prince RK45 of rk45.hpp with u evaluated through the
// cubic spline of the GRF sample. Diffusion-reaction uses the reference's implicit scheme on
// Nx = m sensors times Nt = 100 time levels: Crank-Nicolson for diffusion and source and the reaction
// linearised about the old level, g(s^{n+1/2}) ~ g(s^n) + g'(s^n)(s^{n+1} - s^n)/2, so every step is one
// tridiagonal solve and the scheme is second order in h and dt.
//
// One sample holds the input at m equispaced sensors, the dense solution on the Cartesian product
// of the sensor/time grid, and the training-format queries: one uniformly random time per function for
// the ODEs (the first state component for the pendulum), 100 distinct random (x, t) grid points for
// diffusion-reaction.
#include <functional>
#include <string>
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/core/tensor.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/pde/rk45.hpp"

namespace neurops::pde {

enum class DeepOnetProblem { antiderivative, ode, pendulum, diffusion_reaction };
std::string to_string(DeepOnetProblem p);
/// "antiderivative" | "ode" | "pendulum" | "diffusion_reaction"; anything else is an Error.
DeepOnetProblem parse_deeponet_problem(const std::string& name);
/// Number of state components (2 for the pendulum, 1 otherwise).
int state_components(DeepOnetProblem p);

struct DeepOnetDataSettings {
  index_t sensors = 100;      // m; also Nx for diffusion-reaction
  double length_scale = 0.2;  // RBF kernel length scale of the input GRF
  index_t grf_points = 1000;  // N points of the Cholesky sampler
  double T = 1.0;             // time interval [0, T]
  Rk45Settings rk45;
  index_t query_points = 0;  // 0: the reference's count (1 for the ODEs, 100 for diffusion-reaction)
  double diffusion = 0.01, reaction = 0.01;
  index_t time_levels = 100;  // Nt for diffusion-reaction
};

struct DeepOnetSample {
  Tensor<double> input;         // (1, m): u at the sensors
  Tensor<double> dense;         // ODEs: (C, m) at the sensor times; diffusion-reaction: (1, Nt, Nx)
  Tensor<double> query_points;  // (P, 1) times, or (P, 2) (x, t) pairs
  Tensor<double> query_values;  // (P, 1)
};

class DeepOnetData {
 public:
  DeepOnetData(DeepOnetProblem problem, DeepOnetDataSettings settings = {});
  /// One sample, every random draw from `rng` (GRF first, then the query points).
  DeepOnetSample sample(Rng& rng) const;
  DeepOnetProblem problem() const noexcept { return problem_; }
  const DeepOnetDataSettings& settings() const noexcept { return settings_; }
  index_t query_count() const noexcept { return queries_; }
  Shape input_shape() const;
  Shape dense_shape() const;
  Shape query_point_shape() const;
  Shape query_value_shape() const;
  /// Sensor positions (times for the ODEs, x for diffusion-reaction).
  std::vector<double> sensor_points() const;

 private:
  DeepOnetProblem problem_;
  DeepOnetDataSettings settings_;
  index_t queries_;
  RbfGrf1d grf_;
};

/// Solves one of the ODE problems with s(0) = 0 for a given input u(t); returns (t_out.size(), C).
std::vector<double> solve_deeponet_ode(DeepOnetProblem problem, const std::function<double(double)>& u,
                                       const std::vector<double>& t_out, const Rk45Settings& settings = {},
                                       Rk45Stats* stats = nullptr);

/// s_t = D s_xx + k s^2 + f(x, t) on [0, 1] x [0, T], zero initial and boundary values, nx x nt grid
/// points (both ends included); returns s as (nt, nx).
Tensor<double> solve_diffusion_reaction(const std::function<double(double, double)>& source, double D, double k,
                                        index_t nx, index_t nt, double T = 1.0);

}  // namespace neurops::pde
