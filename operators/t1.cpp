#include "neurops/operators/t1.hpp"

#include <omp.h>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "config_group.hpp"
#include "neurops/core/options.hpp"
#include "neurops/core/strings.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/transforms.hpp"
#include "neurops/operators/fno.hpp"

namespace neurops::operators {

namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowArr = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Work (multiply-adds) below which a loop stays on one thread: the fork/join costs more than it
/// saves on the small shapes of the gradient checks.
constexpr index_t kParallelWork = 1 << 15;

}  // namespace

// ---- configuration ------------------------------------------------------------------------------

std::string to_string(T1Init init) {
  switch (init) {
    case T1Init::vp:
      return "vp";
    case T1Init::vp_first:
      return "vp_first";
    case T1Init::naive:
      return "naive";
  }
  return "vp";
}

T1Init t1_init_from_string(const std::string& name) {
  if (name == "vp") return T1Init::vp;
  if (name == "vp_first") return T1Init::vp_first;
  if (name == "naive") return T1Init::naive;
  NEUROPS_THROW("T1: unknown initialisation '" << name << "', expected vp, vp_first or naive");
}

std::vector<index_t> T1Config::modes_per_axis() const {
  NEUROPS_CHECK(modes.size() == 1 || static_cast<int>(modes.size()) == dims,
                "T1: modes needs 1 or " << dims << " values, found " << modes.size());
  return modes.size() == 1 ? std::vector<index_t>(static_cast<std::size_t>(dims), modes[0]) : modes;
}

std::vector<std::vector<index_t>> T1Config::kept_indices() const {
  if (!selected.empty()) return selected;
  std::vector<std::vector<index_t>> k;
  for (index_t m : modes_per_axis()) {
    k.emplace_back(static_cast<std::size_t>(m));
    std::iota(k.back().begin(), k.back().end(), index_t(0));
  }
  return k;
}

void T1Config::validate() const {
  NEUROPS_CHECK(dims == 2, "T1: dims must be 2 (the 1-D and 3-D models are not implemented), found " << dims);
  NEUROPS_CHECK(in_channels >= 1 && out_channels >= 1,
                "T1: in_channels and out_channels must be >= 1, found " << in_channels << " and " << out_channels);
  NEUROPS_CHECK(
      width >= 1 && layers >= 1 && head_channels >= 1,
      "T1: width, layers and head_channels must be >= 1, found " << width << ", " << layers << ", " << head_channels);
  NEUROPS_CHECK(static_cast<int>(grid.size()) == dims,
                "T1: grid needs " << dims << " extents, found " << format_tuple(grid));
  const auto m = modes_per_axis();
  for (int a = 0; a < dims; ++a) {
    NEUROPS_CHECK(m[a] >= 1 && m[a] <= grid[a], "T1: modes " << format_tuple(m) << " on grid " << format_tuple(grid)
                                                             << ": axis " << a << " holds 1 to " << grid[a]
                                                             << " modes, found " << m[a]);
  }
  NEUROPS_CHECK(head_init >= 0, "T1: head_init must be >= 0, found " << head_init);
  NEUROPS_CHECK(selection == "low" || selection == "energy",
                "T1: selection must be 'low' or 'energy', found '" << selection << "'");
  if (selected.empty()) return;
  NEUROPS_CHECK(static_cast<int>(selected.size()) == dims,
                "T1: selected modes need " << dims << " index lists, found " << selected.size());
  for (int a = 0; a < dims; ++a) {
    const auto& s = selected[static_cast<std::size_t>(a)];
    NEUROPS_CHECK(static_cast<index_t>(s.size()) == m[a],
                  "T1: axis " << a << " selects " << s.size() << " modes, expected " << m[a]);
    for (std::size_t i = 0; i < s.size(); ++i)
      NEUROPS_CHECK(s[i] >= 0 && s[i] < grid[a] && (i == 0 || s[i] > s[i - 1]),
                    "T1: selected modes of axis " << a << " must be ascending in [0, " << grid[a] << "), found "
                                                  << format_tuple(s));
  }
}

void T1Config::save(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "model", std::string("T1"));
  file.set_attr(group, "dims", std::int64_t(dims));
  file.set_attr(group, "in_channels", in_channels);
  file.set_attr(group, "out_channels", out_channels);
  file.set_attr(group, "width", width);
  file.set_attr(group, "modes", std::vector<std::int64_t>(modes.begin(), modes.end()));
  file.set_attr(group, "layers", layers);
  file.set_attr(group, "head_channels", head_channels);
  file.set_attr(group, "head_init", head_init);
  file.set_attr(group, "grid", std::vector<std::int64_t>(grid.begin(), grid.end()));
  file.set_attr(group, "activation", nn::to_string(activation));
  file.set_attr(group, "residual", std::int64_t(residual));
  file.set_attr(group, "keep_high", std::int64_t(keep_high));
  file.set_attr(group, "perform_inverse", std::int64_t(perform_inverse));
  file.set_attr(group, "init", to_string(init));
  file.set_attr(group, "selection", selection);
  const auto kept = kept_indices();
  for (int a = 0; a < dims; ++a) {
    const auto& k = kept[static_cast<std::size_t>(a)];
    file.set_attr(group, "selected_modes_" + std::to_string(a), std::vector<std::int64_t>(k.begin(), k.end()));
  }
  file.set_attr(group, "seed", std::int64_t(seed));
}

