#include "neurops/nn/scheduler.hpp"

#include <cmath>
#include <numbers>

#include "neurops/io/hdf5.hpp"

namespace neurops::nn {

template <class T>
LrScheduler<T>::LrScheduler(Optimizer<T>& optimizer) : optimizer_(optimizer) {
  for (std::size_t g = 0; g < optimizer.group_count(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

template <class T>
void LrScheduler<T>::apply() {
  for (std::size_t g = 0; g < optimizer_.group_count(); ++g) optimizer_.set_lr(g, lr_at(g, last_epoch_));
}

template <class T>
void LrScheduler<T>::step() {
  ++last_epoch_;
  apply();
}

template <class T>
void LrScheduler<T>::save_state(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "type", type_name());
  file.set_attr(group, "last_epoch", last_epoch_);
  file.set_attr(group, "base_lrs", base_lrs_);
}

template <class T>
void LrScheduler<T>::load_state(const io::H5File& file, const std::string& group) {
  const std::string where = "'" + file.path().string() + "':" + group;
  NEUROPS_CHECK(file.exists(group), where << ": no scheduler state there");
  const std::string type = file.attr_string(group, "type");
  NEUROPS_CHECK(type == type_name(), where << ": state of a " << type << " scheduler, this one is " << type_name());
  const auto base = file.attr_reals(group, "base_lrs");
  NEUROPS_CHECK(base.size() == base_lrs_.size(),
                where << ": state has " << base.size() << " parameter groups, the optimizer " << base_lrs_.size());
  const std::int64_t last = file.attr_int(group, "last_epoch");
  NEUROPS_CHECK(last >= 0 && last < (std::int64_t(1) << 40),
                where << ": last_epoch " << last << " is outside [0, 2^40)");
  for (double b : base)
    NEUROPS_CHECK(std::isfinite(b) && b >= 0, where << ": base learning rate " << b << " must be finite and >= 0");
  base_lrs_ = base;
  last_epoch_ = last;
  apply();
}

template <class T>
StepLr<T>::StepLr(Optimizer<T>& optimizer, std::int64_t step_size, double gamma)
    : LrScheduler<T>(optimizer), step_size_(step_size), gamma_(gamma) {
  NEUROPS_CHECK(step_size >= 1, "StepLR: step_size " << step_size << " must be >= 1");
  this->apply();
}
template <class T>
double StepLr<T>::lr_at(std::size_t g, std::int64_t e) const {
  return this->base_lrs_.at(g) * std::pow(gamma_, double(e / step_size_));
}

template <class T>
ExponentialLr<T>::ExponentialLr(Optimizer<T>& optimizer, double gamma) : LrScheduler<T>(optimizer), gamma_(gamma) {
  this->apply();
}
template <class T>
double ExponentialLr<T>::lr_at(std::size_t g, std::int64_t e) const {
  return this->base_lrs_.at(g) * std::pow(gamma_, double(e));
}

template <class T>
CosineAnnealingLr<T>::CosineAnnealingLr(Optimizer<T>& optimizer, std::int64_t t_max, double eta_min)
    : LrScheduler<T>(optimizer), t_max_(t_max), eta_min_(eta_min) {
  NEUROPS_CHECK(t_max >= 1, "CosineAnnealingLR: T_max " << t_max << " must be >= 1");
  this->apply();
}
template <class T>
double CosineAnnealingLr<T>::lr_at(std::size_t g, std::int64_t e) const {
  return eta_min_ +
         (this->base_lrs_.at(g) - eta_min_) * (1 + std::cos(std::numbers::pi * double(e) / double(t_max_))) / 2;
}

template <class T>
OneCycleLr<T>::OneCycleLr(Optimizer<T>& optimizer, std::vector<double> max_lr, std::int64_t total_steps,
                          OneCycleOptions o)
    : LrScheduler<T>(optimizer), max_lr_(std::move(max_lr)), total_steps_(total_steps), options_(o) {
  NEUROPS_CHECK(total_steps >= 2, "OneCycleLR: total_steps " << total_steps << " must be >= 2");
  NEUROPS_CHECK(o.pct_start > 0 && o.pct_start < 1, "OneCycleLR: pct_start " << o.pct_start << " must lie in (0, 1)");
  NEUROPS_CHECK(max_lr_.size() == optimizer.group_count(), "OneCycleLR: " << max_lr_.size() << " max_lr values for "
                                                                          << optimizer.group_count()
                                                                          << " parameter groups");
  const double n = double(total_steps);
  if (o.three_phase)
    phases_ = {{o.pct_start * n - 1, 0, 1, 1, 0}, {2 * o.pct_start * n - 2, 1, 0, 0, 1}, {n - 1, 0, 2, 1, 1}};
  else
    phases_ = {{o.pct_start * n - 1, 0, 1, 1, 0}, {n - 1, 1, 2, 0, 1}};
  // The base rates of a OneCycle schedule are its initial rates max_lr / div_factor.
  for (std::size_t g = 0; g < max_lr_.size(); ++g) this->base_lrs_[g] = max_lr_[g] / o.div_factor;
  this->apply();
}

template <class T>
double OneCycleLr<T>::anneal(double start, double end, double pct) const {
  if (options_.cos_anneal) return end + (start - end) / 2 * (std::cos(std::numbers::pi * pct) + 1);
  return (end - start) * pct + start;
}

template <class T>
std::pair<std::size_t, double> OneCycleLr<T>::locate(std::int64_t e) const {
  NEUROPS_CHECK(e <= total_steps_,
                "OneCycleLR: stepped " << e << " times, the schedule has " << total_steps_ << " steps");
  double start = 0;
  for (std::size_t i = 0; i < phases_.size(); ++i) {
    const double end = phases_[i].end_step;
    if (double(e) <= end || i + 1 == phases_.size()) return {i, (double(e) - start) / (end - start)};
    start = end;
  }
  return {phases_.size() - 1, 1.0};
}

template <class T>
double OneCycleLr<T>::lr_at(std::size_t g, std::int64_t e) const {
  const double initial = max_lr_.at(g) / options_.div_factor;
  const double levels[3] = {initial, max_lr_.at(g), initial / options_.final_div_factor};
  const auto [i, pct] = locate(e);
  return anneal(levels[phases_[i].lr_start], levels[phases_[i].lr_end], pct);
}

template <class T>
double OneCycleLr<T>::momentum_at(std::int64_t e) const {
  const double levels[2] = {options_.base_momentum, options_.max_momentum};
  const auto [i, pct] = locate(e);
  return anneal(levels[phases_[i].mom_start], levels[phases_[i].mom_end], pct);
}

template <class T>
void OneCycleLr<T>::apply() {
  LrScheduler<T>::apply();
  if (options_.cycle_momentum)
    for (std::size_t g = 0; g < this->optimizer_.group_count(); ++g)
      this->optimizer_.set_momentum(g, momentum_at(this->last_epoch_));
}

template class LrScheduler<float>;
template class LrScheduler<double>;
template class StepLr<float>;
template class StepLr<double>;
template class ExponentialLr<float>;
template class ExponentialLr<double>;
template class CosineAnnealingLr<float>;
template class CosineAnnealingLr<double>;
template class OneCycleLr<float>;
template class OneCycleLr<double>;

}  // namespace neurops::nn
