#include "neurops/nn/spectral_conv.hpp"

#include "neurops/core/strings.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstring>
#include <sstream>

#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/transforms.hpp"

namespace neurops::nn {

namespace {

/// Half-spectrum buffer of `rows` signals on grid g: [row][g_0]..[g_{d-2}][g_{d-1}/2+1].
struct SpectrumLayout {
  std::vector<index_t> grid;
  index_t half = 0;                  // g_{d-1}/2 + 1
  index_t block = 0;                 // complex entries per row
  std::vector<std::int64_t> stride;  // stride of each axis inside a row (last axis: 1)

  explicit SpectrumLayout(const std::vector<index_t>& g) : grid(g) {
    const int d = static_cast<int>(g.size());
    half = g[d - 1] / 2 + 1;
    stride.assign(d, 1);
    std::int64_t s = half;
    for (int a = d - 2; a >= 0; --a) {
      stride[a] = s;
      s *= g[a];
    }
    block = s;
  }
  index_t points() const {
    index_t n = 1;
    for (auto e : grid) n *= e;
    return n;
  }
};

/// Plans that take one signal (one (batch, channel) row) from its grid to the kept columns of its
/// half spectrum and back. Only the columns k_last < kept_last go through the transforms along the
/// non-last axes (the others are dropped by the truncation anyway). Each OpenMP thread runs them on
/// one signal at a time in a cache-resident buffer, so no full-size spectrum is ever stored.
template <class T>
struct SignalTransforms {
  using Complex = std::complex<T>;
  SpectrumLayout L;
  index_t kept_last;
  FftPlan<T> r2c_aligned, r2c_unaligned, c2r_aligned, c2r_unaligned;
  std::vector<FftPlan<T>> forward_axes, backward_axes;

