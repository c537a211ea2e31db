#include "neurops/nn/conv.hpp"

#include <omp.h>

#include <algorithm>
#include <cctype>

#include "conv_kernels.hpp"
#include "neurops/nn/init.hpp"

namespace neurops::nn {

std::string to_string(PaddingMode mode) {
  switch (mode) {
    case PaddingMode::Zeros: return "zeros";
    case PaddingMode::Circular: return "circular";
    case PaddingMode::Reflect: return "reflect";
    case PaddingMode::Replicate: return "replicate";
  }
  return "unknown";
}

PaddingMode padding_mode_from_string(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto m : {PaddingMode::Zeros, PaddingMode::Circular, PaddingMode::Reflect, PaddingMode::Replicate})
    if (lower == to_string(m)) return m;
  NEUROPS_THROW("unknown padding mode '" << name << "' (expected zeros, circular, reflect or replicate)");
}

namespace detail {

namespace {
// Target size of one im2col tile in elements: large enough for an efficient GEMM, small enough to stay
// in the outer caches.
constexpr index_t kTileElements = index_t(1) << 17;

std::string join(const std::vector<index_t>& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}
}  // namespace

std::vector<index_t> expand_per_axis(const std::string& layer, const std::string& option,
                                     const std::vector<index_t>& v, int dims, index_t minimum) {
  NEUROPS_CHECK(v.size() == 1 || static_cast<int>(v.size()) == dims,
                layer << ": " << option << " needs 1 or " << dims << " values, found " << v.size() << " " << join(v));
  std::vector<index_t> out(static_cast<std::size_t>(dims), v[0]);
  if (v.size() > 1) out = v;
  for (index_t e : out)
    NEUROPS_CHECK(e >= minimum, layer << ": " << option << " must be >= " << minimum << ", found " << join(v));
  return out;
}

ConvGeometry make_conv_geometry(const std::string& layer, const std::vector<index_t>& in_spatial,
                                const std::vector<index_t>& kernel, const std::vector<index_t>& stride,
                                const std::vector<index_t>& pad, PaddingMode mode, index_t gemm_rows) {
  ConvGeometry g;
  g.dims = static_cast<int>(in_spatial.size());
  g.mode = mode;
  const int off = 3 - g.dims;
  for (int a = 0; a < g.dims; ++a) {
    const int A = off + a;
    g.in[A] = in_spatial[a];
    g.kernel[A] = kernel[a];
    g.stride[A] = stride[a];
    g.pad[A] = pad[a];
    g.padded[A] = g.in[A] + 2 * g.pad[A];
    NEUROPS_CHECK(g.padded[A] >= g.kernel[A], layer << ": spatial axis " << a << " has extent " << g.in[A]
                                                    << " (padded " << g.padded[A] << "), smaller than the kernel "
                                                    << join(kernel) << "; input grid " << join(in_spatial)
                                                    << " with padding " << join(pad));
    NEUROPS_CHECK(mode != PaddingMode::Reflect || g.pad[A] < g.in[A],
                  layer << ": reflect padding " << g.pad[A] << " needs an extent > " << g.pad[A] << " on axis " << a
                        << ", found input grid " << join(in_spatial));
    NEUROPS_CHECK(mode != PaddingMode::Circular || g.pad[A] <= g.in[A],
                  layer << ": circular padding " << g.pad[A] << " needs an extent >= " << g.pad[A] << " on axis "
                        << a << ", found input grid " << join(in_spatial));
    g.out[A] = (g.padded[A] - g.kernel[A]) / g.stride[A] + 1;
  }
  for (int A = 0; A < 3; ++A) {
    const index_t n = g.in[A], p = g.pad[A];
    auto& src = g.source[A];
    src.resize(static_cast<std::size_t>(g.padded[A]));
    for (index_t q = 0; q < g.padded[A]; ++q) {
      index_t s = q - p;
      if (s < 0 || s >= n) {
        switch (mode) {
          case PaddingMode::Zeros: s = -1; break;
          case PaddingMode::Circular: s = ((s % n) + n) % n; break;
          case PaddingMode::Reflect: s = s < 0 ? -s : 2 * (n - 1) - s; break;
          case PaddingMode::Replicate: s = std::clamp<index_t>(s, 0, n - 1); break;
        }
      }
      src[static_cast<std::size_t>(q)] = s;
    }
    g.kernel_volume *= g.kernel[A];
    g.in_volume *= g.in[A];
    g.padded_volume *= g.padded[A];
    g.out_volume *= g.out[A];
  }
  g.pointwise = g.kernel_volume == 1 && g.stride == std::array<index_t, 3>{1, 1, 1} &&
                g.pad == std::array<index_t, 3>{0, 0, 0};
  g.tile_axis = 2;
  for (int A = 0; A < 3; ++A)
    if (g.out[A] > 1) {
      g.tile_axis = A;
      break;
    }
  const int ta = g.tile_axis;
  g.row_size = 1;
  for (int A = ta + 1; A < 3; ++A) g.row_size *= g.out[A];
  index_t rows = std::max<index_t>(1, kTileElements / std::max<index_t>(1, gemm_rows * g.row_size));
  // Tiles t and t+2 must not share padded input rows: kernel <= (rows + 1) * stride.
  const index_t min_rows = std::max<index_t>(1, (g.kernel[ta] + g.stride[ta] - 1) / g.stride[ta] - 1);
  g.tile_rows = std::min(std::max(rows, min_rows), g.out[ta]);
  g.tiles = (g.out[ta] + g.tile_rows - 1) / g.tile_rows;
  return g;
}

}  // namespace detail

