#include "neurops/nn/optim.hpp"

#include <algorithm>
#include <cmath>

#include "neurops/io/hdf5.hpp"

namespace neurops::nn {

template <class T>
Optimizer<T>::Optimizer(ModuleBase<T>& module, double lr, double weight_decay, double momentum,
                        const std::vector<ParamGroupSpec>& specs, std::vector<std::string> state_names)
    : params_(module.named_parameters()), state_names_(std::move(state_names)) {
  NEUROPS_CHECK(lr >= 0 && weight_decay >= 0,
                "optimizer: learning rate " << lr << " and weight decay " << weight_decay << " must be non-negative");
  for (const auto& s : specs) {
    NEUROPS_CHECK(s.select, "optimizer: parameter group '" << s.label << "' has no selection predicate");
    groups_.push_back({s.label, s.lr.value_or(lr), s.weight_decay.value_or(weight_decay), momentum, {}});
  }
  Group rest{"default", lr, weight_decay, momentum, {}};
  for (std::size_t i = 0; i < params_.size(); ++i) {
    bool placed = false;
    for (std::size_t g = 0; g < specs.size() && !placed; ++g)
      if (specs[g].select(params_[i].name)) {
        groups_[g].members.push_back(i);
        placed = true;
      }
    if (!placed) rest.members.push_back(i);
  }
  if (!rest.members.empty() || groups_.empty()) groups_.push_back(rest);
  for (const auto& p : params_) {
    std::vector<Tensor<T>> buffers;
    for (std::size_t k = 0; k < state_names_.size(); ++k) buffers.emplace_back(p.param->value.shape());
    state_.push_back(std::move(buffers));
  }
  param_steps_.assign(params_.size(), 0);
}

template <class T>
void Optimizer<T>::step() {
  for (const auto& g : groups_)
    for (std::size_t i : g.members) {
      Parameter<T>& p = *params_[i].param;
      if (!p.trainable) continue;
      NEUROPS_CHECK(p.grad.shape() == p.value.shape(), type_name()
                                                           << ": parameter '" << params_[i].name << "' has value "
                                                           << p.value.shape() << " but gradient " << p.grad.shape());
      update(g, p, state_[i], ++param_steps_[i]);
    }
  ++steps_;
}

template <class T>
void Optimizer<T>::zero_grad() {
  for (auto& p : params_) p.param->grad.zero();
}

template <class T>
void Optimizer<T>::save_state(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "type", type_name());
  file.set_attr(group, "steps", steps_);
  std::vector<double> lrs, decays, momenta;
  for (const auto& g : groups_) {
    lrs.push_back(g.lr);
    decays.push_back(g.weight_decay);
    momenta.push_back(g.momentum);
  }
  file.set_attr(group, "lr", lrs);
  file.set_attr(group, "weight_decay", decays);
  file.set_attr(group, "momentum", momenta);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::string base = group + "/" + params_[i].name;
    file.create_group(base);
    file.set_attr(base, "step", param_steps_[i]);
    for (std::size_t k = 0; k < state_names_.size(); ++k) file.write(base + "/" + state_names_[k], state_[i][k], true);
  }
}

template <class T>
void Optimizer<T>::load_state(const io::H5File& file, const std::string& group) {
  const std::string where = "'" + file.path().string() + "':" + group;
  NEUROPS_CHECK(file.exists(group), where << ": no optimizer state there");
  const std::string type = file.attr_string(group, "type");
  NEUROPS_CHECK(type == type_name(), where << ": state of a " << type << " optimizer, this one is " << type_name());
  const auto lrs = file.attr_reals(group, "lr"), decays = file.attr_reals(group, "weight_decay"),
             momenta = file.attr_reals(group, "momentum");
  NEUROPS_CHECK(lrs.size() == groups_.size() && decays.size() == groups_.size() && momenta.size() == groups_.size(),
                where << ": state has " << lrs.size() << " parameter groups, the optimizer " << groups_.size());
  std::vector<std::vector<Tensor<T>>> state;
  std::vector<std::int64_t> steps;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::string base = group + "/" + params_[i].name;
    NEUROPS_CHECK(file.exists(base), where << ": no state for parameter '" << params_[i].name << "'");
    steps.push_back(file.attr_int(base, "step"));
    NEUROPS_CHECK(steps.back() >= 0 && steps.back() < (std::int64_t(1) << 40),
                  where << ": step " << steps.back() << " of '" << params_[i].name << "' is outside [0, 2^40)");
    std::vector<Tensor<T>> buffers;
    for (const auto& name : state_names_) {
      const std::string ds = base + "/" + name;
      NEUROPS_CHECK(file.is_dataset(ds),
                    where << ": parameter '" << params_[i].name << "' lacks its " << name << " buffer");
      const Shape found = file.shape(ds);
      NEUROPS_CHECK(found == params_[i].param->value.shape(), where << ": " << name << " of '" << params_[i].name
                                                                    << "' has shape " << found << ", the parameter "
                                                                    << params_[i].param->value.shape());
      buffers.push_back(file.read<T>(ds));
      NEUROPS_CHECK(buffers.back().vec().allFinite(),
                    where << ": " << name << " of '" << params_[i].name << "' holds NaN or Inf values");
    }
    state.push_back(std::move(buffers));
  }
  for (std::size_t g = 0; g < groups_.size(); ++g)
    NEUROPS_CHECK(std::isfinite(lrs[g]) && lrs[g] >= 0 && std::isfinite(decays[g]) && std::isfinite(momenta[g]),
                  where << ": parameter group " << g << " has learning rate " << lrs[g] << ", weight decay "
                        << decays[g] << ", momentum " << momenta[g] << "; expected finite values, rate >= 0");
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].lr = lrs[g];
    groups_[g].weight_decay = decays[g];
    groups_[g].momentum = momenta[g];
  }
  state_ = std::move(state);
  param_steps_ = std::move(steps);
  steps_ = file.attr_int(group, "steps");
}