  SignalTransforms(const std::vector<index_t>& g, index_t kept) : L(g), kept_last(kept) {
    const int d = static_cast<int>(g.size());
    const int n_last = static_cast<int>(g[d - 1]);
    const std::vector<FftDim> lines{{static_cast<int>(L.block / L.half), n_last, L.half}};
    const std::vector<FftDim> lines_back{{static_cast<int>(L.block / L.half), L.half, n_last}};
    r2c_aligned = Fft<T>::plan_r2c({{n_last, 1, 1}}, lines, true);
    r2c_unaligned = Fft<T>::plan_r2c({{n_last, 1, 1}}, lines, false);
    c2r_aligned = Fft<T>::plan_c2r({{n_last, 1, 1}}, lines_back, true);
    c2r_unaligned = Fft<T>::plan_c2r({{n_last, 1, 1}}, lines_back, false);
    for (int a = 0; a < d - 1; ++a) {
      std::int64_t outer = 1;
      for (int j = 0; j < a; ++j) outer *= g[j];
      std::vector<FftDim> loops{{static_cast<int>(outer), g[a] * L.stride[a], g[a] * L.stride[a]}};
      for (int j = a + 1; j < d - 1; ++j) loops.push_back({static_cast<int>(g[j]), L.stride[j], L.stride[j]});
      loops.push_back({static_cast<int>(kept_last), 1, 1});
      const std::vector<FftDim> axis{{static_cast<int>(g[a]), L.stride[a], L.stride[a]}};
      forward_axes.push_back(Fft<T>::plan_c2c(axis, loops, -1, true, true));
      backward_axes.push_back(Fft<T>::plan_c2c(axis, loops, +1, true, true));
    }
  }
  /// Unnormalised rfftn of one signal into `spectrum` (L.block entries, SIMD-aligned); entries in
  /// the columns k_last >= kept_last are left partially transformed.
  void forward(const T* x, Complex* spectrum) const {
    (Fft<T>::simd_aligned(x) ? r2c_aligned : r2c_unaligned).execute(const_cast<T*>(x), spectrum);
    for (int a = static_cast<int>(forward_axes.size()) - 1; a >= 0; --a) forward_axes[a].execute(spectrum, spectrum);
  }
  /// Unnormalised inverse for a spectrum that is zero in the columns k_last >= kept_last; destroys it.
  void inverse(Complex* spectrum, T* y) const {
    for (const auto& p : backward_axes) p.execute(spectrum, spectrum);
    (Fft<T>::simd_aligned(y) ? c2r_aligned : c2r_unaligned).execute(spectrum, y);
  }
};

/// Signals transformed together by one thread: their spectra stay in its cache, and the mode-major
/// gathers and scatters then move runs of consecutive signals instead of single values.
constexpr index_t kSignalBlock = 8;

/// Runs body(r0, r1, spectra, stride) over blocks [r0, r1) of `signals` signals, in parallel when
/// `parallel`; `spectra` is a per-thread buffer with room for min(signals, kSignalBlock) spectra of `entries`
/// complex values each, `stride` apart (a multiple of 64 bytes, so every spectrum is SIMD-aligned).
template <class T, class Body>
void for_signal_blocks(index_t signals, index_t entries, bool parallel, Body&& body) {
  const index_t stride = (entries + 7) / 8 * 8;
  const index_t blocks = (signals + kSignalBlock - 1) / kSignalBlock;
  // Room for the signals a block really has, uninitialised (the transforms write every entry that is
  // read, the inverse path clears its blocks): for one large signal (a one-channel layer on a fine
  // grid) zero-filling eight spectra per thread cost more than the transforms.
  const index_t per_block = std::min(signals, kSignalBlock);
#pragma omp parallel if (parallel && blocks > 1)
  {
    Tensor<T> storage = Tensor<T>::uninitialized(Shape{2 * stride * per_block});
    auto* spectra = reinterpret_cast<std::complex<T>*>(storage.data());
#pragma omp for schedule(static)
    for (index_t b = 0; b < blocks; ++b)
      body(b * kSignalBlock, std::min(signals, (b + 1) * kSignalBlock), spectra, stride);
  }
}

/// Work (in scalar operations, roughly) below which a loop runs on one thread: the fork/join
/// costs more than it saves on the small shapes of tests and fine-tuning heads.
constexpr index_t kParallelWork = 1 << 15;

template <class C>
using CMatMap = Eigen::Map<Eigen::Matrix<C, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

}  // namespace

void check_modes_fit_grid(const std::vector<index_t>& modes, const std::vector<index_t>& grid,
                          const std::string& option, const std::string& grid_name) {
  NEUROPS_CHECK(modes.size() == grid.size(), "option " << option << " " << format_tuple(modes) << ": " << modes.size()
                                                       << " values for the " << grid.size() << " axes of " << grid_name
                                                       << " " << format_tuple(grid));
  for (std::size_t a = 0; a < grid.size(); ++a) {
    const bool last = a + 1 == grid.size();
    const index_t need = std::max<index_t>(1, last ? 2 * (modes[a] - 1) : 2 * modes[a]);
    NEUROPS_CHECK(grid[a] >= need, "option " << option << " " << format_tuple(modes) << ": " << grid_name << " "
                                             << format_tuple(grid) << " is too small, axis " << a << " has " << grid[a]
                                             << " points and " << modes[a] << " modes need at least " << need
                                             << (last ? " (2*(modes-1) on the last axis)" : " (2*modes)"));
  }
}

template <class T>
SpectralConv<T>::SpectralConv(index_t in_channels, index_t out_channels, std::vector<index_t> modes, bool bias,
                              std::uint64_t seed)
    : in_(in_channels), out_(out_channels), modes_(std::move(modes)), has_bias_(bias) {
  NEUROPS_CHECK(!modes_.empty() && modes_.size() <= 3, "SpectralConv: modes " << format_tuple(modes_)
                                                                              << " give dimension " << modes_.size()
                                                                              << "; 1, 2 or 3 supported");
  NEUROPS_CHECK(in_ >= 1 && out_ >= 1, type_name() << ": channels in " << in_ << ", out " << out_ << " must be >= 1");
  for (auto m : modes_) NEUROPS_CHECK(m >= 1, type_name() << ": modes " << format_tuple(modes_) << " must all be >= 1");
  std::vector<index_t> wshape{in_, out_};
  for (auto m : modes_) {
    wshape.push_back(m);
    modes_per_corner_ *= m;
  }
  wshape.push_back(2);
  for (int c = 0; c < corners(); ++c) weights_.emplace_back(Tensor<T>(Shape(wshape)), true);
  if (has_bias_) bias_ = Parameter<T>(Tensor<T>(Shape{out_}));
  Rng rng(seed);
  fno_spectral_init(*this, rng);
}

template <class T>
void SpectralConv<T>::for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) {
  for (int c = 0; c < corners(); ++c) fn("weight" + std::to_string(c), weights_[static_cast<std::size_t>(c)]);
  if (has_bias_) fn("bias", bias_);
  for (std::size_t c = 0; c < spectral_bias_.size(); ++c) fn("spectral_bias" + std::to_string(c), spectral_bias_[c]);
}

