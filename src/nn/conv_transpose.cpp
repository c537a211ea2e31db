#include "neurops/nn/conv_transpose.hpp"

#include <omp.h>

#include "conv_kernels.hpp"
#include "conv_state.hpp"
#include "neurops/nn/init.hpp"

namespace neurops::nn {

template <class T>
ConvTranspose<T>::ConvTranspose(int dims, index_t in_channels, index_t out_channels, std::vector<index_t> kernel_size,
                                Rng& rng, ConvTransposeOptions options)
    : dims_(dims),
      in_channels_(in_channels),
      out_channels_(out_channels),
      has_bias_(options.bias),
      state_(std::make_unique<detail::ConvState<T>>()) {
  NEUROPS_CHECK(dims >= 1 && dims <= 3, "ConvTranspose: dims must be 1, 2 or 3, found " << dims);
  const std::string name = type_name();
  NEUROPS_CHECK(in_channels > 0 && out_channels > 0,
                name << ": channels must be positive, found in=" << in_channels << ", out=" << out_channels);
  kernel_ = detail::expand_per_axis(name, "kernel_size", kernel_size, dims, 1);
  stride_ = detail::expand_per_axis(name, "stride", options.stride, dims, 1);
  padding_ = detail::expand_per_axis(name, "padding", options.padding, dims, 0);
  output_padding_ = detail::expand_per_axis(name, "output_padding", options.output_padding, dims, 0);
  for (int a = 0; a < dims; ++a)
    NEUROPS_CHECK(output_padding_[a] < stride_[a], name << ": output_padding " << output_padding_[a]
                                                        << " must be smaller than the stride " << stride_[a]
                                                        << " on axis " << a);
  std::vector<index_t> wshape = {in_channels, out_channels};
  wshape.insert(wshape.end(), kernel_.begin(), kernel_.end());
  weight_ = Parameter<T>(Tensor<T>(Shape(wshape)));
  if (has_bias_) bias_ = Parameter<T>(Tensor<T>({out_channels}));
  init::torch_default(weight_.value, has_bias_ ? &bias_.value : nullptr, rng);
}

template <class T>
void ConvTranspose<T>::for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) {
  fn("weight", weight_);
  if (has_bias_) fn("bias", bias_);
}

template <class T>
std::vector<index_t> ConvTranspose<T>::output_spatial(const std::vector<index_t>& in) const {
  std::vector<index_t> out(in.size());
  for (std::size_t a = 0; a < in.size(); ++a) {
    out[a] = (in[a] - 1) * stride_[a] - 2 * padding_[a] + kernel_[a] + output_padding_[a];
    NEUROPS_CHECK(in[a] >= 1 && out[a] >= 1,
                  type_name() << ": input extent " << in[a] << " on axis " << a << " gives an empty output (kernel "
                              << kernel_[a] << ", stride " << stride_[a] << ", padding " << padding_[a] << ")");
  }
  return out;
}

template <class T>
ConvTranspose<T>::ConvTranspose(const ConvTranspose& o)
    : ModuleImpl<ConvTranspose<T>, T>(o),
      dims_(o.dims_),
      in_channels_(o.in_channels_),
      out_channels_(o.out_channels_),
      kernel_(o.kernel_),
      stride_(o.stride_),
      padding_(o.padding_),
      output_padding_(o.output_padding_),
      has_bias_(o.has_bias_),
      weight_(o.weight_),
      bias_(o.bias_),
      geometry_shape_(o.geometry_shape_),
      input_(o.input_),
      state_(std::make_unique<detail::ConvState<T>>(*o.state_)) {}
template <class T>
ConvTranspose<T>& ConvTranspose<T>::operator=(const ConvTranspose& o) {
  if (this != &o) *this = ConvTranspose(o);
  return *this;
}
template <class T>
ConvTranspose<T>::ConvTranspose(ConvTranspose&&) noexcept = default;
template <class T>
ConvTranspose<T>& ConvTranspose<T>::operator=(ConvTranspose&&) noexcept = default;
template <class T>
ConvTranspose<T>::~ConvTranspose() = default;

template <class T>
const detail::ConvGeometry& ConvTranspose<T>::geometry_for(const Shape& s) {
  std::vector<index_t> expected = {-1, in_channels_};
  expected.insert(expected.end(), static_cast<std::size_t>(dims_), -1);
  NEUROPS_CHECK(s.rank() == dims_ + 2 && s[1] == in_channels_,
                type_name() << ": expected input " << shape_pattern(expected) << " (N, C_in, spatial...), found " << s);
  if (s != geometry_shape_) {
    const auto in = s.tail(2).dims();
    state_->geometry =
        detail::make_conv_geometry(type_name(), output_spatial(in), kernel_, stride_, padding_, PaddingMode::Zeros,
                                   out_channels_ * weight_.value.shape().tail_numel(2));
    for (int a = 0; a < dims_; ++a)
      NEUROPS_ASSERT(state_->geometry.out[3 - dims_ + a] == in[a], "adjoint geometry mismatch");
    geometry_shape_ = s;
  }
  return state_->geometry;
}