T1Config T1Config::load(const io::H5File& file, const std::string& group) {
  check_config_group(file, group, "T1");
  T1Config c;
  c.dims = static_cast<int>(file.attr_int(group, "dims"));
  c.in_channels = file.attr_int(group, "in_channels");
  c.out_channels = file.attr_int(group, "out_channels");
  c.width = file.attr_int(group, "width");
  const auto m = file.attr_ints(group, "modes");
  c.modes.assign(m.begin(), m.end());
  c.layers = file.attr_int(group, "layers");
  c.head_channels = file.attr_int(group, "head_channels");
  c.head_init = file.attr_real(group, "head_init");
  const auto g = file.attr_ints(group, "grid");
  c.grid.assign(g.begin(), g.end());
  c.activation = nn::activation_from_string(file.attr_string(group, "activation"));
  c.residual = file.attr_int(group, "residual") != 0;
  c.keep_high = file.attr_int(group, "keep_high") != 0;
  c.perform_inverse = file.attr_int(group, "perform_inverse") != 0;
  c.init = t1_init_from_string(file.attr_string(group, "init"));
  c.selection = file.attr_string(group, "selection");
  c.selected.clear();
  for (int a = 0; a < c.dims; ++a) {
    const auto s = file.attr_ints(group, "selected_modes_" + std::to_string(a));
    c.selected.emplace_back(s.begin(), s.end());
  }
  c.seed = static_cast<std::uint64_t>(file.attr_int(group, "seed"));
  c.validate();
  return c;
}

void T1Config::set_from_options(const std::string& prefix) {
  Options opt("T1 model (Transform Once)", prefix);
  in_channels = opt.integer("in_channels", in_channels, "channels of the input field");
  out_channels = opt.integer("out_channels", out_channels, "channels of the output field");
  width = opt.integer("width", width, "channels inside the T1 blocks");
  const auto m = opt.integers("modes", {modes.begin(), modes.end()}, "DCT modes kept per axis (one or one per axis)");
  modes.assign(m.begin(), m.end());
  layers = opt.integer("layers", layers, "T1 blocks");
  head_channels = opt.integer("head", head_channels, "hidden channels of the per-mode head");
  head_init = opt.real("head_init", head_init, "standard deviation of the head weights (0: PyTorch's Linear init)");
  const auto g = opt.integers("grid", {grid.begin(), grid.end()}, "training grid (VP scale, mode selection range)");
  grid.assign(g.begin(), g.end());
  activation = nn::activation_from_string(opt.choice("activation", nn::to_string(activation),
                                                     {"gelu", "sin", "relu", "tanh", "identity"}, "block activation"));
  residual = opt.flag("residual", residual, "residual connection in every block");
  keep_high = opt.flag("keep_high", keep_high, "pass the unselected modes through to the head");
  perform_inverse = opt.flag("inverse", perform_inverse, "end with the inverse DCT (fields out instead of spectra)");
  init = t1_init_from_string(opt.choice("init", to_string(init), {"vp", "vp_first", "naive"},
                                        "spectral weight initialisation (variance preserving or FNO's)"));
  const std::string s = opt.choice("selection", selection, {"low", "energy"},
                                   "kept modes: low-frequency corner, or the most energetic in the training targets");
  if (s != selection) selected.clear();
  selection = s;
  seed = static_cast<std::uint64_t>(opt.integer("seed", static_cast<std::int64_t>(seed), "seed of the weights"));
  validate();
}

bool T1Config::operator==(const T1Config& o) const {
  return dims == o.dims && in_channels == o.in_channels && out_channels == o.out_channels && width == o.width &&
         modes_per_axis() == o.modes_per_axis() && layers == o.layers && head_channels == o.head_channels &&
         head_init == o.head_init && grid == o.grid && activation == o.activation && residual == o.residual &&
         keep_high == o.keep_high && perform_inverse == o.perform_inverse && init == o.init &&
         selection == o.selection && kept_indices() == o.kept_indices() && seed == o.seed;
}

// ---- mode selection and gathering ---------------------------------------------------------------