template <class T>
void SpectralConv<T>::set_spectral_bias(double delta) {
  NEUROPS_CHECK(std::isfinite(delta), type_name() << ": spectral bias scale must be finite, found " << delta);
  std::vector<index_t> shape(modes_.begin(), modes_.end());
  shape.push_back(2);
  spectral_bias_.clear();
  for (int c = 0; c < corners(); ++c) spectral_bias_.emplace_back(Tensor<T>(Shape(shape)), true);
  spectral_bias_scale_ = delta;
}

template <class T>
void SpectralConv<T>::set_output_grid(std::vector<index_t> grid) {
  NEUROPS_CHECK(grid.empty() || grid.size() == modes_.size(),
                type_name() << ": output grid " << format_tuple(grid) << " must have " << modes_.size() << " extents");
  output_grid_ = std::move(grid);
}

template <class T>
void SpectralConv<T>::on_mode_change() {
  if (!this->training()) {
    x_hat_.clear();
    x_hat_.shrink_to_fit();
    input_shape_ = Shape();
  }
}

template <class T>
void SpectralConv<T>::check_grid(const std::vector<index_t>& grid, const char* which, const Shape& shape) const {
  const int d = dim();
  for (int a = 0; a < d; ++a) {
    const bool last = a == d - 1;
    const index_t need = last ? 2 * (modes_[a] - 1) : 2 * modes_[a];
    NEUROPS_CHECK(grid[a] >= std::max<index_t>(need, 1),
                  type_name() << ": " << which << " grid " << format_tuple(grid) << " (shape " << shape
                              << ") is too small for modes " << format_tuple(modes_) << ": axis " << a << " has "
                              << grid[a] << " points, needs at least " << need
                              << (last ? " (2*(modes-1): the half spectrum has n/2+1 entries)" : " (2*modes)"));
  }
}

template <class T>
std::vector<index_t> SpectralConv<T>::mode_offsets(const std::vector<index_t>& grid) const {
  const SpectrumLayout L(grid);
  const int d = dim();
  std::vector<index_t> offsets;
  offsets.reserve(static_cast<std::size_t>(corners() * modes_per_corner_));
  for (int c = 0; c < corners(); ++c)
    for (index_t q = 0; q < modes_per_corner_; ++q) {
      index_t rest = q, offset = 0;
      for (int a = d - 1; a >= 0; --a) {
        const index_t k = rest % modes_[a];
        rest /= modes_[a];
        const bool negative = a < d - 1 && ((c >> a) & 1);
        offset += (negative ? grid[a] - modes_[a] + k : k) * L.stride[a];
      }
      offsets.push_back(offset);
    }
  return offsets;
}

