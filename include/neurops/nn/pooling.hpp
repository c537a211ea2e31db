#pragma once
// Grid resampling layers on inputs (N, C, spatial...) with 1, 2 or 3 spatial axes:
//  * AvgPool: average over non-overlapping windows (kernel = stride, as torch.nn.AvgPool{1,2,3}d(k)
//    with ceil_mode=false: trailing entries that do not fill a window are dropped).
//  * Upsample: integer factor, nearest or (bi/tri)linear with align_corners=false, as
//    torch.nn.Upsample(scale_factor=f, mode=...).
// Both are separable linear maps, applied one axis at a time; backward applies the exact adjoints
// of the same per-axis maps in reverse order.
#include <vector>

#include "neurops/nn/module.hpp"

namespace neurops::nn {

namespace detail {
/// 1-D linear map from n_in to n_out entries: out[i] = sum_t weight[i*taps+t] * in[source[i*taps+t]].
struct AxisResampler {
  index_t n_in = 0, n_out = 0, taps = 0;
  std::vector<index_t> source;
  std::vector<double> weight;
};
/// Applies one AxisResampler per spatial axis of (N, C, spatial...); adjoint=true applies the
/// transposed maps in reverse axis order.
template <class T>
Tensor<T> resample_separable(const Tensor<T>& x, const std::vector<AxisResampler>& maps, bool adjoint);
}  // namespace detail

template <class T>
class AvgPool : public ModuleImpl<AvgPool<T>, T> {
 public:
  AvgPool(int dims, index_t kernel);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "AvgPool" + std::to_string(dims_) + "d"; }

 protected:
  void on_mode_change() override { cached_ = false; }

 private:
  int dims_;
  index_t kernel_;
  std::vector<detail::AxisResampler> maps_;
  Shape input_shape_, output_shape_;
  bool cached_ = false;
};

enum class UpsampleMode { Nearest, Linear };

template <class T>
class Upsample : public ModuleImpl<Upsample<T>, T> {
 public:
  Upsample(int dims, index_t factor, UpsampleMode mode);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override;

 protected:
  void on_mode_change() override { cached_ = false; }

 private:
  int dims_;
  index_t factor_;
  UpsampleMode mode_;
  std::vector<detail::AxisResampler> maps_;
  Shape input_shape_, output_shape_;
  bool cached_ = false;
};

extern template class AvgPool<float>;
extern template class AvgPool<double>;
extern template class Upsample<float>;
extern template class Upsample<double>;

}  // namespace neurops::nn
