#include "neurops/nn/conv.hpp"

#include "neurops/core/strings.hpp"

#include <omp.h>

#include <algorithm>
#include <cctype>

#include "conv_direct.hpp"
#include "conv_kernels.hpp"
#include "conv_state.hpp"
#include "neurops/nn/init.hpp"

namespace neurops::nn {

std::string to_string(PaddingMode mode) {
  switch (mode) {
    case PaddingMode::Zeros:
      return "zeros";
    case PaddingMode::Circular:
      return "circular";
    case PaddingMode::Reflect:
      return "reflect";
    case PaddingMode::Replicate:
      return "replicate";
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

}  // namespace

std::vector<index_t> expand_per_axis(const std::string& layer, const std::string& option, const std::vector<index_t>& v,
                                     int dims, index_t minimum) {
  NEUROPS_CHECK(v.size() == 1 || static_cast<int>(v.size()) == dims, layer << ": " << option << " needs 1 or " << dims
                                                                           << " values, found " << v.size() << " "
                                                                           << format_tuple(v));
  std::vector<index_t> out(static_cast<std::size_t>(dims), v[0]);
  if (v.size() > 1) out = v;
  for (index_t e : out)
    NEUROPS_CHECK(e >= minimum, layer << ": " << option << " must be >= " << minimum << ", found " << format_tuple(v));
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
    NEUROPS_CHECK(g.padded[A] >= g.kernel[A],
                  layer << ": spatial axis " << a << " has extent " << g.in[A] << " (padded " << g.padded[A]
                        << "), smaller than the kernel " << format_tuple(kernel) << "; input grid "
                        << format_tuple(in_spatial) << " with padding " << format_tuple(pad));
    NEUROPS_CHECK(mode != PaddingMode::Reflect || g.pad[A] < g.in[A],
                  layer << ": reflect padding " << g.pad[A] << " needs an extent > " << g.pad[A] << " on axis " << a
                        << ", found input grid " << format_tuple(in_spatial));
    NEUROPS_CHECK(mode != PaddingMode::Circular || g.pad[A] <= g.in[A],
                  layer << ": circular padding " << g.pad[A] << " needs an extent >= " << g.pad[A] << " on axis " << a
                        << ", found input grid " << format_tuple(in_spatial));
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
          case PaddingMode::Zeros:
            s = -1;
            break;
          case PaddingMode::Circular:
            s = ((s % n) + n) % n;
            break;
          case PaddingMode::Reflect:
            s = s < 0 ? -s : 2 * (n - 1) - s;
            break;
          case PaddingMode::Replicate:
            s = std::clamp<index_t>(s, 0, n - 1);
            break;
        }
      }
      src[static_cast<std::size_t>(q)] = s;
    }
    g.kernel_volume *= g.kernel[A];
    g.in_volume *= g.in[A];
    g.padded_volume *= g.padded[A];
    g.out_volume *= g.out[A];
  }
  g.pointwise =
      g.kernel_volume == 1 && g.stride == std::array<index_t, 3>{1, 1, 1} && g.pad == std::array<index_t, 3>{0, 0, 0};
  g.direct = !g.pointwise && g.stride == std::array<index_t, 3>{1, 1, 1};
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
    : dims_(dims),
      in_channels_(in_channels),
      out_channels_(out_channels),
      mode_(options.padding_mode),
      has_bias_(options.bias),
      state_(std::make_unique<detail::ConvState<T>>()) {
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
void Conv<T>::for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) {
  fn("weight", weight_);
  if (has_bias_) fn("bias", bias_);
}

template <class T>
std::vector<index_t> Conv<T>::output_spatial(const std::vector<index_t>& in_spatial) const {
  const auto g = detail::make_conv_geometry(type_name(), in_spatial, kernel_, stride_, padding_, mode_, 1);
  return std::vector<index_t>(g.out.begin() + (3 - dims_), g.out.end());
}