template <class T>
void SpectralConv<T>::pack_weights() {
  // Transposes [corner][in*out][mode] (the parameter layout) to [corner*mode][in*out] in tiles, so
  // that neither side is walked with a large stride.
  const index_t io = in_ * out_, M = modes_per_corner_;
  constexpr index_t tile = 16;
  packed_.resize(static_cast<std::size_t>(corners() * M * io));
  const index_t e_tiles = (io + tile - 1) / tile;
#pragma omp parallel for collapse(2) schedule(static) if (corners() * M * io > kParallelWork)
  for (index_t c = 0; c < corners(); ++c)
    for (index_t et = 0; et < e_tiles; ++et) {
      const T* w = weights_[static_cast<std::size_t>(c)].value.data();
      const index_t e_end = std::min(io, (et + 1) * tile);
      for (index_t q0 = 0; q0 < M; q0 += tile)
        for (index_t q = q0; q < std::min(M, q0 + tile); ++q)
          for (index_t e = et * tile; e < e_end; ++e)
            packed_[static_cast<std::size_t>((c * M + q) * io + e)] =
                Complex(w[(e * M + q) * 2], w[(e * M + q) * 2 + 1]);
    }
}

/// Mixing of one sample in evaluation mode, straight from the parameter layout [corner][in*out][mode]:
/// packing the weights mode-major costs a transposed pass over all of them on every call (the largest
/// entry of a batch-1 FNO profile), while this reads each weight once, in storage order. Inference has
/// no backward pass to reuse a packed copy, and one sample no batch to amortise it over. Modes go in
/// tiles of kModeTile whose input and output values are held split into real and imaginary rows
/// ([channel][mode]), so the innermost loop runs over consecutive modes of all three operands and
/// vectorises; each output sums over the input channels in order.
template <class T>
static void mix_from_parameters(const T* w, const std::complex<T>* x_hat, std::complex<T>* y_hat, index_t in,
                                index_t out, index_t modes, index_t p0) {
  constexpr index_t kModeTile = 16;
  AlignedVector<T> tiles(static_cast<std::size_t>(2 * (in + out) * kModeTile));  // from the buffer cache
  T *xr = tiles.data(), *xi = xr + in * kModeTile, *yr = xi + in * kModeTile, *yi = yr + out * kModeTile;
  for (index_t q0 = 0; q0 < modes; q0 += kModeTile) {
    const index_t len = std::min(kModeTile, modes - q0);
    for (index_t t = 0; t < len; ++t)
      for (index_t i = 0; i < in; ++i) {
        const std::complex<T> v = x_hat[(p0 + q0 + t) * in + i];
        xr[i * kModeTile + t] = v.real();
        xi[i * kModeTile + t] = v.imag();
      }
    std::fill(yr, yr + 2 * out * kModeTile, T(0));
    for (index_t o = 0; o < out; ++o) {
      T* __restrict__ ar = yr + o * kModeTile;
      T* __restrict__ ai = yi + o * kModeTile;
      for (index_t i = 0; i < in; ++i) {
        const T* __restrict__ wq = w + ((i * out + o) * modes + q0) * 2;
        const T* __restrict__ br = xr + i * kModeTile;
        const T* __restrict__ bi = xi + i * kModeTile;
        for (index_t t = 0; t < len; ++t) {
          ar[t] += br[t] * wq[2 * t] - bi[t] * wq[2 * t + 1];
          ai[t] += br[t] * wq[2 * t + 1] + bi[t] * wq[2 * t];
        }
      }
    }
    for (index_t t = 0; t < len; ++t)
      for (index_t o = 0; o < out; ++o)
        y_hat[(p0 + q0 + t) * out + o] = std::complex<T>(yr[o * kModeTile + t], yi[o * kModeTile + t]);
  }
}