template <class T>
std::vector<std::vector<index_t>> select_modes_by_energy(const Tensor<T>& targets, const std::vector<index_t>& modes) {
  NEUROPS_CHECK(targets.rank() == 4,
                "select_modes_by_energy: expected targets (N, C, H, W), found " << targets.shape());
  const std::vector<index_t> m = modes.size() == 1 ? std::vector<index_t>{modes[0], modes[0]} : modes;
  NEUROPS_CHECK(m.size() == 2, "select_modes_by_energy: expected 1 or 2 mode counts, found " << modes.size());
  const index_t h = targets.size(2), w = targets.size(3);
  NEUROPS_CHECK(m[0] >= 1 && m[0] <= h && m[1] >= 1 && m[1] <= w,
                "select_modes_by_energy: modes " << format_tuple(m) << " do not fit the grid " << h << " x " << w);
  const Tensor<T> spectrum = nn::dct_ortho(targets, 2, false);
  std::vector<std::vector<double>> energy{std::vector<double>(static_cast<std::size_t>(h)),
                                          std::vector<double>(static_cast<std::size_t>(w))};
  const index_t fields = targets.size(0) * targets.size(1);
  for (index_t f = 0; f < fields; ++f)
    for (index_t i = 0; i < h; ++i)
      for (index_t j = 0; j < w; ++j) {
        const double e = std::pow(double(spectrum[(f * h + i) * w + j]), 2);
        energy[0][static_cast<std::size_t>(i)] += e;
        energy[1][static_cast<std::size_t>(j)] += e;
      }
  std::vector<std::vector<index_t>> kept;
  for (int a = 0; a < 2; ++a) {
    std::vector<index_t> order(energy[a].size());
    std::iota(order.begin(), order.end(), index_t(0));
    // Ties (e.g. modes with no energy at all) go to the lower frequency.
    std::stable_sort(order.begin(), order.end(), [&](index_t p, index_t q) {
      return energy[a][static_cast<std::size_t>(p)] > energy[a][static_cast<std::size_t>(q)];
    });
    order.resize(static_cast<std::size_t>(m[a]));
    std::sort(order.begin(), order.end());
    kept.push_back(order);
  }
  return kept;
}

template <class T>
Tensor<T> gather_modes(const Tensor<T>& x, const std::vector<index_t>& modes) {
  NEUROPS_CHECK(x.rank() == 4, "gather_modes: expected (N, C, H, W), found " << x.shape());
  const index_t n = x.size(0), c = x.size(1), pts = x.size(2) * x.size(3), k = static_cast<index_t>(modes.size());
  Tensor<T> out = Tensor<T>::uninitialized(Shape{k, n, c});
#pragma omp parallel for schedule(static) if (k * n * c > kParallelWork)
  for (index_t r = 0; r < k; ++r) {
    const index_t p = modes[static_cast<std::size_t>(r)];
    T* dst = out.data() + r * n * c;
    for (index_t s = 0; s < n * c; ++s) dst[s] = x[s * pts + p];
  }
  return out;
}

template <class T>
void scatter_modes(const Tensor<T>& v, const std::vector<index_t>& modes, Tensor<T>& out) {
  const index_t k = static_cast<index_t>(modes.size());
  NEUROPS_CHECK(
      out.rank() == 4 && v.rank() == 3 && v.size(0) == k && v.size(1) == out.size(0) && v.size(2) == out.size(1),
      "scatter_modes: values " << v.shape() << " do not fit " << k << " modes of " << out.shape());
  const index_t nc = v.size(1) * v.size(2), pts = out.size(2) * out.size(3);
#pragma omp parallel for schedule(static) if (k * nc > kParallelWork)
  for (index_t r = 0; r < k; ++r) {
    const index_t p = modes[static_cast<std::size_t>(r)];
    const T* src = v.data() + r * nc;
    for (index_t s = 0; s < nc; ++s) out[s * pts + p] += src[s];
  }
}

// ---- T1 block -----------------------------------------------------------------------------------

