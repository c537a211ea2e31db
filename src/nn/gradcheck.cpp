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

double rel_error(double a, double n, double floor) {
  return std::abs(a - n) / (std::max(std::abs(a), std::abs(n)) + floor);
}

// Rounding noise of a central difference (f(x+h) - f(x-h)) / 2h. The loss <y, w> is a sum of
// terms y_i w_i whose rounding errors scale with sum |y_i w_i| (`magnitude`), not with |f|: when the
// terms cancel, |f| understates the noise. Entries whose gradient is below it cannot be checked to a
// relative accuracy, so it joins the error floor.
double difference_noise(double fp, double fm, double magnitude, double eps) {
  return 64 * std::numeric_limits<double>::epsilon() * std::max(std::abs(fp) + std::abs(fm), 2 * magnitude) / (2 * eps);
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

namespace {

// The check over any differentiable map of several inputs: `run(xs)` evaluates the output,
// `pull(w)` returns one gradient per input (and accumulates the parameter gradients).
template <class Run, class Pull>
GradCheckResult check(ModuleBase<double>& m, std::vector<Tensor<double>> xs, Run&& run, Pull&& pull,
                      const GradCheckOptions& opt) {
  Rng rng(opt.seed);
  GradCheckResult res;
  m.train();
  const Tensor<double> y0 = run(xs);
  const Tensor<double> w = Tensor<double>::randn(y0.shape(), rng);
  auto loss = [&]() { return dot(run(xs), w); };
  const double magnitude = (y0.vec().array() * w.vec().array()).abs().sum();

  m.zero_grad();
  run(xs);
  const std::vector<Tensor<double>> dxs = pull(w);
  NEUROPS_CHECK(dxs.size() == xs.size(),
                m.type_name() << ": backward returned " << dxs.size() << " gradients for " << xs.size() << " inputs");
  for (std::size_t k = 0; k < xs.size(); ++k)
    NEUROPS_CHECK(dxs[k].shape() == xs[k].shape(), m.type_name()
                                                       << ": backward returned " << dxs[k].shape() << " for input " << k
                                                       << " of shape " << xs[k].shape());
  auto params = m.named_parameters();
  std::vector<Tensor<double>> grads;
  for (auto& p : params) grads.push_back(p.param->grad);

  auto track = [&](double err, double& slot, const std::string& where) {
    if (err > slot) slot = err;
    if (err >= res.max_error()) res.worst = where;
  };
  auto name = [&](std::size_t k) { return xs.size() == 1 ? std::string("input") : "input " + std::to_string(k); };

  // 1. Central differences, inputs.
  if (opt.check_input) {
    for (std::size_t k = 0; k < xs.size(); ++k) {
      Tensor<double>& x = xs[k];
      const Tensor<double>& dx = dxs[k];
      const double floor = 1e-7 * std::max(1.0, dx.numel() ? dx.vec().cwiseAbs().maxCoeff() : 0.0);
      for (index_t i : sample_indices(x.numel(), opt.entries_per_tensor, rng)) {
        const double keep = x[i];
        x[i] = keep + opt.eps;
        const double fp = loss();
        x[i] = keep - opt.eps;
        const double fm = loss();
        x[i] = keep;
        track(
            rel_error(dx[i], (fp - fm) / (2 * opt.eps), std::max(floor, difference_noise(fp, fm, magnitude, opt.eps))),
            res.input_error, name(k) + "[" + std::to_string(i) + "]");
      }
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
      const double fp = loss();
      p.value[i] = keep - opt.eps;
      const double fm = loss();
      p.value[i] = keep;
      track(rel_error(grads[k][i], (fp - fm) / (2 * opt.eps),
                      std::max(floor, difference_noise(fp, fm, magnitude, opt.eps))),
            res.parameter_error, params[k].name + "[" + std::to_string(i) + "]");
    }
  }
  // 3. Adjoint test in a random direction of all inputs together.
  const double h = 1e-5;
  if (opt.check_input) {
    std::vector<Tensor<double>> v;
    double v_dot_dx = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      v.push_back(Tensor<double>::randn(xs[k].shape(), rng));
      v_dot_dx += dot(v[k], dxs[k]);
    }
    auto shift = [&](double s) {
      for (std::size_t k = 0; k < xs.size(); ++k) xs[k].vec() += s * v[k].vec();
    };
    shift(h);
    const double fp = loss();
    shift(-2 * h);
    const double fm = loss();
    shift(h);
    track(rel_error((fp - fm) / (2 * h), v_dot_dx, 1e-12), res.adjoint_input_error, "adjoint test (input)");
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
    const double fp = loss();
    shift(-2 * h);
    const double fm = loss();
    shift(h);
    track(rel_error((fp - fm) / (2 * h), v_dot_g, 1e-12), res.adjoint_parameter_error, "adjoint test (parameters)");
  }
  // Leave the module as the caller gave it: gradients of the analytic pass.
  for (std::size_t k = 0; k < params.size(); ++k) params[k].param->grad = grads[k];
  return res;
}

}  // namespace

GradCheckResult gradcheck(Module<double>& m, const Tensor<double>& x, const GradCheckOptions& opt) {
  return check(
      m, {x}, [&](const std::vector<Tensor<double>>& xs) { return m.forward(xs[0]); },
      [&](const Tensor<double>& w) { return std::vector<Tensor<double>>{m.backward(w)}; }, opt);
}

GradCheckResult gradcheck(Model<double>& m, const Inputs<double>& inputs, const GradCheckOptions& opt) {
  std::vector<Tensor<double>> xs;
  for (std::size_t k = 0; k < inputs.size(); ++k) xs.push_back(inputs[k]);
  return check(
      m, xs, [&](const std::vector<Tensor<double>>& v) { return m.forward(Inputs<double>(v)); },
      [&](const Tensor<double>& w) { return m.backward(w); }, opt);
}

}  // namespace neurops::nn