template <class T>
Tensor<T> ConvTranspose<T>::forward(const Tensor<T>& x) {
  const auto& g = geometry_for(x.shape());
  // In the adjoint Conv's terms: its input grid is our output (channels cout), its output grid our input.
  const index_t batch = x.size(0), cin = in_channels_, cout = out_channels_;
  const index_t rows = cout * g.kernel_volume;
  std::vector<index_t> yshape = {batch, cout};
  yshape.insert(yshape.end(), g.in.begin() + (3 - dims_), g.in.end());
  Tensor<T> y = Tensor<T>::uninitialized(Shape(yshape));
  T* ypad = g.pointwise ? nullptr : detail::ensure_capacity(state_->work.dpadded, batch * cout * g.padded_volume);
  detail::ensure_threads(state_->work.cols, omp_get_max_threads());
  const auto W = weight_.value.matrix(cin, rows);
  const T* xdata = x.data();
  T* ydata = y.data();
#pragma omp parallel if (batch * g.out_volume * cin * rows > detail::kParallelWork)
  {
    T* cols = detail::ensure_capacity(state_->work.cols[static_cast<std::size_t>(omp_get_thread_num())],
                                      rows * g.tile_length(0));
    auto tile_body = [&](index_t n, index_t t) {
      const index_t b = g.tile_begin(t), len = g.tile_length(t);
      const auto Xt = EigenMatrixMap<const T>(xdata + n * cin * g.out_volume, cin, g.out_volume).middleCols(b, len);
      if (g.pointwise) {
        EigenMatrixMap<T>(ydata + n * cout * g.in_volume, cout, g.in_volume).middleCols(b, len).noalias() =
            W.transpose() * Xt;
        return;
      }
      EigenMatrixMap<T> C(cols, rows, len);
      C.noalias() = W.transpose() * Xt;
      detail::col2im_tile_add(g, cols, cout, t, ypad + n * cout * g.padded_volume);
    };
    if (g.pointwise) {
      detail::for_each_tile(g, batch, tile_body);
    } else {
#pragma omp for schedule(static)
      for (index_t i = 0; i < batch * cout * g.padded_volume; ++i) ypad[i] = T(0);
      detail::for_each_tile_of_parity(g, batch, 0, tile_body);
      detail::for_each_tile_of_parity(g, batch, 1, tile_body);
#pragma omp for schedule(static)
      for (index_t i = 0; i < batch * cout; ++i)
        detail::unpad_sample(g, ypad + i * g.padded_volume, ydata + i * g.in_volume, index_t(1));
    }
    if (has_bias_) {
#pragma omp for schedule(static)
      for (index_t i = 0; i < batch * cout; ++i) {
        const T b = bias_.value[i % cout];
        T* yc = ydata + i * g.in_volume;
        for (index_t j = 0; j < g.in_volume; ++j) yc[j] += b;
      }
    }
  }
  input_ = this->training() ? x : Tensor<T>();
  return y;
}

template <class T>
Tensor<T> ConvTranspose<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!input_.empty());
  const auto& g = state_->geometry;
  const index_t batch = input_.size(0), cin = in_channels_, cout = out_channels_;
  const index_t rows = cout * g.kernel_volume;
  std::vector<index_t> yshape = {batch, cout};
  yshape.insert(yshape.end(), g.in.begin() + (3 - dims_), g.in.end());
  NEUROPS_CHECK(dy.shape() == Shape(yshape),
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << Shape(yshape));
  const int threads = omp_get_max_threads();
  int used_threads = 1;
  detail::ensure_threads(state_->work.cols, threads);
  detail::ensure_threads(state_->work.dweight, threads);
  Tensor<T> dx = Tensor<T>::uninitialized(input_.shape());
  T* dypad = detail::ensure_capacity(state_->work.padded, batch * cout * g.padded_volume);
  const auto W = weight_.value.matrix(cin, rows);
  const T* dydata = dy.data();
  const T* xdata = input_.data();
  T* dxdata = dx.data();
#pragma omp parallel if (batch * g.out_volume * cin * rows > detail::kParallelWork)
  {
    const auto tid = static_cast<std::size_t>(omp_get_thread_num());
#pragma omp single
    used_threads = omp_get_num_threads();  // fewer than requested when nested: only these buffers count
    T* cols = detail::ensure_capacity(state_->work.cols[tid], rows * g.tile_length(0));
    EigenMatrixMap<T> dW(detail::ensure_capacity(state_->work.dweight[tid], cin * rows), cin, rows);
    dW.setZero();
#pragma omp for schedule(static)
    for (index_t i = 0; i < batch * cout; ++i)
      detail::pad_sample(g, dydata + i * g.in_volume, dypad + i * g.padded_volume, index_t(1));
    detail::for_each_tile(g, batch, [&](index_t n, index_t t) {
      const index_t b = g.tile_begin(t), len = g.tile_length(t);
      const auto Xt = EigenMatrixMap<const T>(xdata + n * cin * g.out_volume, cin, g.out_volume).middleCols(b, len);
      auto DXt = EigenMatrixMap<T>(dxdata + n * cin * g.out_volume, cin, g.out_volume).middleCols(b, len);
      const T* dyn = dypad + n * cout * g.padded_volume;
      if (g.pointwise) {
        const auto DY = EigenMatrixMap<const T>(dyn, cout, g.padded_volume).middleCols(b, len);
        DXt.noalias() = W * DY;
        dW.noalias() += Xt * DY.transpose();
        return;
      }
      detail::im2col_tile(g, dyn, cout, t, cols);
      EigenMatrixMap<const T> C(cols, rows, len);
      DXt.noalias() = W * C;
      dW.noalias() += Xt * C.transpose();
    });
  }
  auto gW = weight_.grad.matrix(cin, rows);
  for (int t = 0; t < used_threads; ++t)
    gW += EigenMatrixMap<const T>(state_->work.dweight[static_cast<std::size_t>(t)].data(), cin, rows);
  if (has_bias_) {
    for (index_t n = 0; n < batch; ++n)
      bias_.grad.vec() += EigenMatrixMap<const T>(dydata + n * cout * g.in_volume, cout, g.in_volume).rowwise().sum();
  }
  return dx;
}

template class ConvTranspose<float>;
template class ConvTranspose<double>;

}  // namespace neurops::nn