namespace {

/// The channel axis is innermost, so mixing along a frequency axis is a batch of small GEMMs (one
/// (m, m) matrix per channel) whose batch index runs along the vector lanes: each lane does the
/// scalar GEMM of its own channel. The kernels below are register-blocked like a GEMM micro-kernel
/// (kRows rows x kCols outputs x one vector of channels in registers), so each loaded value feeds
/// several multiply-adds instead of one load and one store per multiply-add.
/// Eigen's widest packet for T on the build's instruction set, with fused multiply-adds (the
/// library builds in ISO mode, where the compiler does not contract a * b + c by itself).
template <class T>
struct Lanes {
  using V = typename Eigen::internal::packet_traits<T>::type;
  static constexpr index_t size = Eigen::internal::unpacket_traits<V>::size;
  static V zero() { return Eigen::internal::pset1<V>(T(0)); }
  static V load(const T* p) { return Eigen::internal::ploadu<V>(p); }
  static void store(T* p, const V& v) { Eigen::internal::pstoreu(p, v); }
  static V fma(const V& a, const V& b, const V& c) { return Eigen::internal::pmadd(a, b, c); }
  static V add(const V& a, const V& b) { return Eigen::internal::padd(a, b); }
};

/// Register block: rows of the `inner` axis x output frequencies (x input frequencies in the weight
/// gradient). 16 accumulators + 4 + 4 operands fit AVX-512's 32 registers.
constexpr index_t kRows = 4, kCols = 4;
/// Rows of the `inner` axis per parallel work item: the m x kTileRows x C input panel of a tile
/// (24 x 32 x 48 floats = 147 KB at the reference size) stays in L2 while all outputs are formed.
constexpr index_t kTileRows = 32;

/// Strides of the per-channel weights S along the input (si) and output (so) frequency.
struct MixStrides {
  index_t si, so;
};

/// y[o, r, lanes] = sum_i x[i, r, lanes] s[i, o, lanes] for R rows and O outputs (strides in elements:
/// xi between frequencies, C between rows of x and y, yo between output frequencies of y).
template <class T, int R, int O>
void mix_block(const T* x, index_t xi, index_t C, const T* s, MixStrides st, T* y, index_t yo, index_t m) {
  using L = Lanes<T>;
  typename L::V acc[R][O];
  for (auto& row : acc)
    for (auto& v : row) v = L::zero();
  for (index_t i = 0; i < m; ++i) {
    typename L::V sv[O];
    for (int o = 0; o < O; ++o) sv[o] = L::load(s + i * st.si + o * st.so);
    for (int r = 0; r < R; ++r) {
      const typename L::V xv = L::load(x + i * xi + r * C);
      for (int o = 0; o < O; ++o) acc[r][o] = L::fma(xv, sv[o], acc[r][o]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int o = 0; o < O; ++o) L::store(y + o * yo + r * C, acc[r][o]);
}

/// The rows [r0, r1) of one `outer` slice: register blocks, then the leftover rows, outputs and
/// channels (channels beyond a whole vector are mixed one by one).
template <class T>
void mix_rows(const T* in, const T* S, MixStrides st, T* out, index_t m, index_t block, index_t C, index_t r0,
              index_t r1) {
  const index_t V = Lanes<T>::size, cv = C - C % V;
  // One (output block, channel vector) of S stays in L1 while it sweeps the tile's rows.
  auto sweep = [&](auto cols, index_t o, index_t c) {
    constexpr int O = decltype(cols)::value;
    const T* s = S + o * st.so + c;
    index_t r = r0;
    for (; r + kRows <= r1; r += kRows)
      mix_block<T, kRows, O>(in + r * C + c, block, C, s, st, out + o * block + r * C + c, block, m);
    for (; r < r1; ++r) mix_block<T, 1, O>(in + r * C + c, block, C, s, st, out + o * block + r * C + c, block, m);
  };
  for (index_t c = 0; c < cv; c += V) {
    index_t o = 0;
    for (; o + kCols <= m; o += kCols) sweep(std::integral_constant<int, kCols>{}, o, c);
    for (; o < m; ++o) sweep(std::integral_constant<int, 1>{}, o, c);
  }
  for (index_t c = cv; c < C; ++c)
    for (index_t rr = r0; rr < r1; ++rr)
      for (index_t o = 0; o < m; ++o) {
        T sum = 0;
        for (index_t i = 0; i < m; ++i) sum = std::fma(in[i * block + rr * C + c], S[i * st.si + o * st.so + c], sum);
        out[o * block + rr * C + c] = sum;
      }
}

/// Frequency mixing along one axis of a mode-major tensor viewed as (outer, m, inner, C):
///   out[p, o, r, c] = sum_i in[p, i, r, c] S[i, o, c]      (transpose: S[o, i, c] instead).
/// One parallel region over all (outer, row tile) work items.
template <class T>
void axis_mix(const T* in, const T* S, T* out, index_t outer, index_t m, index_t inner, index_t C, bool transpose) {
  const index_t block = inner * C, tiles = (inner + kTileRows - 1) / kTileRows;
  const MixStrides st = transpose ? MixStrides{C, m * C} : MixStrides{m * C, C};
#pragma omp parallel for collapse(2) schedule(static) if (outer * m * m * block > kParallelWork)
  for (index_t p = 0; p < outer; ++p)
    for (index_t t = 0; t < tiles; ++t)
      mix_rows(in + p * m * block, S, st, out + p * m * block, m, block, C, t * kTileRows,
               std::min(inner, (t + 1) * kTileRows));
}

/// g[i, o, lanes] += sum_r x[i, r, lanes] d[o, r, lanes] over `rows` rows, for I inputs and O outputs
/// (x and d: stride `block` between frequencies, C between rows; g: stride m C between inputs).
template <class T, int I, int O>
void grad_block(const T* x, const T* d, index_t block, index_t C, index_t rows, T* g, index_t m) {
  using L = Lanes<T>;
  typename L::V acc[I][O];
  for (auto& row : acc)
    for (auto& v : row) v = L::zero();
  for (index_t r = 0; r < rows; ++r) {
    typename L::V dv[O];
    for (int o = 0; o < O; ++o) dv[o] = L::load(d + o * block + r * C);
    for (int i = 0; i < I; ++i) {
      const typename L::V xv = L::load(x + i * block + r * C);
      for (int o = 0; o < O; ++o) acc[i][o] = L::fma(xv, dv[o], acc[i][o]);
    }
  }
  for (int i = 0; i < I; ++i)
    for (int o = 0; o < O; ++o) L::store(g + i * m * C + o * C, L::add(L::load(g + i * m * C + o * C), acc[i][o]));
}

/// The weight gradient of the rows [r0, r1) of one `outer` slice into g (m, m, C).
template <class T>
void grad_rows(const T* in, const T* dout, T* g, index_t m, index_t block, index_t C, index_t r0, index_t r1) {
  const index_t V = Lanes<T>::size, cv = C - C % V, rows = r1 - r0;
  const T* x = in + r0 * C;
  const T* d = dout + r0 * C;
  auto run = [&](auto inputs, index_t i) {
    constexpr int I = decltype(inputs)::value;
    for (index_t c = 0; c < cv; c += V) {
      index_t o = 0;
      for (; o + kCols <= m; o += kCols)
        grad_block<T, I, kCols>(x + i * block + c, d + o * block + c, block, C, rows, g + (i * m + o) * C + c, m);
      for (; o < m; ++o)
        grad_block<T, I, 1>(x + i * block + c, d + o * block + c, block, C, rows, g + (i * m + o) * C + c, m);
    }
  };
  index_t i = 0;
  for (; i + kRows <= m; i += kRows) run(std::integral_constant<int, kRows>{}, i);
  for (; i < m; ++i) run(std::integral_constant<int, 1>{}, i);
  for (index_t c = cv; c < C; ++c)
    for (index_t ii = 0; ii < m; ++ii)
      for (index_t o = 0; o < m; ++o) {
        T sum = 0;
        for (index_t r = 0; r < rows; ++r) sum = std::fma(x[ii * block + r * C + c], d[o * block + r * C + c], sum);
        g[(ii * m + o) * C + c] += sum;
      }
}

/// dS[i, o, c] += sum_{p, r} in[p, i, r, c] dout[p, o, r, c], tile by tile into per-thread sums,
/// in one parallel region. The partial sums are added in thread order (not as threads finish), so
/// the same thread count gives the same bits run to run.
template <class T>
void axis_mix_weight_grad(const T* in, const T* dout, T* dS, index_t outer, index_t m, index_t inner, index_t C) {
  const index_t block = inner * C, tiles = (inner + kTileRows - 1) / kTileRows;
  const std::size_t size = static_cast<std::size_t>(m * m * C);
  std::vector<std::vector<T>> partial(static_cast<std::size_t>(omp_get_max_threads()));
#pragma omp parallel if (outer * m * m * block > kParallelWork)
  {
    const int team = omp_get_num_threads();
    std::vector<T>& acc = partial[static_cast<std::size_t>(omp_get_thread_num())];
    acc.assign(size, T(0));
#pragma omp for collapse(2) schedule(static)
    for (index_t p = 0; p < outer; ++p)
      for (index_t t = 0; t < tiles; ++t)
        grad_rows(in + p * m * block, dout + p * m * block, acc.data(), m, block, C, t * kTileRows,
                  std::min(inner, (t + 1) * kTileRows));
#pragma omp for schedule(static)
    for (std::size_t j = 0; j < size; ++j) {
      T sum = 0;
      for (int k = 0; k < team; ++k) sum += partial[static_cast<std::size_t>(k)][j];
      dS[j] += sum;
    }
  }
}

}  // namespace

template <class T>
T1Block<T>::T1Block(index_t m1, index_t m2, index_t width, nn::ActivationKind activation, bool residual,
                    double channel_sigma, Rng& rng)
    : m1_(m1), m2_(m2), width_(width), activation_(activation), residual_(residual) {
  NEUROPS_CHECK(m1 >= 1 && m2 >= 1 && width >= 1,
                "T1Block: modes " << m1 << " x " << m2 << " and width " << width << " must be >= 1");
  channel_ = nn::Parameter<T>(Tensor<T>(Shape{m1, m2, width, width}));
  freq1_ = nn::Parameter<T>(Tensor<T>(Shape{m1, m1, width}));
  freq2_ = nn::Parameter<T>(Tensor<T>(Shape{m2, m2, width}));
  // kairos fdm2d.py: channel mixing by the chosen scale, frequency mixing by weight_init 4 (sqrt(1/m)).
  nn::init_normal(channel_, channel_sigma, rng);
  nn::init_normal(freq1_, std::sqrt(1.0 / double(m1)), rng);
  nn::init_normal(freq2_, std::sqrt(1.0 / double(m2)), rng);
}

template <class T>
void T1Block<T>::for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) {
  fn("channel_mixing", channel_);
  fn("frequency_mixing_1", freq1_);
  fn("frequency_mixing_2", freq2_);
}

template <class T>
Tensor<T> T1Block<T>::forward(const Tensor<T>& x) {
  Tensor<T> y = run(x);
  if (this->training()) input_ = x;
  return y;
}

template <class T>
Tensor<T> T1Block<T>::forward_owned(Tensor<T> x) {
  Tensor<T> y = run(x);
  if (this->training()) input_ = std::move(x);
  return y;
}

template <class T>
Tensor<T> T1Block<T>::run(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == 4 && x.size(0) == m1_ && x.size(1) == m2_ && x.size(3) == width_,
                "T1Block: expected a mode-major spectrum (" << m1_ << ", " << m2_ << ", N, " << width_ << "), found "
                                                            << x.shape());
  const index_t n = x.size(2), C = width_, K = m1_ * m2_;
  Tensor<T> z = Tensor<T>::uninitialized(x.shape());
#pragma omp parallel for schedule(static) if (K * n * C * C > kParallelWork)
  for (index_t k = 0; k < K; ++k) {
    Eigen::Map<RowMat<T>> Z(z.data() + k * n * C, n, C);
    Z.noalias() = Eigen::Map<const RowMat<T>>(x.data() + k * n * C, n, C) *
                  Eigen::Map<const RowMat<T>>(channel_.value.data() + k * C * C, C, C);
  }
  Tensor<T> a = Tensor<T>::uninitialized(x.shape());
  nn::activation_forward(activation_, z.data(), a.data(), a.numel());
  Tensor<T> u = Tensor<T>::uninitialized(x.shape());
  axis_mix(a.data(), freq1_.value.data(), u.data(), 1, m1_, m2_ * n, C, false);
  Tensor<T> y;
  if (this->training()) {  // the caches take over z and a; otherwise z's storage is free once a exists
    pre_activation_ = std::move(z);
    activated_ = std::move(a);
    y = Tensor<T>::uninitialized(x.shape());
  } else {
    y = std::move(z);
  }
  axis_mix(u.data(), freq2_.value.data(), y.data(), m1_, m2_, n, C, false);
  if (residual_) y.vec() += x.vec();
  if (this->training()) mixed_ = std::move(u);
  return y;
}