// ---- SGD ----------------------------------------------------------------------------------------

template <class T>
Sgd<T>::Sgd(ModuleBase<T>& module, SgdOptions o, const std::vector<ParamGroupSpec>& groups)
    : Optimizer<T>(module, o.lr, o.weight_decay, o.momentum, groups, {"momentum_buffer"}), options_(o) {
  NEUROPS_CHECK(o.momentum >= 0 && o.dampening >= 0,
                "SGD: momentum " << o.momentum << " and dampening " << o.dampening << " must be non-negative");
  NEUROPS_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
                "SGD: Nesterov momentum needs momentum > 0 and zero dampening (got momentum "
                    << o.momentum << ", dampening " << o.dampening << ")");
}

template <class T>
void Sgd<T>::update(const typename Optimizer<T>::Group& g, Parameter<T>& p, std::vector<Tensor<T>>& state,
                    std::int64_t step) {
  const T lr = static_cast<T>(g.lr), wd = static_cast<T>(g.weight_decay), mu = static_cast<T>(g.momentum);
  const T keep = static_cast<T>(1 - options_.dampening);
  // The momentum may be switched on later (OneCycle cycles it), so the buffer always exists.
  const bool use_momentum = g.momentum != 0;
  T* w = p.value.data();
  const T* grad = p.grad.data();
  T* buf = state[0].data();
  const index_t n = p.value.numel();
  for (index_t i = 0; i < n; ++i) {
    T d = grad[i];
    if (g.weight_decay != 0) d = d + wd * w[i];
    if (use_momentum) {
      buf[i] = step == 1 ? d : mu * buf[i] + keep * d;
      d = options_.nesterov ? d + mu * buf[i] : buf[i];
    }
    w[i] = w[i] - lr * d;
  }
}

// ---- Adam / AdamW -------------------------------------------------------------------------------

template <class T>
Adam<T>::Adam(ModuleBase<T>& module, AdamOptions o, const std::vector<ParamGroupSpec>& groups, bool decoupled)
    : Optimizer<T>(module, o.lr, o.weight_decay, o.beta1, groups, {"exp_avg", "exp_avg_sq"}),
      options_(o),
      decoupled_(decoupled) {
  NEUROPS_CHECK(
      o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 && o.eps >= 0,
      type_name() << ": betas (" << o.beta1 << ", " << o.beta2 << ") must lie in [0, 1), eps " << o.eps << " >= 0");
}

template <class T>
void Adam<T>::update(const typename Optimizer<T>::Group& g, Parameter<T>& p, std::vector<Tensor<T>>& state,
                     std::int64_t step) {
  const double beta1 = g.momentum, beta2 = options_.beta2;
  const double bias_correction1 = 1 - std::pow(beta1, double(step));
  const double bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, double(step)));
  const T step_size = static_cast<T>(g.lr / bias_correction1);
  const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), eps = static_cast<T>(options_.eps);
  const T one_b1 = static_cast<T>(1 - beta1), one_b2 = static_cast<T>(1 - beta2);
  const T bc2 = static_cast<T>(bias_correction2_sqrt), wd = static_cast<T>(g.weight_decay);
  const T decay = static_cast<T>(1 - g.lr * g.weight_decay);
  T* __restrict w = p.value.data();
  const T* __restrict grad = p.grad.data();
  T* __restrict m = state[0].data();
  T* __restrict v = state[1].data();
  const index_t n = p.value.numel();
  // One branch-free, vectorisable pass for Adam and AdamW alike (shrink = 1 or wd_l2 = 0 are exact
  // no-ops); the element-wise operations are those of torch.optim, in the same order.
  const T wd_l2 = decoupled_ ? T(0) : wd;
  const T shrink = decoupled_ ? decay : T(1);
  auto update_range = [=](index_t begin, index_t end) {
#pragma omp simd
    for (index_t i = begin; i < end; ++i) {
      const T wi = w[i] * shrink;
      const T gi = grad[i] + wd_l2 * wi;
      const T mi = b1 * m[i] + one_b1 * gi;
      const T vi = b2 * v[i] + one_b2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = wi - step_size * mi / (std::sqrt(vi) / bc2 + eps);
    }
  };
  // Blocks of 16K entries; small parameters stay on the calling thread (same outlined, vectorised
  // loop either way).
  constexpr index_t block = 1 << 14;
#pragma omp parallel for schedule(static) if (n > 4 * block)
  for (index_t b = 0; b < n; b += block) update_range(b, std::min(n, b + block));
}

template <class T>
double clip_grad_norm(ModuleBase<T>& module, double max_norm) {
  double sum = 0;
  auto params = module.named_parameters();
  for (auto& p : params)
    if (p.param->trainable)
      for (T g : p.param->grad) sum += double(g) * double(g);
  const double norm = std::sqrt(sum);
  NEUROPS_CHECK(std::isfinite(norm), "clip_grad_norm: the gradient norm is " << norm << " (NaN or Inf in a gradient)");
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1)
    for (auto& p : params)
      if (p.param->trainable) p.param->grad.vec() *= static_cast<T>(coef);
  return norm;
}

template class Optimizer<float>;
template class Optimizer<double>;
template class Sgd<float>;
template class Sgd<double>;
template class Adam<float>;
template class Adam<double>;
template double clip_grad_norm(ModuleBase<float>&, double);
template double clip_grad_norm(ModuleBase<double>&, double);

}  // namespace neurops::nn