template <class T>
Conv<T>::Conv(int dims, index_t in_channels, index_t out_channels, std::vector<index_t> kernel_size, Rng& rng,
              ConvOptions options)
    : dims_(dims), in_channels_(in_channels), out_channels_(out_channels), mode_(options.padding_mode),
      has_bias_(options.bias) {
  NEUROPS_CHECK(dims >= 1 && dims <= 3, "Conv: dims must be 1, 2 or 3, found " << dims);
  const std::string name = type_name();
  NEUROPS_CHECK(in_channels > 0 && out_channels > 0,
                name << ": channels must be positive, found in=" << in_channels << ", out=" << out_channels);
  kernel_ = detail::expand_per_axis(name, "kernel_size", kernel_size, dims, 1);
  stride_ = detail::expand_per_axis(name, "stride", options.stride, dims, 1);
  padding_ = detail::expand_per_axis(name, "padding", options.padding, dims, 0);
  std::vector<index_t> wshape = {out_channels, in_channels};
  wshape.insert(wshape.end(), kernel_.begin(), kernel_.end());
  weight_ = Parameter<T>(Tensor<T>(Shape(wshape)));
  if (has_bias_) bias_ = Parameter<T>(Tensor<T>({out_channels}));
  init::torch_default(weight_.value, has_bias_ ? &bias_.value : nullptr, rng);
}

template <class T>
void Conv<T>::for_each_parameter(const typename Module<T>::ParameterFn& fn) {
  fn("weight", weight_);
  if (has_bias_) fn("bias", bias_);
}

template <class T>
std::vector<index_t> Conv<T>::output_spatial(const std::vector<index_t>& in_spatial) const {
  const auto g = detail::make_conv_geometry(type_name(), in_spatial, kernel_, stride_, padding_, mode_, 1);
  return std::vector<index_t>(g.out.begin() + (3 - dims_), g.out.end());
}

template <class T>
const detail::ConvGeometry& Conv<T>::geometry_for(const Shape& s) {
  std::vector<index_t> expected = {-1, in_channels_};
  expected.insert(expected.end(), static_cast<std::size_t>(dims_), -1);
  NEUROPS_CHECK(s.rank() == dims_ + 2 && s[1] == in_channels_,
                type_name() << ": expected input " << shape_pattern(expected) << " (N, C_in, spatial...), found "
                            << s);
  if (s != geometry_shape_) {
    const auto spatial = s.tail(2).dims();
    geometry_ = detail::make_conv_geometry(type_name(), spatial, kernel_, stride_, padding_, mode_,
                                           in_channels_ * weight_.value.shape().tail_numel(2));
    geometry_shape_ = s;
  }
  return geometry_;
}

template <class T>
Tensor<T> Conv<T>::forward(const Tensor<T>& x) {
  const auto& g = geometry_for(x.shape());
  const index_t batch = x.size(0), cin = in_channels_, cout = out_channels_;
  const index_t rows = cin * g.kernel_volume;
  T* xpad = detail::ensure_capacity(work_.padded, batch * cin * g.padded_volume);
  std::vector<index_t> yshape = {batch, cout};
  yshape.insert(yshape.end(), g.out.begin() + (3 - dims_), g.out.end());
  Tensor<T> y = Tensor<T>::uninitialized(Shape(yshape));
  detail::ensure_threads(work_.cols, omp_get_max_threads());
  const auto W = weight_.value.matrix(cout, rows);
  const T* xdata = x.data();
  T* ydata = y.data();
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (index_t i = 0; i < batch * cin; ++i) detail::pad_sample(g, xdata + i * g.in_volume, xpad + i * g.padded_volume, index_t(1));
    T* cols = g.pointwise ? nullptr
                          : detail::ensure_capacity(work_.cols[static_cast<std::size_t>(omp_get_thread_num())],
                                                    rows * g.tile_length(0));
    detail::for_each_tile(g, batch, [&](index_t n, index_t t) {
      const index_t b = g.tile_begin(t), len = g.tile_length(t);
      auto Yt = EigenMatrixMap<T>(ydata + n * cout * g.out_volume, cout, g.out_volume).middleCols(b, len);
      const T* xn = xpad + n * cin * g.padded_volume;
      if (g.pointwise) {
        Yt.noalias() = W * EigenMatrixMap<const T>(xn, cin, g.padded_volume).middleCols(b, len);
      } else {
        detail::im2col_tile(g, xn, cin, t, cols);
        Yt.noalias() = W * EigenMatrixMap<const T>(cols, rows, len);
      }
      if (has_bias_) Yt.colwise() += bias_.value.vec();
    });
  }
  work_.cached = this->training();
  cached_input_shape_ = x.shape();
  return y;
}