template <class T>
Tensor<T> T1Block<T>::backward(const Tensor<T>& dy) {
  return backward_owned(dy);
}

template <class T>
Tensor<T> T1Block<T>::backward_owned(Tensor<T> dy) {
  this->require_cache(!input_.empty());
  NEUROPS_CHECK(dy.shape() == input_.shape(),
                "T1Block: output gradient has shape " << dy.shape() << ", expected " << input_.shape());
  const index_t n = input_.size(2), C = width_, K = m1_ * m2_;
  axis_mix_weight_grad(mixed_.data(), dy.data(), freq2_.grad.data(), m1_, m2_, n, C);
  Tensor<T> du = Tensor<T>::uninitialized(dy.shape());
  axis_mix(dy.data(), freq2_.value.data(), du.data(), m1_, m2_, n, C, true);
  axis_mix_weight_grad(activated_.data(), du.data(), freq1_.grad.data(), 1, m1_, m2_ * n, C);
  Tensor<T> dz = std::move(mixed_);  // the cache is spent: reuse its storage
  axis_mix(du.data(), freq1_.value.data(), dz.data(), 1, m1_, m2_ * n, C, true);
  nn::activation_backward(activation_, pre_activation_.data(), dz.data(), dz.data(), dz.numel());
  Tensor<T> dx = std::move(dy);  // the residual's gradient, or storage for dx
  if (!residual_) dx.zero();
#pragma omp parallel for schedule(static) if (K * n * C * C > kParallelWork)
  for (index_t k = 0; k < K; ++k) {
    Eigen::Map<const RowMat<T>> DZ(dz.data() + k * n * C, n, C);
    Eigen::Map<const RowMat<T>> W(channel_.value.data() + k * C * C, C, C);
    Eigen::Map<RowMat<T>> DX(dx.data() + k * n * C, n, C);
    DX.noalias() += DZ * W.transpose();
    Eigen::Map<RowMat<T>>(channel_.grad.data() + k * C * C, C, C).noalias() +=
        Eigen::Map<const RowMat<T>>(input_.data() + k * n * C, n, C).transpose() * DZ;
  }
  input_ = pre_activation_ = activated_ = mixed_ = Tensor<T>();
  return dx;
}