template <class T>
Conv<T>::Conv(const Conv& o)
    : ModuleImpl<Conv<T>, T>(o),
      dims_(o.dims_),
      in_channels_(o.in_channels_),
      out_channels_(o.out_channels_),
      kernel_(o.kernel_),
      stride_(o.stride_),
      padding_(o.padding_),
      mode_(o.mode_),
      has_bias_(o.has_bias_),
      weight_(o.weight_),
      bias_(o.bias_),
      geometry_shape_(o.geometry_shape_),
      cached_input_shape_(o.cached_input_shape_),
      state_(std::make_unique<detail::ConvState<T>>(*o.state_)) {}
template <class T>
Conv<T>& Conv<T>::operator=(const Conv& o) {
  if (this != &o) *this = Conv(o);
  return *this;
}
template <class T>
Conv<T>::Conv(Conv&&) noexcept = default;
template <class T>
Conv<T>& Conv<T>::operator=(Conv&&) noexcept = default;
template <class T>
Conv<T>::~Conv() = default;

template <class T>
void Conv<T>::on_mode_change() {
  state_->work.cached = false;
}

template <class T>
const detail::ConvGeometry& Conv<T>::geometry_for(const Shape& s) {
  std::vector<index_t> expected = {-1, in_channels_};
  expected.insert(expected.end(), static_cast<std::size_t>(dims_), -1);
  NEUROPS_CHECK(s.rank() == dims_ + 2 && s[1] == in_channels_,
                type_name() << ": expected input " << shape_pattern(expected) << " (N, C_in, spatial...), found " << s);
  if (s != geometry_shape_) {
    const auto spatial = s.tail(2).dims();
    state_->geometry = detail::make_conv_geometry(type_name(), spatial, kernel_, stride_, padding_, mode_,
                                                  in_channels_ * weight_.value.shape().tail_numel(2));
    geometry_shape_ = s;
  }
  return state_->geometry;
}

