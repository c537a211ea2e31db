#include "neurops/pde/deeponet_data.hpp"

#include <algorithm>
#include <cmath>

namespace neurops::pde {

std::string to_string(DeepOnetProblem p) {
  switch (p) {
    case DeepOnetProblem::antiderivative:
      return "antiderivative";
    case DeepOnetProblem::ode:
      return "ode";
    case DeepOnetProblem::pendulum:
      return "pendulum";
    case DeepOnetProblem::diffusion_reaction:
      return "diffusion_reaction";
  }
  return "unknown";
}

DeepOnetProblem parse_deeponet_problem(const std::string& name) {
  for (auto p : {DeepOnetProblem::antiderivative, DeepOnetProblem::ode, DeepOnetProblem::pendulum,
                 DeepOnetProblem::diffusion_reaction})
    if (to_string(p) == name) return p;
  NEUROPS_THROW("DeepONet problem: expected antiderivative, ode, pendulum or diffusion_reaction, found '" << name
                                                                                                          << "'");
}

int state_components(DeepOnetProblem p) { return p == DeepOnetProblem::pendulum ? 2 : 1; }

std::vector<double> solve_deeponet_ode(DeepOnetProblem problem, const std::function<double(double)>& u,
                                       const std::vector<double>& t_out, const Rk45Settings& settings,
                                       Rk45Stats* stats) {
  OdeRhs rhs;
  switch (problem) {
    case DeepOnetProblem::antiderivative:
      rhs = [&u](double t, const double*, double* dy) { dy[0] = u(t); };
      break;
    case DeepOnetProblem::ode:
      rhs = [&u](double t, const double* y, double* dy) { dy[0] = -y[0] * y[0] + u(t); };
      break;
    case DeepOnetProblem::pendulum:
      rhs = [&u](double t, const double* y, double* dy) {
        dy[0] = y[1];
        dy[1] = -std::sin(y[0]) + u(t);
      };
      break;
    case DeepOnetProblem::diffusion_reaction:
      NEUROPS_THROW("solve_deeponet_ode: diffusion_reaction is a PDE; use solve_diffusion_reaction");
  }
  return integrate_rk45(rhs, 0.0, std::vector<double>(std::size_t(state_components(problem)), 0.0), t_out, settings,
                        stats);
}

Tensor<double> solve_diffusion_reaction(const std::function<double(double, double)>& source, double D, double k,
                                        index_t nx, index_t nt, double T) {
  NEUROPS_CHECK(nx >= 3 && nt >= 2,
                "diffusion-reaction: expected nx >= 3 and nt >= 2, found nx = " << nx << ", nt = " << nt);
  NEUROPS_CHECK(D > 0, "diffusion-reaction: expected a diffusion coefficient D > 0, found " << D);
  NEUROPS_CHECK(T > 0, "diffusion-reaction: expected T > 0, found " << T);
  const double h = 1.0 / double(nx - 1), dt = T / double(nt - 1);
  const index_t m = nx - 2;  // interior unknowns
  Tensor<double> s({nt, nx});
  const auto interior = static_cast<std::size_t>(m), nodes = static_cast<std::size_t>(nx);
  std::vector<double> diag(interior), rhs(interior), cprime(interior), f_old(nodes), f_new(nodes);
  const double off = -0.5 * D / (h * h);
  for (index_t i = 0; i < nx; ++i) f_old[std::size_t(i)] = source(double(i) * h, 0.0);
  for (index_t n = 0; n + 1 < nt; ++n) {
    const double t_new = double(n + 1) * dt;
    for (index_t i = 0; i < nx; ++i) f_new[std::size_t(i)] = source(double(i) * h, t_new);
    for (index_t q = 0; q < m; ++q) {
      const index_t i = q + 1;
      const double sl = s(n, i - 1), sc = s(n, i), sr = s(n, i + 1);
      const double g = k * sc * sc, dg = 2 * k * sc;
      diag[std::size_t(q)] = 1.0 / dt + D / (h * h) - 0.5 * dg;
      rhs[std::size_t(q)] = sc / dt + 0.5 * D * (sl - 2 * sc + sr) / (h * h) +
                            0.5 * (f_old[std::size_t(i)] + f_new[std::size_t(i)]) + g - 0.5 * dg * sc;
    }
    // Thomas algorithm (constant off-diagonals; boundary values are zero).
    for (index_t q = 0; q < m; ++q) {
      const double denom = diag[std::size_t(q)] - (q ? off * cprime[std::size_t(q - 1)] : 0.0);
      cprime[std::size_t(q)] = off / denom;
      rhs[std::size_t(q)] = (rhs[std::size_t(q)] - (q ? off * rhs[std::size_t(q - 1)] : 0.0)) / denom;
    }
    for (index_t q = m - 1; q >= 0; --q) {
      const double next = q + 1 < m ? s(n + 1, q + 2) : 0.0;
      s(n + 1, q + 1) = rhs[std::size_t(q)] - cprime[std::size_t(q)] * next;
    }
    f_old.swap(f_new);
  }
  for (double v : s) NEUROPS_CHECK(std::isfinite(v), "diffusion-reaction: the solution blew up (non-finite values)");
  return s;
}

DeepOnetData::DeepOnetData(DeepOnetProblem problem, DeepOnetDataSettings settings)
    : problem_(problem),
      settings_(settings),
      queries_(settings.query_points > 0 ? settings.query_points
                                         : (problem == DeepOnetProblem::diffusion_reaction ? 100 : 1)),
      grf_(settings.length_scale, settings.grf_points,
           problem == DeepOnetProblem::diffusion_reaction ? 1.0 : settings.T) {
  NEUROPS_CHECK(settings.sensors >= 4, "DeepONet data: expected at least 4 sensors, found " << settings.sensors);
  NEUROPS_CHECK(settings.rk45.rtol > 0,
                "DeepONet data: expected an RK45 relative tolerance > 0, found " << settings.rk45.rtol);
  NEUROPS_CHECK(settings.rk45.atol > 0,
                "DeepONet data: expected an RK45 absolute tolerance > 0, found " << settings.rk45.atol);
  if (problem == DeepOnetProblem::diffusion_reaction) {
    NEUROPS_CHECK(settings.time_levels >= 2,
                  "DeepONet data: expected at least 2 time levels, found " << settings.time_levels);
    NEUROPS_CHECK(queries_ <= settings.sensors * settings.time_levels,
                  "DeepONet data: " << queries_ << " distinct query points requested from a grid of "
                                    << settings.sensors * settings.time_levels);
  }
}

Shape DeepOnetData::input_shape() const { return {1, settings_.sensors}; }
Shape DeepOnetData::dense_shape() const {
  if (problem_ == DeepOnetProblem::diffusion_reaction) return {1, settings_.time_levels, settings_.sensors};
  return {state_components(problem_), settings_.sensors};
}
Shape DeepOnetData::query_point_shape() const {
  return {queries_, problem_ == DeepOnetProblem::diffusion_reaction ? 2 : 1};
}
Shape DeepOnetData::query_value_shape() const { return {queries_, 1}; }

std::vector<double> DeepOnetData::sensor_points() const {
  const double end = problem_ == DeepOnetProblem::diffusion_reaction ? 1.0 : settings_.T;
  std::vector<double> x(static_cast<std::size_t>(settings_.sensors));
  for (index_t i = 0; i < settings_.sensors; ++i) x[std::size_t(i)] = end * double(i) / double(settings_.sensors - 1);
  return x;
}

DeepOnetSample DeepOnetData::sample(Rng& rng) const {
  DeepOnetSample out;
  const CubicSpline1d u = grf_.sample(rng);
  const std::vector<double> sensors = sensor_points();
  const index_t m = settings_.sensors;
  out.input = Tensor<double>(input_shape());
  for (index_t i = 0; i < m; ++i) out.input[i] = u(sensors[std::size_t(i)]);
  out.query_points = Tensor<double>(query_point_shape());
  out.query_values = Tensor<double>(query_value_shape());

  if (problem_ == DeepOnetProblem::diffusion_reaction) {
    // The source is the input sampled at the Nx = m grid points, constant in time (as the reference).
    const index_t nt = settings_.time_levels;
    const Tensor<double>& values = out.input;
    const double h = 1.0 / double(m - 1);
    auto source = [&values, h, m](double x, double) {
      const index_t i = std::clamp<index_t>(index_t(std::llround(x / h)), 0, m - 1);
      return values[i];
    };
    Tensor<double> s = solve_diffusion_reaction(source, settings_.diffusion, settings_.reaction, m, nt, 1.0);
    // Distinct random grid points by a partial Fisher-Yates shuffle.
    std::vector<index_t> ids(static_cast<std::size_t>(m * nt));
    for (std::size_t p = 0; p < ids.size(); ++p) ids[p] = index_t(p);
    for (index_t q = 0; q < queries_; ++q) {
      const auto pick = index_t(q) + index_t(rng.integer(std::uint64_t(index_t(ids.size()) - q)));
      std::swap(ids[std::size_t(q)], ids[std::size_t(pick)]);
      const index_t it = ids[std::size_t(q)] / m, ix = ids[std::size_t(q)] % m;
      out.query_points(q, 0) = double(ix) * h;
      out.query_points(q, 1) = double(it) / double(nt - 1);
      out.query_values(q, 0) = s(it, ix);
    }
    out.dense = std::move(s);
    out.dense.reshape(dense_shape());
    return out;
  }

  auto u_of_t = [&u](double t) { return u(t); };
  const int C = state_components(problem_);
  const std::vector<double> dense = solve_deeponet_ode(problem_, u_of_t, sensors, settings_.rk45);
  out.dense = Tensor<double>(dense_shape());
  for (index_t i = 0; i < m; ++i)
    for (int c = 0; c < C; ++c) out.dense(c, i) = dense[std::size_t(i * C + c)];
  std::vector<double> times(static_cast<std::size_t>(queries_));
  for (auto& t : times) t = settings_.T * rng.uniform();
  std::vector<std::size_t> order(times.size());
  for (std::size_t q = 0; q < order.size(); ++q) order[q] = q;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return times[a] < times[b]; });
  std::vector<double> sorted(times.size());
  for (std::size_t q = 0; q < order.size(); ++q) sorted[q] = times[order[q]];
  const std::vector<double> at_queries = solve_deeponet_ode(problem_, u_of_t, sorted, settings_.rk45);
  for (std::size_t q = 0; q < order.size(); ++q) {
    out.query_points(index_t(order[q]), 0) = sorted[q];
    out.query_values(index_t(order[q]), 0) = at_queries[q * std::size_t(C)];
  }
  return out;
}

}  // namespace neurops::pde