// ---- T1 model -----------------------------------------------------------------------------------

namespace {

T1Config checked(T1Config c) {
  c.validate();
  return c;
}

}  // namespace

double t1_channel_sigma(const T1Config& c, index_t layer) {
  const auto m = c.modes_per_axis();
  switch (c.init) {
    case T1Init::vp:
      return nn::vp_sigma_t1(c.grid[0] * c.grid[1], c.width, m[0] * m[1], nn::SpectralTransform::dct);
    case T1Init::vp_first:
      return layer == 0 ? nn::vp_sigma_t1(c.grid[0] * c.grid[1], c.width, m[0] * m[1], nn::SpectralTransform::dct)
                        : std::sqrt(1.0 / double(c.width));
    case T1Init::naive:
      return 1.0 / double(c.width * c.width);
  }
  return 0;
}

namespace {

template <class T>
nn::Linear<T> make_linear(index_t in, index_t out, std::uint64_t seed, std::uint64_t stream, double head_sigma) {
  Rng rng = Rng::stream(seed, stream);
  nn::Linear<T> l(in, out, rng, false);
  // The reference initialises its head weights as 1e-8 * randn (config.head_init).
  if (head_sigma > 0) nn::init_normal(l.weight(), head_sigma, rng);
  return l;
}

}  // namespace

