#pragma once
// Learning-rate schedulers with torch.optim.lr_scheduler semantics: constructing one sets the
// learning rates of epoch 0 (the optimizer's current rates are the base rates); step() advances one
// epoch (or iteration, for OneCycle) and sets the rates of the new epoch. Rates are computed in
// closed form from the base rates, so restoring (last_epoch, base rates) resumes exactly.
#include <string>
#include <vector>

#include "neurops/nn/optim.hpp"

namespace neurops::nn {

template <class T>
class LrScheduler {
 public:
  virtual ~LrScheduler() = default;
  void step();
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }
  /// Learning rate of group g at epoch e.
  virtual double lr_at(std::size_t g, std::int64_t e) const = 0;
  virtual std::string type_name() const = 0;

  void save_state(io::H5File& file, const std::string& group) const;
  void load_state(const io::H5File& file, const std::string& group);

 protected:
  explicit LrScheduler(Optimizer<T>& optimizer);
  /// Sets the optimizer's rates (and momenta, for OneCycle) for last_epoch_; derived constructors
  /// call it once their parameters are set.
  virtual void apply();
  Optimizer<T>& optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = 0;
};

/// lr = base * gamma^(floor(epoch / step_size))
template <class T>
class StepLr : public LrScheduler<T> {
 public:
  StepLr(Optimizer<T>& optimizer, std::int64_t step_size, double gamma = 0.1);
  double lr_at(std::size_t g, std::int64_t e) const override;
  std::string type_name() const override { return "StepLR"; }

 private:
  std::int64_t step_size_;
  double gamma_;
};

/// lr = base * gamma^epoch
template <class T>
class ExponentialLr : public LrScheduler<T> {
 public:
  ExponentialLr(Optimizer<T>& optimizer, double gamma);
  double lr_at(std::size_t g, std::int64_t e) const override;
  std::string type_name() const override { return "ExponentialLR"; }

 private:
  double gamma_;
};

/// lr = eta_min + (base - eta_min) (1 + cos(pi * epoch / t_max)) / 2 (PyTorch's closed form)
template <class T>
class CosineAnnealingLr : public LrScheduler<T> {
 public:
  CosineAnnealingLr(Optimizer<T>& optimizer, std::int64_t t_max, double eta_min = 0);
  double lr_at(std::size_t g, std::int64_t e) const override;
  std::string type_name() const override { return "CosineAnnealingLR"; }

 private:
  std::int64_t t_max_;
  double eta_min_;
};

struct OneCycleOptions {
  double pct_start = 0.3;
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;
  bool cos_anneal = true;  // false: linear
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
};

/// torch.optim.lr_scheduler.OneCycleLR: from max_lr/div_factor up to max_lr over pct_start of the
/// steps, then down to max_lr/(div_factor*final_div_factor) (three_phase: back to the initial rate
/// first, then down); momentum (SGD momentum or Adam's beta1) cycles the opposite way.
template <class T>
class OneCycleLr : public LrScheduler<T> {
 public:
  OneCycleLr(Optimizer<T>& optimizer, std::vector<double> max_lr, std::int64_t total_steps,
             OneCycleOptions options = {});
  OneCycleLr(Optimizer<T>& optimizer, double max_lr, std::int64_t total_steps, OneCycleOptions options = {})
      : OneCycleLr(optimizer, std::vector<double>(optimizer.group_count(), max_lr), total_steps, options) {}
  double lr_at(std::size_t g, std::int64_t e) const override;
  double momentum_at(std::int64_t e) const;
  std::string type_name() const override { return "OneCycleLR"; }

 protected:
  void apply() override;

 private:
  struct Phase {
    double end_step;
    int lr_start, lr_end;    // 0 initial, 1 max, 2 min learning rate
    int mom_start, mom_end;  // 0 base, 1 max momentum
  };
  /// (phase index, fraction) of step e.
  std::pair<std::size_t, double> locate(std::int64_t e) const;
  double anneal(double start, double end, double pct) const;
  std::vector<double> max_lr_;
  std::int64_t total_steps_;
  OneCycleOptions options_;
  std::vector<Phase> phases_;
};

extern template class LrScheduler<float>;
extern template class LrScheduler<double>;
extern template class StepLr<float>;
extern template class StepLr<double>;
extern template class ExponentialLr<float>;
extern template class ExponentialLr<double>;
extern template class CosineAnnealingLr<float>;
extern template class CosineAnnealingLr<double>;
extern template class OneCycleLr<float>;
extern template class OneCycleLr<double>;

}  // namespace neurops::nn