template <class T>
Tensor<T> SpectralConv<T>::forward(const Tensor<T>& x) {
  const int d = dim();
  NEUROPS_CHECK(x.rank() == d + 2, type_name() << ": input of shape " << x.shape() << " must be (batch, " << in_
                                               << " channels, " << d << " spatial axes), i.e. rank " << d + 2);
  NEUROPS_CHECK(x.size(1) == in_, type_name() << ": input of shape " << x.shape() << " has " << x.size(1)
                                              << " channels, expected " << in_);
  const index_t B = x.size(0);
  const std::vector<index_t> g = x.shape().tail(2).dims();
  const std::vector<index_t> o = output_grid_.empty() ? g : output_grid_;
  check_grid(g, "input", x.shape());
  check_grid(o, "output", x.shape());
  const SpectrumLayout Lin(g), Lout(o);
  const index_t P = corners() * modes_per_corner_, Rin = B * in_, Rout = B * out_, kept_last = modes_.back();
  const auto off_in = mode_offsets(g), off_out = mode_offsets(o);

  const index_t G = Lin.points(), N = Lout.points();
  const SignalTransforms<T> tin(g, kept_last), tout(o, kept_last);

  // 1. Kept spectrum of the input, mode-major: x_hat[p][b][i].
  AlignedVector<Complex> x_hat(static_cast<std::size_t>(P * Rin));
  for_signal_blocks<T>(Rin, Lin.block, Rin * G > kParallelWork,
                       [&](index_t r0, index_t r1, Complex* spectra, index_t stride) {
                         for (index_t r = r0; r < r1; ++r) tin.forward(x.data() + r * G, spectra + (r - r0) * stride);
                         for (index_t p = 0; p < P; ++p) {
                           const Complex* from = spectra + off_in[static_cast<std::size_t>(p)];
                           Complex* to = x_hat.data() + p * Rin;
                           for (index_t r = r0; r < r1; ++r) to[r] = from[(r - r0) * stride];
                         }
                       });

  // 2. Per-mode channel mixing: Y_p (B x out) = X_p (B x in) W_p (in x out).
  AlignedVector<Complex> y_hat(static_cast<std::size_t>(P * Rout));
  if (this->training() || B > 1) {
    pack_weights();  // backward reuses the packed weights; a batch amortises the packing
#pragma omp parallel for schedule(static) if (P * B * in_ * out_ > kParallelWork)
    for (index_t p = 0; p < P; ++p) {
      CMatMap<Complex> X(x_hat.data() + p * Rin, B, in_);
      CMatMap<Complex> W(packed_.data() + p * in_ * out_, in_, out_);
      CMatMap<Complex> Y(y_hat.data() + p * Rout, B, out_);
      Y.noalias() = X * W;
    }
  } else {
    const index_t M = modes_per_corner_;
#pragma omp parallel for schedule(static) if (P * B * in_ * out_ > kParallelWork)
    for (index_t c = 0; c < corners(); ++c)
      mix_from_parameters(weights_[static_cast<std::size_t>(c)].value.data(), x_hat.data(), y_hat.data(), in_, out_, M,
                          c * M);
  }
  if (has_spectral_bias()) {
    const T scale = static_cast<T>(spectral_bias_scale_);
    for (index_t p = 0; p < P; ++p) {
      const T* b =
          spectral_bias_[static_cast<std::size_t>(p / modes_per_corner_)].value.data() + 2 * (p % modes_per_corner_);
      const Complex shift(scale * b[0], scale * b[1]);
      Complex* Y = y_hat.data() + p * Rout;
      for (index_t r = 0; r < Rout; ++r) Y[r] += shift;
    }
  }

  // 3. Zero-padded spectrum on the output grid, inverse transform, 1/N scaling and bias.
  std::vector<index_t> out_dims{B, out_};
  out_dims.insert(out_dims.end(), o.begin(), o.end());
  Tensor<T> y = Tensor<T>::uninitialized(Shape(out_dims));
  const T scale = T(1) / static_cast<T>(N);
  for_signal_blocks<T>(
      Rout, Lout.block, Rout * N > kParallelWork, [&](index_t r0, index_t r1, Complex* spectra, index_t stride) {
        std::memset(static_cast<void*>(spectra), 0, sizeof(Complex) * static_cast<std::size_t>(stride * (r1 - r0)));
        for (index_t p = 0; p < P; ++p) {
          const Complex* from = y_hat.data() + p * Rout;
          Complex* to = spectra + off_out[static_cast<std::size_t>(p)];
          for (index_t r = r0; r < r1; ++r) to[(r - r0) * stride] = from[r];
        }
        for (index_t r = r0; r < r1; ++r) {
          T* out = y.data() + r * N;
          tout.inverse(spectra + (r - r0) * stride, out);
          const T b = has_bias_ ? bias_.value[r % out_] : T(0);
          for (index_t i = 0; i < N; ++i) out[i] = out[i] * scale + b;
        }
      });

  if (this->training()) {
    x_hat_ = std::move(x_hat);
    input_shape_ = x.shape();
    output_shape_ = y.shape();
  }
  return y;
}