template <class T>
T1<T>::T1(T1Config config)
    : config_(checked(std::move(config))),
      lifting_(make_linear<T>(config_.in_channels + config_.dims, config_.width, config_.seed, 0, 0)),
      head1_(make_linear<T>(config_.width, config_.head_channels, config_.seed, 1000, config_.head_init)),
      head2_(make_linear<T>(config_.head_channels, config_.out_channels, config_.seed, 1001, config_.head_init)) {
  // The reference's fc0 is an nn.Linear with bias, initialised as PyTorch does; its bias moves out of
  // the Linear because in the frequency domain it only reaches the constant mode.
  Rng rng(config_.seed);
  nn::Linear<T> fc0(config_.in_channels + config_.dims, config_.width, rng, true);
  lifting_.weight().value = fc0.weight().value;
  lifting_bias_ = nn::Parameter<T>(fc0.bias().value);
  const auto m = config_.modes_per_axis();
  for (index_t l = 0; l < config_.layers; ++l) {
    Rng block_rng = Rng::stream(config_.seed, static_cast<std::uint64_t>(l + 1));
    blocks_.emplace_back(m[0], m[1], config_.width, config_.activation, config_.residual, t1_channel_sigma(config_, l),
                         block_rng);
  }
}

template <class T>
void T1<T>::for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) {
  fn("lifting.bias", lifting_bias_);
}

template <class T>
void T1<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("lifting", lifting_);
  for (std::size_t l = 0; l < blocks_.size(); ++l) fn("blocks." + std::to_string(l), blocks_[l]);
  fn("head.0", head1_);
  fn("head.2", head2_);
}

template <class T>
Tensor<T> T1<T>::forward_field(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == 4 && x.size(1) == config_.in_channels,
                type_name() << ": expected input (N, " << config_.in_channels << ", H, W), found " << x.shape());
  const index_t h = x.size(2), w = x.size(3), n = x.size(0);
  const auto kept = config_.kept_indices();
  NEUROPS_CHECK(kept[0].back() < h && kept[1].back() < w,
                type_name() << ": the kept modes reach index (" << kept[0].back() << ", " << kept[1].back()
                            << "), more modes than the input grid " << h << " x " << w << " holds");
  input_shape_ = x.shape();
  modes_.clear();
  for (index_t i : kept[0])
    for (index_t j : kept[1]) modes_.push_back(i * w + j);
  if (config_.keep_high) {
    std::vector<char> is_kept(static_cast<std::size_t>(h * w), 0);
    for (index_t p : modes_) is_kept[static_cast<std::size_t>(p)] = 1;
    for (index_t p = 0; p < h * w; ++p)
      if (!is_kept[static_cast<std::size_t>(p)]) modes_.push_back(p);
  }
  const auto dc = std::find(modes_.begin(), modes_.end(), index_t(0));
  dc_row_ = dc == modes_.end() ? -1 : static_cast<index_t>(dc - modes_.begin());

  // Transform once: the DCT of the input and grid channels, at the modes we keep.
  const Tensor<T> spectra = gather_modes(nn::dct_ortho(append_grid_coordinates(x, 2), 2, false), modes_);
  Tensor<T> v = nn::with_module_path("lifting", "Linear", [&] { return lifting_.forward(spectra); });
  if (dc_row_ >= 0) {
    const T scale = static_cast<T>(std::sqrt(double(h * w)));  // DCT of a constant field
    for (index_t s = 0; s < n; ++s)
      for (index_t c = 0; c < config_.width; ++c)
        v[(dc_row_ * n + s) * config_.width + c] += scale * lifting_bias_.value[c];
  }
  // Blocks on the kept modes (the first K rows); the others pass straight to the head.
  const auto m = config_.modes_per_axis();
  const Shape kept_shape{m[0], m[1], n, config_.width};
  Tensor<T> z = config_.keep_high ? Tensor<T>(v.slice(0, m[0] * m[1])) : std::move(v.reshape(kept_shape));
  z.reshape(kept_shape);
  for (std::size_t l = 0; l < blocks_.size(); ++l)
    z = nn::with_module_path("blocks." + std::to_string(l), "T1Block",
                             [&] { return blocks_[l].forward_owned(std::move(z)); });
  if (config_.keep_high)
    std::copy(z.data(), z.data() + z.numel(), v.data());
  else
    v = std::move(z.reshape(Shape{m[0] * m[1], n, config_.width}));

  Tensor<T> y = head_forward(std::move(v));
  Tensor<T> out(Shape{n, config_.out_channels, h, w});
  scatter_modes(y, modes_, out);
  return config_.perform_inverse ? nn::dct_ortho(out, 2, true) : out;
}

