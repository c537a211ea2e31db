#pragma once
// Optimizers over a Module's named parameters, with PyTorch's update rules (torch.optim 1.13):
//
//  SGD:   g = grad + wd*p;  buf = g (first step) or mu*buf + (1-dampening)*g;
//         g = g + mu*buf (nesterov) or buf;  p -= lr*g
//  Adam:  g = grad + wd*p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
//         p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//  AdamW: p *= 1 - lr*wd (decoupled decay), then Adam without the wd*p term.
//
// Complex parameters are updated as their (re, im) pairs, as torch.optim does on view_as_real.
// Frozen parameters (trainable == false) are skipped and their state does not advance. Each
// parameter has its own step count, as in PyTorch.
//
// Parameter groups: each ParamGroupSpec selects parameters by name with its own learning rate and
// weight decay (e.g. biases at 2e-1, weights at 1e-4 for the Spectral-Refiner fine-tuning); a
// parameter joins the first group that selects it, the rest form a final group "default".
//
// save_state/load_state write the complete state (step counts, moment buffers, group learning
// rates, weight decays and momenta) into an HDF5 group, so that a restored optimizer continues
// bit-identically. The module must outlive the optimizer and keep its parameters in place (the
// optimizer holds pointers to them).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "neurops/nn/module.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::nn {

struct ParamGroupSpec {
  std::string label;
  std::function<bool(const std::string&)> select;  // by full parameter name
  std::optional<double> lr;                        // default: the optimizer's
  std::optional<double> weight_decay;
};

template <class T>
class Optimizer {
 public:
  struct Group {
    std::string label;
    double lr = 0, weight_decay = 0;
    double momentum = 0;               // SGD momentum, or Adam's beta1 (what OneCycle cycles)
    std::vector<std::size_t> members;  // indices into parameters()
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every trainable parameter from its accumulated gradient.
  void step();
  /// Clears the gradients of every parameter the optimizer holds.
  void zero_grad();

  std::size_t group_count() const noexcept { return groups_.size(); }
  const Group& group(std::size_t g) const { return groups_.at(g); }
  double lr(std::size_t g) const { return groups_.at(g).lr; }
  void set_lr(std::size_t g, double lr) { groups_.at(g).lr = lr; }
  double momentum(std::size_t g) const { return groups_.at(g).momentum; }
  void set_momentum(std::size_t g, double m) { groups_.at(g).momentum = m; }
  const std::vector<NamedParameter<T>>& parameters() const noexcept { return params_; }
  std::int64_t steps_taken() const noexcept { return steps_; }
  virtual std::string type_name() const = 0;

  void save_state(io::H5File& file, const std::string& group) const;
  /// Restores a state written by save_state for the same parameters; an Error names the missing or
  /// mismatching parameter, the file and the shapes.
  void load_state(const io::H5File& file, const std::string& group);

 protected:
  Optimizer(ModuleBase<T>& module, double lr, double weight_decay, double momentum,
            const std::vector<ParamGroupSpec>& groups, std::vector<std::string> state_names);
  /// Updates one parameter; `state` holds its buffers (named by state_names), `step` its new step count.
  virtual void update(const Group& g, Parameter<T>& p, std::vector<Tensor<T>>& state, std::int64_t step) = 0;

 private:
  std::vector<NamedParameter<T>> params_;
  std::vector<Group> groups_;
  std::vector<std::string> state_names_;
  std::vector<std::vector<Tensor<T>>> state_;
  std::vector<std::int64_t> param_steps_;
  std::int64_t steps_ = 0;
};

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
  double weight_decay = 0;
};

template <class T>
class Sgd : public Optimizer<T> {
 public:
  explicit Sgd(ModuleBase<T>& module, SgdOptions options = {}, const std::vector<ParamGroupSpec>& groups = {});
  std::string type_name() const override { return "SGD"; }

 protected:
  void update(const typename Optimizer<T>::Group& g, Parameter<T>& p, std::vector<Tensor<T>>& state,
              std::int64_t step) override;

 private:
  SgdOptions options_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
};

/// Adam (L2 penalty added to the gradient) or, with decoupled = true, AdamW.
template <class T>
class Adam : public Optimizer<T> {
 public:
  explicit Adam(ModuleBase<T>& module, AdamOptions options = {}, const std::vector<ParamGroupSpec>& groups = {},
                bool decoupled = false);
  std::string type_name() const override { return decoupled_ ? "AdamW" : "Adam"; }

 protected:
  void update(const typename Optimizer<T>::Group& g, Parameter<T>& p, std::vector<Tensor<T>>& state,
              std::int64_t step) override;

 private:
  AdamOptions options_;
  bool decoupled_;
};

/// AdamW with PyTorch's default weight decay 1e-2.
template <class T>
class AdamW : public Adam<T> {
 public:
  explicit AdamW(ModuleBase<T>& module, AdamOptions options = {.lr = 1e-3, .weight_decay = 1e-2},
                 const std::vector<ParamGroupSpec>& groups = {})
      : Adam<T>(module, options, groups, true) {}
};

/// Scales the gradients of the trainable parameters so that their global L2 norm is at most
/// max_norm (as torch.nn.utils.clip_grad_norm_: factor max_norm / (norm + 1e-6) when below 1);
/// returns the norm before clipping.
template <class T>
double clip_grad_norm(ModuleBase<T>& module, double max_norm);

extern template class Optimizer<float>;
extern template class Optimizer<double>;
extern template class Sgd<float>;
extern template class Sgd<double>;
extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace neurops::nn