template <class T>
Tensor<T> Conv<T>::forward(const Tensor<T>& x) {
  const auto& g = geometry_for(x.shape());
  const index_t batch = x.size(0), cin = in_channels_, cout = out_channels_;
  const index_t rows = cin * g.kernel_volume;
  // The direct kernel reads up to one step past the last padded entry (into discarded positions).
  const index_t slack = detail::direct_step<T>();
  T* xpad = detail::ensure_capacity(state_->work.padded, batch * cin * g.padded_volume + slack);
  std::fill(xpad + batch * cin * g.padded_volume, xpad + batch * cin * g.padded_volume + slack, T(0));
  std::vector<index_t> yshape = {batch, cout};
  yshape.insert(yshape.end(), g.out.begin() + (3 - dims_), g.out.end());
  Tensor<T> y = Tensor<T>::uninitialized(Shape(yshape));
  detail::ensure_threads(state_->work.cols, omp_get_max_threads());
  const auto W = weight_.value.matrix(cout, rows);
  const T* xdata = x.data();
  T* ydata = y.data();
  const bool parallel = batch * g.out_volume * cout * rows > detail::kParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (index_t i = 0; i < batch * cin; ++i)
    detail::pad_sample(g, xdata + i * g.in_volume, xpad + i * g.padded_volume, index_t(1));
  state_->work.cached = this->training();
  cached_input_shape_ = x.shape();
  if (g.direct) {
    forward_direct(g, batch, ydata);
    return y;
  }
#pragma omp parallel if (parallel)
  {
    T* cols = g.pointwise ? nullptr
                          : detail::ensure_capacity(state_->work.cols[static_cast<std::size_t>(omp_get_thread_num())],
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
  return y;
}

template <class T>
Tensor<T> Conv<T>::backward(const Tensor<T>& dy) {
  this->require_cache(state_->work.cached);
  const auto& g = state_->geometry;
  const index_t batch = cached_input_shape_[0], cin = in_channels_, cout = out_channels_;
  const index_t rows = cin * g.kernel_volume;
  std::vector<index_t> yshape = {batch, cout};
  yshape.insert(yshape.end(), g.out.begin() + (3 - dims_), g.out.end());
  NEUROPS_CHECK(dy.shape() == Shape(yshape),
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << Shape(yshape));
  const int threads = omp_get_max_threads();
  int used_threads = 1;
  detail::ensure_threads(state_->work.cols, threads);
  detail::ensure_threads(state_->work.dweight, threads);
  detail::ensure_threads(state_->work.dbias, threads);
  Tensor<T> dx = Tensor<T>::uninitialized(cached_input_shape_);
  const T* xpad = state_->work.padded.data();
  T* dxpad = g.pointwise ? nullptr : detail::ensure_capacity(state_->work.dpadded, batch * cin * g.padded_volume);
  const auto W = weight_.value.matrix(cout, rows);
  const T* dydata = dy.data();
  T* dxdata = dx.data();
  if (g.direct) {
    backward_direct(g, batch, dydata, dxdata);
    return dx;
  }

#pragma omp parallel if (batch * g.out_volume * cout * rows > detail::kParallelWork)
  {
    const auto tid = static_cast<std::size_t>(omp_get_thread_num());
#pragma omp single
    used_threads = omp_get_num_threads();  // fewer than requested when nested: only these buffers count
    T* cols = detail::ensure_capacity(state_->work.cols[tid], rows * g.tile_length(0));
    EigenMatrixMap<T> dW(detail::ensure_capacity(state_->work.dweight[tid], cout * rows), cout, rows);
    EigenVectorMap<T> db(detail::ensure_capacity(state_->work.dbias[tid], cout), cout);
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
  for (int t = 0; t < used_threads; ++t) {
    gW += EigenMatrixMap<const T>(state_->work.dweight[static_cast<std::size_t>(t)].data(), cout, rows);
    if (has_bias_)
      bias_.grad.vec() += EigenVectorMap<const T>(state_->work.dbias[static_cast<std::size_t>(t)].data(), cout);
  }
  return dx;
}

namespace {
// Positions per work item of the direct kernel: whole padded rows, about this many positions.
constexpr index_t kDirectChunk = 2048;

struct DirectLayout {
  index_t plane, row;  // padded-layout strides P1*P2 and P2
  index_t needed;      // positions [0, needed) cover every valid output
  index_t rows_per_chunk, chunks;
  std::vector<index_t> offsets;  // offset(k) of every kernel tap, in weight order
};

DirectLayout direct_layout(const detail::ConvGeometry& g, index_t positions) {
  DirectLayout d;
  d.row = g.padded[2];
  d.plane = g.padded[1] * g.padded[2];
  d.needed = positions;
  const index_t rows = (positions + d.row - 1) / d.row;
  d.rows_per_chunk = std::max<index_t>(1, kDirectChunk / d.row);
  d.chunks = (rows + d.rows_per_chunk - 1) / d.rows_per_chunk;
  for (index_t k0 = 0; k0 < g.kernel[0]; ++k0)
    for (index_t k1 = 0; k1 < g.kernel[1]; ++k1)
      for (index_t k2 = 0; k2 < g.kernel[2]; ++k2) d.offsets.push_back(k0 * d.plane + k1 * d.row + k2);
  return d;
}

template <class T>
index_t round_up_step(index_t n) {
  const index_t s = detail::direct_step<T>();
  return (n + s - 1) / s * s;
}
}  // namespace

template <class T>
void Conv<T>::forward_direct(const detail::ConvGeometry& g, index_t batch, T* y) {
  const index_t cin = in_channels_, cout = out_channels_, K = g.kernel_volume;
  // Valid outputs sit at q = i0*plane + i1*row + i2 with i < out; the last one ends the range.
  const DirectLayout d =
      direct_layout(g, (g.out[0] - 1) * g.padded[1] * g.padded[2] + (g.out[1] - 1) * g.padded[2] + g.out[2]);
  detail::pack_direct_weights(weight_.value.data(), cout, cin, K, false, state_->work.packed);
  const index_t blocks = (cout + detail::kDirectOutBlock - 1) / detail::kDirectOutBlock;
  const index_t chunk_len = round_up_step<T>(d.rows_per_chunk * d.row);
  const T* xpad = state_->work.padded.data();
  const T* packed = state_->work.packed.data();
#pragma omp parallel if (batch * d.needed * cout * cin * K > detail::kParallelWork)
  {
    T* buf = detail::ensure_capacity(state_->work.cols[static_cast<std::size_t>(omp_get_thread_num())],
                                     blocks * detail::kDirectOutBlock * chunk_len);
#pragma omp for schedule(dynamic, 1)
    for (index_t item = 0; item < batch * d.chunks; ++item) {
      const index_t n = item / d.chunks, c = item % d.chunks;
      const index_t q0 = c * d.rows_per_chunk * d.row, len = std::min(d.rows_per_chunk * d.row, d.needed - q0);
      detail::direct_correlation(xpad + n * cin * g.padded_volume + q0, g.padded_volume, cin, d.offsets.data(), K,
                                 packed, blocks, buf, chunk_len, round_up_step<T>(len));
      // Keep the valid positions: rows (i0, i1) with i0 < out0, i1 < out1, entries i2 < out2.
      for (index_t r = q0 / d.row; r * d.row < q0 + len; ++r) {
        const index_t i0 = r / g.padded[1], i1 = r % g.padded[1];
        if (i0 >= g.out[0] || i1 >= g.out[1]) continue;
        for (index_t o = 0; o < cout; ++o) {
          const T* src = buf + o * chunk_len + (r * d.row - q0);
          T* dst = y + (n * cout + o) * g.out_volume + (i0 * g.out[1] + i1) * g.out[2];
          const T b = has_bias_ ? bias_.value[o] : T(0);
          for (index_t i2 = 0; i2 < g.out[2]; ++i2) dst[i2] = src[i2] + b;
        }
      }
    }
  }
}

template <class T>
void Conv<T>::backward_direct(const detail::ConvGeometry& g, index_t batch, const T* dy, T* dx) {
  const index_t cin = in_channels_, cout = out_channels_, K = g.kernel_volume;
  const index_t needed = (g.out[0] - 1) * g.padded[1] * g.padded[2] + (g.out[1] - 1) * g.padded[2] + g.out[2];
  const DirectLayout dx_layout = direct_layout(g, g.padded_volume);  // positions of the padded input
  const index_t front = dx_layout.offsets.back();                    // zeros before dy: reads at q - offset(k)
  const index_t stride = front + round_up_step<T>(g.padded_volume) + detail::direct_step<T>();
  // dy in the padded layout, zero at discarded positions and around.
  T* dyl = detail::ensure_capacity(state_->work.shifted, batch * cout * stride);
  T* dxpad = detail::ensure_capacity(state_->work.dpadded, batch * cin * g.padded_volume);
  detail::pack_direct_weights(weight_.value.data(), cin, cout, K, true, state_->work.packed);
  std::vector<index_t> flipped(static_cast<std::size_t>(K));
  for (index_t k = 0; k < K; ++k)
    flipped[static_cast<std::size_t>(k)] = front - dx_layout.offsets[static_cast<std::size_t>(k)];
  const index_t blocks = (cin + detail::kDirectOutBlock - 1) / detail::kDirectOutBlock;
  const index_t chunk_len = round_up_step<T>(dx_layout.rows_per_chunk * dx_layout.row);
  const int threads = omp_get_max_threads();
  detail::ensure_threads(state_->work.cols, threads);
  detail::ensure_threads(state_->work.transposed, threads);
  const index_t dw_row = detail::direct_padded_outputs<T>(cout);
  const index_t dw_size = detail::direct_padded_pairs(cin * K) * dw_row;
  // Weight-gradient work items: about 8 per thread (enough to balance the load when cores are shared,
  // few enough that their partial sums stay small), each a group of samples or a block of positions.
  const index_t target_items = 8 * threads;
  const index_t samples_per_item = batch >= target_items ? (batch + target_items - 1) / target_items : 1;
  const index_t per_sample = batch >= target_items ? 1 : (target_items + batch - 1) / batch;
  const index_t dw_chunk = std::max(kDirectChunk, (needed + per_sample - 1) / per_sample);
  const index_t dw_chunks = (needed + dw_chunk - 1) / dw_chunk;
  const index_t dw_items = (batch + samples_per_item - 1) / samples_per_item * dw_chunks;
  T* partials = detail::ensure_capacity(state_->work.dweight_blocks, dw_items * dw_size);
  const T* xpad = state_->work.padded.data();
  const T* packed = state_->work.packed.data();
#pragma omp parallel if (batch * needed * cout * cin * K > detail::kParallelWork)
  {
    const auto tid = static_cast<std::size_t>(omp_get_thread_num());
#pragma omp for schedule(static)
    for (index_t i = 0; i < batch * cout; ++i) {
      T* row = dyl + i * stride;
      std::fill(row, row + stride, T(0));
      const T* src = dy + i * g.out_volume;
      for (index_t i0 = 0; i0 < g.out[0]; ++i0)
        for (index_t i1 = 0; i1 < g.out[1]; ++i1)
          std::memcpy(row + front + i0 * dx_layout.plane + i1 * dx_layout.row, src + (i0 * g.out[1] + i1) * g.out[2],
                      sizeof(T) * static_cast<std::size_t>(g.out[2]));
    }
    // Input gradient: correlation of dy with the flipped kernel, channels transposed.
    T* buf = detail::ensure_capacity(state_->work.cols[tid], blocks * detail::kDirectOutBlock * chunk_len);
#pragma omp for schedule(dynamic, 1) nowait
    for (index_t item = 0; item < batch * dx_layout.chunks; ++item) {
      const index_t n = item / dx_layout.chunks, c = item % dx_layout.chunks;
      const index_t q0 = c * dx_layout.rows_per_chunk * dx_layout.row;
      const index_t len = std::min(dx_layout.rows_per_chunk * dx_layout.row, g.padded_volume - q0);
      detail::direct_correlation(dyl + n * cout * stride + q0, stride, cout, flipped.data(), K, packed, blocks, buf,
                                 chunk_len, round_up_step<T>(len));
      for (index_t i = 0; i < cin; ++i)
        std::memcpy(dxpad + (n * cin + i) * g.padded_volume + q0, buf + i * chunk_len,
                    sizeof(T) * static_cast<std::size_t>(len));
    }
    // Weight gradient: dW[i][k][o] += sum_q dY[o, q] X[i, q + offset(k)], one partial sum per block of
    // positions (reduced below in block order, so the result does not depend on which thread ran what).
    T* transposed = detail::ensure_capacity(state_->work.transposed[tid], kDirectChunk * dw_row);
#pragma omp for schedule(dynamic, 1)
    for (index_t item = 0; item < dw_items; ++item) {
      const index_t group = item / dw_chunks, begin = (item % dw_chunks) * dw_chunk;
      const index_t end = std::min(begin + dw_chunk, needed);
      T* part = partials + item * dw_size;
      std::fill(part, part + dw_size, T(0));
      for (index_t n = group * samples_per_item; n < std::min(batch, (group + 1) * samples_per_item); ++n)
        for (index_t q0 = begin; q0 < end; q0 += kDirectChunk)
          detail::direct_weight_gradient(
              dyl + n * cout * stride + front + q0, stride, cout, xpad + n * cin * g.padded_volume + q0,
              g.padded_volume, cin, dx_layout.offsets.data(), K, part, transposed, std::min(kDirectChunk, end - q0));
    }
#pragma omp for schedule(static) nowait
    for (index_t i = 0; i < batch * cin; ++i)
      detail::unpad_sample(g, dxpad + i * g.padded_volume, dx + i * g.in_volume, index_t(1));
    if (has_bias_) {
#pragma omp for schedule(static)
      for (index_t o = 0; o < cout; ++o) {
        T sum = 0;
        for (index_t n = 0; n < batch; ++n)
          sum += Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(dy + (n * cout + o) * g.out_volume, g.out_volume)
                     .sum();
        bias_.grad[o] += sum;
      }
    }
  }
  // Reduce the per-block [i][k][o] partial sums into weight.grad[o][i][k], in block order.
  T* gw = weight_.grad.data();
  for (index_t item = 0; item < dw_items; ++item) {
    const T* part = partials + item * dw_size;
    for (index_t m = 0; m < cin * K; ++m)
      for (index_t o = 0; o < cout; ++o) gw[o * cin * K + m] += part[m * dw_row + o];
  }
}

template class Conv<float>;
template class Conv<double>;

}  // namespace neurops::nn