template <class T>
Tensor<T> Conv<T>::backward(const Tensor<T>& dy) {
  this->require_cache(work_.cached);
  const auto& g = geometry_;
  const index_t batch = cached_input_shape_[0], cin = in_channels_, cout = out_channels_;
  const index_t rows = cin * g.kernel_volume;
  std::vector<index_t> yshape = {batch, cout};
  yshape.insert(yshape.end(), g.out.begin() + (3 - dims_), g.out.end());
  NEUROPS_CHECK(dy.shape() == Shape(yshape),
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << Shape(yshape));
  const int threads = omp_get_max_threads();
  detail::ensure_threads(work_.cols, threads);
  detail::ensure_threads(work_.dweight, threads);
  detail::ensure_threads(work_.dbias, threads);
  Tensor<T> dx = Tensor<T>::uninitialized(cached_input_shape_);
  const T* xpad = work_.padded.data();
  T* dxpad = g.pointwise ? nullptr : detail::ensure_capacity(work_.dpadded, batch * cin * g.padded_volume);
  const auto W = weight_.value.matrix(cout, rows);
  const T* dydata = dy.data();
  T* dxdata = dx.data();

#pragma omp parallel
  {
    const auto tid = static_cast<std::size_t>(omp_get_thread_num());
    T* cols = detail::ensure_capacity(work_.cols[tid], rows * g.tile_length(0));
    EigenMatrixMap<T> dW(detail::ensure_capacity(work_.dweight[tid], cout * rows), cout, rows);
    EigenVectorMap<T> db(detail::ensure_capacity(work_.dbias[tid], cout), cout);
    dW.setZero();
    db.setZero();
    auto tile_body = [&](index_t n, index_t t) {
      const index_t b = g.tile_begin(t), len = g.tile_length(t);
      const auto DYt = EigenMatrixMap<const T>(dydata + n * cout * g.out_volume, cout, g.out_volume).middleCols(b, len);
      const T* xn = xpad + n * cin * g.padded_volume;
      if (has_bias_) db.noalias() += DYt.rowwise().sum();
      if (g.pointwise) {
        dW.noalias() += DYt * EigenMatrixMap<const T>(xn, cin, g.padded_volume).middleCols(b, len).transpose();
        EigenMatrixMap<T>(dxdata + n * cin * g.in_volume, cin, g.in_volume).middleCols(b, len).noalias() =
            W.transpose() * DYt;
        return;
      }
      detail::im2col_tile(g, xn, cin, t, cols);
      EigenMatrixMap<T> C(cols, rows, len);
      dW.noalias() += DYt * C.transpose();
      C.noalias() = W.transpose() * DYt;
      detail::col2im_tile_add(g, cols, cin, t, dxpad + n * cin * g.padded_volume);
    };
    if (g.pointwise) {
      detail::for_each_tile(g, batch, tile_body);
    } else {
#pragma omp for schedule(static)
      for (index_t i = 0; i < batch * cin * g.padded_volume; ++i) dxpad[i] = T(0);
      detail::for_each_tile_of_parity(g, batch, 0, tile_body);
      detail::for_each_tile_of_parity(g, batch, 1, tile_body);
#pragma omp for schedule(static)
      for (index_t i = 0; i < batch * cin; ++i)
        detail::unpad_sample(g, dxpad + i * g.padded_volume, dxdata + i * g.in_volume, index_t(1));
    }
  }
  auto gW = weight_.grad.matrix(cout, rows);
  for (int t = 0; t < threads; ++t) {
    gW += EigenMatrixMap<const T>(work_.dweight[static_cast<std::size_t>(t)].data(), cout, rows);
    if (has_bias_) bias_.grad.vec() += EigenVectorMap<const T>(work_.dbias[static_cast<std::size_t>(t)].data(), cout);
  }
  return dx;
}

template class Conv<float>;
template class Conv<double>;

}  // namespace neurops::nn
