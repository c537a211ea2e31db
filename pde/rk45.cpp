#include "neurops/pde/rk45.hpp"

#include <algorithm>
#include <cmath>

#include "neurops/core/error.hpp"

namespace neurops::pde {

namespace {
// Dormand-Prince 5(4) tableau.
constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
constexpr double a21 = 1.0 / 5;
constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729;
constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176, a65 = -5103.0 / 18656;
constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84;
// Difference between the fifth- and fourth-order weights (the error estimate), last entry for k7.
constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525,
                 e7 = -1.0 / 40;
}  // namespace

std::vector<double> integrate_rk45(const OdeRhs& rhs, double t0, const std::vector<double>& y0,
                                   const std::vector<double>& t_out, const Rk45Settings& s, Rk45Stats* stats) {
  NEUROPS_CHECK(s.rtol > 0, "RK45: expected a relative tolerance > 0, found " << s.rtol);
  NEUROPS_CHECK(s.atol > 0, "RK45: expected an absolute tolerance > 0, found " << s.atol);
  NEUROPS_CHECK(s.max_step > 0, "RK45: expected max_step > 0, found " << s.max_step);
  NEUROPS_CHECK(s.fixed_step >= 0, "RK45: expected fixed_step >= 0, found " << s.fixed_step);
  NEUROPS_CHECK(!y0.empty(), "RK45: empty initial state");
  for (std::size_t i = 0; i < t_out.size(); ++i)
    NEUROPS_CHECK(
        t_out[i] >= t0 && (i == 0 || t_out[i] >= t_out[i - 1]),
        "RK45: output times must be >= t0 = " << t0 << " and non-decreasing; found " << t_out[i] << " at " << i);
  const std::size_t n = y0.size();
  Rk45Stats st;
  std::vector<double> y = y0, ynew(n), k1(n), k2(n), k3(n), k4(n), k5(n), k6(n), k7(n), tmp(n), out;
  out.reserve(t_out.size() * n);
  auto eval = [&](double t, const std::vector<double>& yy, std::vector<double>& k) {
    rhs(t, yy.data(), k.data());
    ++st.evaluations;
  };
  double t = t0;
  eval(t, y, k1);

  double h = s.fixed_step;
  if (h <= 0) {
    if (s.first_step > 0) {
      h = s.first_step;
    } else {  // Hairer, Norsett & Wanner II.4 starting step
      double d0 = 0, d1 = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double sc = s.atol + s.rtol * std::abs(y[i]);
        d0 += (y[i] / sc) * (y[i] / sc);
        d1 += (k1[i] / sc) * (k1[i] / sc);
      }
      d0 = std::sqrt(d0 / double(n));
      d1 = std::sqrt(d1 / double(n));
      h = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
      for (std::size_t i = 0; i < n; ++i) tmp[i] = y[i] + h * k1[i];
      eval(t + h, tmp, k2);
      double d2 = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double sc = s.atol + s.rtol * std::abs(y[i]);
        d2 += ((k2[i] - k1[i]) / sc) * ((k2[i] - k1[i]) / sc);
      }
      d2 = std::sqrt(d2 / double(n)) / h;
      const double h1 = std::max(d1, d2) <= 1e-15 ? std::max(1e-6, h * 1e-3) : std::pow(0.01 / std::max(d1, d2), 0.2);
      h = std::min(100 * h, h1);
    }
    h = std::min(h, s.max_step);
  }

  for (double target : t_out) {
    while (t < target) {
      NEUROPS_CHECK(
          st.accepted + st.rejected < s.max_steps,
          "RK45: more than max_steps = " << s.max_steps << " steps before t = " << target << " (at t = " << t << ")");
      double step = std::min(h, target - t);
      const bool last = step >= target - t;
      if (last) step = target - t;
      auto stage = [&](double ci, std::initializer_list<std::pair<double, const std::vector<double>*>> terms,
                       std::vector<double>& k) {
        for (std::size_t i = 0; i < n; ++i) {
          double acc = 0;
          for (const auto& [a, kk] : terms) acc += a * (*kk)[i];
          tmp[i] = y[i] + step * acc;
        }
        eval(t + ci * step, tmp, k);
      };
      stage(c2, {{a21, &k1}}, k2);
      stage(c3, {{a31, &k1}, {a32, &k2}}, k3);
      stage(c4, {{a41, &k1}, {a42, &k2}, {a43, &k3}}, k4);
      stage(c5, {{a51, &k1}, {a52, &k2}, {a53, &k3}, {a54, &k4}}, k5);
      stage(1.0, {{a61, &k1}, {a62, &k2}, {a63, &k3}, {a64, &k4}, {a65, &k5}}, k6);
      for (std::size_t i = 0; i < n; ++i)
        ynew[i] = y[i] + step * (b1 * k1[i] + b3 * k3[i] + b4 * k4[i] + b5 * k5[i] + b6 * k6[i]);
      const double tnew = last ? target : t + step;
      eval(tnew, ynew, k7);
      if (s.fixed_step > 0) {
        ++st.accepted;
        t = tnew;
        y.swap(ynew);
        k1.swap(k7);
        continue;
      }
      double err = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double e = step * (e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i] + e7 * k7[i]);
        const double sc = s.atol + s.rtol * std::max(std::abs(y[i]), std::abs(ynew[i]));
        err += (e / sc) * (e / sc);
      }
      err = std::sqrt(err / double(n));
      NEUROPS_CHECK(std::isfinite(err), "RK45: non-finite solution at t = " << t);
      const double factor = err == 0 ? 10.0 : std::clamp(0.9 * std::pow(err, -0.2), 0.2, 10.0);
      if (err <= 1) {
        ++st.accepted;
        t = tnew;
        y.swap(ynew);
        k1.swap(k7);  // first-same-as-last
        // A step shortened to hit an output time does not shrink the next one.
        h = std::min(s.max_step, (last ? std::max(h, step) : step) * factor);
      } else {
        ++st.rejected;
        h = step * std::max(0.2, factor);
      }
      NEUROPS_CHECK(h > 1e-14 * std::max(1.0, std::abs(t)), "RK45: step size underflow at t = " << t);
    }
    out.insert(out.end(), y.begin(), y.end());
  }
  if (stats) *stats = st;
  return out;
}

}  // namespace neurops::pde