template <class T>
Tensor<T> T1<T>::head_forward(Tensor<T> v) {
  // The reference's head, per mode: einsum with fc1 (width x 128), sin, einsum with fc2. Written
  // out (not through Linear/Activation) so the training caches are moved in, never copied.
  const index_t rows = v.numel() / config_.width, hidden = config_.head_channels, out = config_.out_channels;
  Tensor<T> h = Tensor<T>::uninitialized(Shape{v.size(0), v.size(1), hidden});
  h.matrix(rows, hidden).noalias() = v.matrix(rows, config_.width) * head1_.weight().value.matrix().transpose();
  Tensor<T> a = Tensor<T>::uninitialized(h.shape());
  nn::activation_forward(nn::ActivationKind::Sin, h.data(), a.data(), a.numel());
  Tensor<T> y = Tensor<T>::uninitialized(Shape{v.size(0), v.size(1), out});
  y.matrix(rows, out).noalias() = a.matrix(rows, hidden) * head2_.weight().value.matrix().transpose();
  if (this->training()) {
    head_input_ = std::move(v);
    head_pre_ = std::move(h);
    head_act_ = std::move(a);
  }
  return y;
}

template <class T>
Tensor<T> T1<T>::head_backward(const Tensor<T>& dy) {
  this->require_cache(!head_pre_.empty());
  const index_t rows = head_pre_.numel() / config_.head_channels, hidden = config_.head_channels;
  const auto DY = dy.matrix(rows, config_.out_channels);
  head2_.weight().grad.matrix().noalias() += DY.transpose() * head_act_.matrix(rows, hidden);
  Tensor<T> da = std::move(head_act_);
  da.matrix(rows, hidden).noalias() = DY * head2_.weight().value.matrix();
  nn::activation_backward(nn::ActivationKind::Sin, head_pre_.data(), da.data(), da.data(), da.numel());
  head1_.weight().grad.matrix().noalias() +=
      da.matrix(rows, hidden).transpose() * head_input_.matrix(rows, config_.width);
  Tensor<T> dv = std::move(head_input_);
  dv.matrix(rows, config_.width).noalias() = da.matrix(rows, hidden) * head1_.weight().value.matrix();
  head_pre_ = head_act_ = head_input_ = Tensor<T>();
  return dv;
}

template <class T>
Tensor<T> T1<T>::backward_field(const Tensor<T>& dy) {
  NEUROPS_CHECK(dy.shape() == input_shape_.with(1, config_.out_channels),
                type_name() << ": output gradient has shape " << dy.shape() << ", expected "
                            << input_shape_.with(1, config_.out_channels));
  const index_t n = input_shape_[0], h = input_shape_[2], w = input_shape_[3];
  // The adjoint of the orthonormal DCT-III is the orthonormal DCT-II.
  const Tensor<T> g_spec = config_.perform_inverse ? nn::dct_ortho(dy, 2, false) : dy;
  Tensor<T> dv = head_backward(gather_modes(g_spec, modes_));
  const auto m = config_.modes_per_axis();
  const Shape kept_shape{m[0], m[1], n, config_.width};
  Tensor<T> dz = config_.keep_high ? Tensor<T>(dv.slice(0, m[0] * m[1])) : std::move(dv.reshape(kept_shape));
  dz.reshape(kept_shape);
  for (std::size_t l = blocks_.size(); l-- > 0;) dz = blocks_[l].backward_owned(std::move(dz));
  if (config_.keep_high)
    std::copy(dz.data(), dz.data() + dz.numel(), dv.data());
  else
    dv = std::move(dz.reshape(Shape{m[0] * m[1], n, config_.width}));
  if (dc_row_ >= 0) {
    const T scale = static_cast<T>(std::sqrt(double(h * w)));
    for (index_t s = 0; s < n; ++s)
      for (index_t c = 0; c < config_.width; ++c)
        lifting_bias_.grad[c] += scale * dv[(dc_row_ * n + s) * config_.width + c];
  }
  const Tensor<T> ds = lifting_.backward(dv);
  Tensor<T> dspec(Shape{n, config_.in_channels + 2, h, w});
  scatter_modes(ds, modes_, dspec);
  const Tensor<T> dxg = nn::dct_ortho(dspec, 2, true);
  // The coordinate channels are constants: drop their gradient.
  Tensor<T> dx = Tensor<T>::uninitialized(input_shape_);
  const index_t c = config_.in_channels, pts = h * w;
  for (index_t s = 0; s < n; ++s)
    std::copy(dxg.data() + s * (c + 2) * pts, dxg.data() + s * (c + 2) * pts + c * pts, dx.data() + s * c * pts);
  return dx;
}

template std::vector<std::vector<index_t>> select_modes_by_energy<float>(const Tensor<float>&,
                                                                         const std::vector<index_t>&);
template std::vector<std::vector<index_t>> select_modes_by_energy<double>(const Tensor<double>&,
                                                                          const std::vector<index_t>&);
template Tensor<float> gather_modes<float>(const Tensor<float>&, const std::vector<index_t>&);
template Tensor<double> gather_modes<double>(const Tensor<double>&, const std::vector<index_t>&);
template void scatter_modes<float>(const Tensor<float>&, const std::vector<index_t>&, Tensor<float>&);
template void scatter_modes<double>(const Tensor<double>&, const std::vector<index_t>&, Tensor<double>&);
template class T1Block<float>;
template class T1Block<double>;
template class T1<float>;
template class T1<double>;

}  // namespace neurops::operators