template <class T>
Tensor<T> SpectralConv<T>::backward(const Tensor<T>& dy) {
  this->require_cache(input_shape_.rank() > 0 && !x_hat_.empty());
  NEUROPS_CHECK(dy.shape() == output_shape_, type_name() << ": output gradient has shape " << dy.shape()
                                                         << ", the forward pass produced " << output_shape_);
  const int d = dim();
  const index_t B = input_shape_[0];
  const std::vector<index_t> g = input_shape_.tail(2).dims();
  const std::vector<index_t> o = output_shape_.tail(2).dims();
  const SpectrumLayout Lin(g), Lout(o);
  const index_t P = corners() * modes_per_corner_, Rin = B * in_, Rout = B * out_, kept_last = modes_.back();
  const index_t M = modes_per_corner_;
  const auto off_in = mode_offsets(g), off_out = mode_offsets(o);
  const index_t n_out_last = o[static_cast<std::size_t>(d - 1)], n_in_last = g[static_cast<std::size_t>(d - 1)];

  const index_t G = Lin.points(), N = Lout.points();
  const SignalTransforms<T> tin(g, kept_last), tout(o, kept_last);

  // Per-mode factors of the two transform adjoints (see steps 1 and 3).
  std::vector<T> out_factor(static_cast<std::size_t>(P)), in_factor(static_cast<std::size_t>(P));
  for (index_t p = 0; p < P; ++p) {
    const index_t k_last = (p % M) % modes_.back();
    out_factor[static_cast<std::size_t>(p)] =
        static_cast<T>(detail::hermitian_multiplicity(k_last, n_out_last)) / static_cast<T>(N);
    in_factor[static_cast<std::size_t>(p)] = detail::hermitian_multiplicity(k_last, n_in_last) == 2 ? T(0.5) : T(1);
  }

  // 1. Adjoint of the inverse transform: (1/N) * multiplicity * rfftn(dy) at the kept modes.
  AlignedVector<Complex> gy(static_cast<std::size_t>(P * Rout));
  for_signal_blocks<T>(Rout, Lout.block, Rout * N > kParallelWork,
                       [&](index_t r0, index_t r1, Complex* spectra, index_t stride) {
                         for (index_t r = r0; r < r1; ++r) tout.forward(dy.data() + r * N, spectra + (r - r0) * stride);
                         for (index_t p = 0; p < P; ++p) {
                           const Complex* from = spectra + off_out[static_cast<std::size_t>(p)];
                           const T factor = out_factor[static_cast<std::size_t>(p)];
                           Complex* to = gy.data() + p * Rout;
                           for (index_t r = r0; r < r1; ++r) to[r] = factor * from[(r - r0) * stride];
                         }
                       });

  // 2. Mixing adjoint: dW_p += X_p^H dY_p, dX_p = dY_p W_p^H, with the weights the forward pass
  //    packed (and used).
  AlignedVector<Complex> gw(static_cast<std::size_t>(P * in_ * out_));
  AlignedVector<Complex> gx(static_cast<std::size_t>(P * Rin));
#pragma omp parallel for schedule(static) if (P * B * in_ * out_ > kParallelWork)
  for (index_t p = 0; p < P; ++p) {
    CMatMap<Complex> X(x_hat_.data() + p * Rin, B, in_);
    CMatMap<Complex> W(packed_.data() + p * in_ * out_, in_, out_);
    CMatMap<Complex> GY(gy.data() + p * Rout, B, out_);
    CMatMap<Complex> GW(gw.data() + p * in_ * out_, in_, out_);
    CMatMap<Complex> GX(gx.data() + p * Rin, B, in_);
    GW.noalias() = X.adjoint() * GY;
    GX.noalias() = GY * W.adjoint();
  }
  // Accumulate into the parameter layout [corner][in*out][mode], tiled like pack_weights.
  const index_t io = in_ * out_;
  constexpr index_t tile = 16;
  const index_t e_tiles = (io + tile - 1) / tile;
#pragma omp parallel for collapse(2) schedule(static) if (corners() * M * io > kParallelWork)
  for (index_t c = 0; c < corners(); ++c)
    for (index_t et = 0; et < e_tiles; ++et) {
      T* grad = weights_[static_cast<std::size_t>(c)].grad.data();
      const index_t e_end = std::min(io, (et + 1) * tile);
      for (index_t q0 = 0; q0 < M; q0 += tile)
        for (index_t q = q0; q < std::min(M, q0 + tile); ++q)
          for (index_t e = et * tile; e < e_end; ++e) {
            const Complex v = gw[static_cast<std::size_t>((c * M + q) * io + e)];
            grad[(e * M + q) * 2] += v.real();
            grad[(e * M + q) * 2 + 1] += v.imag();
          }
    }
  if (has_spectral_bias()) {
    // The bias enters every (batch, output channel) entry of its mode: its gradient is their sum.
    const T scale = static_cast<T>(spectral_bias_scale_);
    for (index_t p = 0; p < P; ++p) {
      const Complex* G = gy.data() + p * Rout;
      Complex acc(0);
      for (index_t r = 0; r < Rout; ++r) acc += G[r];
      T* grad = spectral_bias_[static_cast<std::size_t>(p / M)].grad.data() + 2 * (p % M);
      grad[0] += scale * acc.real();
      grad[1] += scale * acc.imag();
    }
  }
  if (has_bias_) {
    for (index_t r = 0; r < Rout; ++r) {
      const T* row = dy.data() + r * N;
      T acc = 0;
      for (index_t i = 0; i < N; ++i) acc += row[i];
      bias_.grad[r % out_] += acc;
    }
  }

  // 3. Adjoint of the forward rfftn: c2r of the gradient with entries standing for two conjugate
  //    modes halved (c2r counts them twice).
  Tensor<T> dx = Tensor<T>::uninitialized(input_shape_);
  for_signal_blocks<T>(
      Rin, Lin.block, Rin * G > kParallelWork, [&](index_t r0, index_t r1, Complex* spectra, index_t stride) {
        std::memset(static_cast<void*>(spectra), 0, sizeof(Complex) * static_cast<std::size_t>(stride * (r1 - r0)));
        for (index_t p = 0; p < P; ++p) {
          const Complex* from = gx.data() + p * Rin;
          const T factor = in_factor[static_cast<std::size_t>(p)];
          Complex* to = spectra + off_in[static_cast<std::size_t>(p)];
          for (index_t r = r0; r < r1; ++r) to[(r - r0) * stride] = factor * from[r];
        }
        for (index_t r = r0; r < r1; ++r) tin.inverse(spectra + (r - r0) * stride, dx.data() + r * G);
      });
  return dx;
}

template class SpectralConv<float>;
template class SpectralConv<double>;

}  // namespace neurops::nn
