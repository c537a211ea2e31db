#include "neurops/nn/spectral_conv.hpp"

#include <Eigen/Core>
#include <cstring>
#include <sstream>

#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/transforms.hpp"

namespace neurops::nn {

namespace {

std::string join(const std::vector<index_t>& v) {
  std::ostringstream os;
  os << "(";
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << (v.size() == 1 ? ",)" : ")");
  return os.str();
}

/// Half-spectrum buffer of `rows` signals on grid g: [row][g_0]..[g_{d-2}][g_{d-1}/2+1].
struct SpectrumLayout {
  std::vector<index_t> grid;
  index_t half = 0;                 // g_{d-1}/2 + 1
  index_t block = 0;                // complex entries per row
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

/// c2c along axis a (< d-1) of every row, restricted to the kept columns k_last < kept_last.
template <class T>
void transform_axis(const SpectrumLayout& L, index_t rows, int a, index_t kept_last, std::complex<T>* buf, int sign) {
  const int d = static_cast<int>(L.grid.size());
  std::int64_t outer = rows;
  for (int j = 0; j < a; ++j) outer *= L.grid[j];
  std::vector<FftDim> loops{{static_cast<int>(outer), L.grid[a] * L.stride[a], L.grid[a] * L.stride[a]}};
  for (int j = a + 1; j < d - 1; ++j) loops.push_back({static_cast<int>(L.grid[j]), L.stride[j], L.stride[j]});
  loops.push_back({static_cast<int>(kept_last), 1, 1});
  Fft<T>::c2c({{static_cast<int>(L.grid[a]), L.stride[a], L.stride[a]}}, loops, buf, buf, sign);
}

/// Unnormalised rfftn of `rows` real signals into the half-spectrum buffer; the transforms along
/// the non-last axes run only on the columns k_last < kept_last (the others are left undefined).
template <class T>
void pruned_rfftn(const SpectrumLayout& L, index_t rows, index_t kept_last, const T* x, std::complex<T>* buf) {
  const int d = static_cast<int>(L.grid.size());
  const index_t n_last = L.grid[d - 1];
  const std::int64_t lines = rows * (L.block / L.half);
  Fft<T>::r2c({{static_cast<int>(n_last), 1, 1}}, {{static_cast<int>(lines), n_last, L.half}}, x, buf);
  for (int a = d - 2; a >= 0; --a) transform_axis(L, rows, a, kept_last, buf, -1);
}

/// Unnormalised inverse of pruned_rfftn for a spectrum that is zero in the columns k_last >= kept_last.
/// Destroys buf.
template <class T>
void pruned_irfftn(const SpectrumLayout& L, index_t rows, index_t kept_last, std::complex<T>* buf, T* y) {
  const int d = static_cast<int>(L.grid.size());
  const index_t n_last = L.grid[d - 1];
  for (int a = 0; a < d - 1; ++a) transform_axis(L, rows, a, kept_last, buf, +1);
  const std::int64_t lines = rows * (L.block / L.half);
  Fft<T>::c2r({{static_cast<int>(n_last), 1, 1}}, {{static_cast<int>(lines), L.half, n_last}}, buf, y);
}

template <class C>
using CMatMap = Eigen::Map<Eigen::Matrix<C, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

}  // namespace

template <class T>
SpectralConv<T>::SpectralConv(index_t in_channels, index_t out_channels, std::vector<index_t> modes, bool bias,
                              std::uint64_t seed)
    : in_(in_channels), out_(out_channels), modes_(std::move(modes)), has_bias_(bias) {
  NEUROPS_CHECK(!modes_.empty() && modes_.size() <= 3,
                "SpectralConv: modes " << join(modes_) << " give dimension " << modes_.size() << "; 1, 2 or 3 supported");
  NEUROPS_CHECK(in_ >= 1 && out_ >= 1, type_name() << ": channels in " << in_ << ", out " << out_ << " must be >= 1");
  for (auto m : modes_) NEUROPS_CHECK(m >= 1, type_name() << ": modes " << join(modes_) << " must all be >= 1");
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
void SpectralConv<T>::for_each_parameter(const typename Module<T>::ParameterFn& fn) {
  for (int c = 0; c < corners(); ++c) fn("weight" + std::to_string(c), weights_[static_cast<std::size_t>(c)]);
  if (has_bias_) fn("bias", bias_);
}

template <class T>
void SpectralConv<T>::set_output_grid(std::vector<index_t> grid) {
  NEUROPS_CHECK(grid.empty() || grid.size() == modes_.size(),
                type_name() << ": output grid " << join(grid) << " must have " << modes_.size() << " extents");
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
                  type_name() << ": " << which << " grid " << join(grid) << " (shape " << shape << ") is too small for modes "
                              << join(modes_) << ": axis " << a << " has " << grid[a] << " points, needs at least " << need
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
  const index_t io = in_ * out_, M = modes_per_corner_;
  packed_.resize(static_cast<std::size_t>(corners() * M * io));
  for (int c = 0; c < corners(); ++c) {
    const T* w = weights_[static_cast<std::size_t>(c)].value.data();
    for (index_t e = 0; e < io; ++e)
      for (index_t q = 0; q < M; ++q)
        packed_[static_cast<std::size_t>((c * M + q) * io + e)] = Complex(w[(e * M + q) * 2], w[(e * M + q) * 2 + 1]);
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

  // 1. Kept spectrum of the input, mode-major: x_hat[p][b][i].
  std::vector<Complex> buf(static_cast<std::size_t>(std::max(Rin * Lin.block, Rout * Lout.block)));
  pruned_rfftn(Lin, Rin, kept_last, x.data(), buf.data());
  std::vector<Complex> x_hat(static_cast<std::size_t>(P * Rin));
#pragma omp parallel for schedule(static)
  for (index_t r = 0; r < Rin; ++r)
    for (index_t p = 0; p < P; ++p) x_hat[static_cast<std::size_t>(p * Rin + r)] = buf[static_cast<std::size_t>(r * Lin.block + off_in[static_cast<std::size_t>(p)])];

  // 2. Per-mode channel mixing: Y_p (B x out) = X_p (B x in) W_p (in x out).
  pack_weights();
  std::vector<Complex> y_hat(static_cast<std::size_t>(P * Rout));
#pragma omp parallel for schedule(static)
  for (index_t p = 0; p < P; ++p) {
    CMatMap<Complex> X(x_hat.data() + p * Rin, B, in_);
    CMatMap<Complex> W(packed_.data() + p * in_ * out_, in_, out_);
    CMatMap<Complex> Y(y_hat.data() + p * Rout, B, out_);
    Y.noalias() = X * W;
  }

  // 3. Zero-padded spectrum on the output grid, inverse transform, 1/N scaling and bias.
#pragma omp parallel for schedule(static)
  for (index_t r = 0; r < Rout; ++r) {
    Complex* row = buf.data() + r * Lout.block;
    std::memset(static_cast<void*>(row), 0, sizeof(Complex) * static_cast<std::size_t>(Lout.block));
    for (index_t p = 0; p < P; ++p) row[off_out[static_cast<std::size_t>(p)]] = y_hat[static_cast<std::size_t>(p * Rout + r)];
  }
  std::vector<index_t> out_dims{B, out_};
  out_dims.insert(out_dims.end(), o.begin(), o.end());
  Tensor<T> y = Tensor<T>::uninitialized(Shape(out_dims));
  pruned_irfftn(Lout, Rout, kept_last, buf.data(), y.data());
  const index_t N = Lout.points();
  const T scale = T(1) / static_cast<T>(N);
#pragma omp parallel for schedule(static)
  for (index_t r = 0; r < Rout; ++r) {
    const T b = has_bias_ ? bias_.value[r % out_] : T(0);
    T* row = y.data() + r * N;
    for (index_t i = 0; i < N; ++i) row[i] = row[i] * scale + b;
  }

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

  // 1. Adjoint of the inverse transform: (1/N) * multiplicity * rfftn(dy) at the kept modes.
  std::vector<Complex> buf(static_cast<std::size_t>(std::max(Rin * Lin.block, Rout * Lout.block)));
  pruned_rfftn(Lout, Rout, kept_last, dy.data(), buf.data());
  const T inv_n = T(1) / static_cast<T>(Lout.points());
  std::vector<Complex> gy(static_cast<std::size_t>(P * Rout));
#pragma omp parallel for schedule(static)
  for (index_t r = 0; r < Rout; ++r)
    for (index_t p = 0; p < P; ++p) {
      const index_t k_last = (p % M) % modes_.back();
      const T s = inv_n * static_cast<T>(detail::hermitian_multiplicity(k_last, n_out_last));
      gy[static_cast<std::size_t>(p * Rout + r)] = s * buf[static_cast<std::size_t>(r * Lout.block + off_out[static_cast<std::size_t>(p)])];
    }

  // 2. Mixing adjoint: dW_p += X_p^H dY_p, dX_p = dY_p W_p^H.
  pack_weights();
  std::vector<Complex> gw(static_cast<std::size_t>(P * in_ * out_));
  std::vector<Complex> gx(static_cast<std::size_t>(P * Rin));
#pragma omp parallel for schedule(static)
  for (index_t p = 0; p < P; ++p) {
    CMatMap<Complex> X(x_hat_.data() + p * Rin, B, in_);
    CMatMap<Complex> W(packed_.data() + p * in_ * out_, in_, out_);
    CMatMap<Complex> GY(gy.data() + p * Rout, B, out_);
    CMatMap<Complex> GW(gw.data() + p * in_ * out_, in_, out_);
    CMatMap<Complex> GX(gx.data() + p * Rin, B, in_);
    GW.noalias() = X.adjoint() * GY;
    GX.noalias() = GY * W.adjoint();
  }
  const index_t io = in_ * out_;
  for (int c = 0; c < corners(); ++c) {
    T* grad = weights_[static_cast<std::size_t>(c)].grad.data();
    for (index_t e = 0; e < io; ++e)
      for (index_t q = 0; q < M; ++q) {
        const Complex v = gw[static_cast<std::size_t>((c * M + q) * io + e)];
        grad[(e * M + q) * 2] += v.real();
        grad[(e * M + q) * 2 + 1] += v.imag();
      }
  }
  if (has_bias_) {
    const index_t N = Lout.points();
    for (index_t r = 0; r < Rout; ++r) {
      const T* row = dy.data() + r * N;
      T acc = 0;
      for (index_t i = 0; i < N; ++i) acc += row[i];
      bias_.grad[r % out_] += acc;
    }
  }

  // 3. Adjoint of the forward rfftn: c2r of the gradient with entries standing for two conjugate
  //    modes halved (c2r counts them twice).
#pragma omp parallel for schedule(static)
  for (index_t r = 0; r < Rin; ++r) {
    Complex* row = buf.data() + r * Lin.block;
    std::memset(static_cast<void*>(row), 0, sizeof(Complex) * static_cast<std::size_t>(Lin.block));
    for (index_t p = 0; p < P; ++p) {
      const index_t k_last = (p % M) % modes_.back();
      const T s = detail::hermitian_multiplicity(k_last, n_in_last) == 2 ? T(0.5) : T(1);
      row[off_in[static_cast<std::size_t>(p)]] = s * gx[static_cast<std::size_t>(p * Rin + r)];
    }
  }
  Tensor<T> dx = Tensor<T>::uninitialized(input_shape_);
  pruned_irfftn(Lin, Rin, kept_last, buf.data(), dx.data());
  return dx;
}

template class SpectralConv<float>;
template class SpectralConv<double>;

}  // namespace neurops::nn
