#include "neurops/nn/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace neurops::nn {

namespace {

double dot(const Tensor<double>& a, const Tensor<double>& b) { return a.vec().dot(b.vec()); }

std::vector<index_t> sample_indices(index_t n, int k, Rng& rng) {
  std::vector<index_t> idx;
  if (n <= k) {
    for (index_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    for (int i = 0; i < k; ++i) idx.push_back(static_cast<index_t>(rng.integer(static_cast<std::uint64_t>(n))));
  }
  return idx;
}

double rel_error(double a, double n, double floor) { return std::abs(a - n) / (std::max(std::abs(a), std::abs(n)) + floor); }

// Rounding noise of a central difference (f(x+h) - f(x-h)) / 2h: entries whose gradient is below it
// cannot be checked to a relative accuracy, so it joins the error floor.
double difference_noise(double fp, double fm, double eps) {
  return 64 * std::numeric_limits<double>::epsilon() * (std::abs(fp) + std::abs(fm)) / (2 * eps);
}

}  // namespace

double GradCheckResult::max_error() const {
  return std::max({input_error, parameter_error, adjoint_input_error, adjoint_parameter_error});
}

std::string GradCheckResult::summary() const {
  std::ostringstream os;
  os << "input " << input_error << ", parameters " << parameter_error << ", adjoint(input) " << adjoint_input_error
     << ", adjoint(parameters) " << adjoint_parameter_error << (worst.empty() ? "" : "; worst at " + worst);
  return os.str();
}

GradCheckResult gradcheck(Module<double>& m, const Tensor<double>& x_in, const GradCheckOptions& opt) {
  Rng rng(opt.seed);
  GradCheckResult res;
  m.train();
  Tensor<double> x = x_in;
  const Tensor<double> y0 = m.forward(x);
  const Tensor<double> w = Tensor<double>::randn(y0.shape(), rng);
  auto loss = [&](const Tensor<double>& xx) { return dot(m.forward(xx), w); };

  m.zero_grad();
  m.forward(x);
  const Tensor<double> dx = m.backward(w);
  NEUROPS_CHECK(dx.shape() == x.shape(), m.type_name() << ": backward returned " << dx.shape() << " for input " << x.shape());
  auto params = m.named_parameters();
  std::vector<Tensor<double>> grads;
  for (auto& p : params) grads.push_back(p.param->grad);

  auto track = [&](double err, double& slot, const std::string& where) {
    if (err > slot) slot = err;
    if (err >= res.max_error()) res.worst = where;
  };

  // 1. Central differences, input.
  if (opt.check_input) {
    const double floor = 1e-7 * std::max(1.0, dx.vec().cwiseAbs().maxCoeff());
    for (index_t i : sample_indices(x.numel(), opt.entries_per_tensor, rng)) {
      const double keep = x[i];
      x[i] = keep + opt.eps;
      const double fp = loss(x);
      x[i] = keep - opt.eps;
      const double fm = loss(x);
      x[i] = keep;
      track(rel_error(dx[i], (fp - fm) / (2 * opt.eps), std::max(floor, difference_noise(fp, fm, opt.eps))),
            res.input_error, "input[" + std::to_string(i) + "]");
    }
  }
  // 2. Central differences, parameters.
  for (std::size_t k = 0; k < params.size(); ++k) {
    Parameter<double>& p = *params[k].param;
    if (!p.trainable) continue;
    const double floor = 1e-7 * std::max(1.0, grads[k].numel() ? grads[k].vec().cwiseAbs().maxCoeff() : 0.0);
    for (index_t i : sample_indices(p.numel(), opt.entries_per_tensor, rng)) {
      const double keep = p.value[i];
      p.value[i] = keep + opt.eps;
      const double fp = loss(x);
      p.value[i] = keep - opt.eps;
      const double fm = loss(x);
      p.value[i] = keep;
      track(rel_error(grads[k][i], (fp - fm) / (2 * opt.eps), std::max(floor, difference_noise(fp, fm, opt.eps))),
            res.parameter_error,
            params[k].name + "[" + std::to_string(i) + "]");
    }
  }
  // 3. Adjoint test in a random input direction.
  const double h = 1e-5;
  if (opt.check_input) {
    const Tensor<double> v = Tensor<double>::randn(x.shape(), rng);
    Tensor<double> xp = x, xm = x;
    xp.vec() += h * v.vec();
    xm.vec() -= h * v.vec();
    const double jv_w = (loss(xp) - loss(xm)) / (2 * h);
    track(rel_error(jv_w, dot(v, dx), 1e-12), res.adjoint_input_error, "adjoint test (input)");
  }
  // 4. Adjoint test in a random direction of all trainable parameters together.
  std::vector<Tensor<double>> dirs;
  double v_dot_g = 0;
  bool any = false;
  for (std::size_t k = 0; k < params.size(); ++k) {
    dirs.push_back(Tensor<double>::randn(params[k].param->value.shape(), rng));
    if (params[k].param->trainable) {
      v_dot_g += dot(dirs[k], grads[k]);
      any = true;
    }
  }
  if (any) {
    auto shift = [&](double s) {
      for (std::size_t k = 0; k < params.size(); ++k)
        if (params[k].param->trainable) params[k].param->value.vec() += s * dirs[k].vec();
    };
    shift(h);
    const double fp = loss(x);
    shift(-2 * h);
    const double fm = loss(x);
    shift(h);
    track(rel_error((fp - fm) / (2 * h), v_dot_g, 1e-12), res.adjoint_parameter_error, "adjoint test (parameters)");
  }
  // Leave the module as the caller gave it: gradients of the analytic pass.
  for (std::size_t k = 0; k < params.size(); ++k) params[k].param->grad = grads[k];
  return res;
}

}  // namespace neurops::nn
