#include "neurops/operators/fno.hpp"
#include "neurops/core/options.hpp"

#include <algorithm>
#include <cstring>

#include "config_group.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/spectral_init.hpp"

namespace neurops::operators {

namespace {
std::vector<index_t> per_axis(const std::vector<index_t>& v, int dims, const char* what) {
  NEUROPS_CHECK(v.size() == 1 || static_cast<int>(v.size()) == dims,
                "FNO: " << what << " needs 1 or " << dims << " values, found " << v.size());
  return v.size() == 1 ? std::vector<index_t>(static_cast<std::size_t>(dims), v[0]) : v;
}
nn::ConvOptions pointwise(bool bias = true) {
  nn::ConvOptions o;
  o.bias = bias;
  return o;
}
}  // namespace

// ---- configuration ------------------------------------------------------------------------------

std::string to_string(FnoInit init) { return init == FnoInit::vp ? "vp" : "naive"; }

FnoInit fno_init_from_string(const std::string& name) {
  if (name == "naive") return FnoInit::naive;
  if (name == "vp") return FnoInit::vp;
  NEUROPS_THROW("FNO: unknown initialisation '" << name << "', expected naive or vp");
}

void FnoConfig::validate() const {
  NEUROPS_CHECK(dims == 2 || dims == 3, "FNO: dims must be 2 or 3, found " << dims);
  NEUROPS_CHECK(in_channels >= 1 && out_channels >= 1,
                "FNO: in_channels and out_channels must be >= 1, found " << in_channels << " and " << out_channels);
  NEUROPS_CHECK(width >= 1 && layers >= 1 && projection_channels >= 1,
                "FNO: width, layers and projection_channels must be >= 1, found " << width << ", " << layers << ", "
                                                                                  << projection_channels);
  for (index_t m : per_axis(modes, dims, "modes")) NEUROPS_CHECK(m >= 1, "FNO: modes must be >= 1, found " << m);
  NEUROPS_CHECK(domain_padding >= 0, "FNO: domain_padding must be >= 0, found " << domain_padding);
  for (index_t g : per_axis(init_grid, dims, "init_grid"))
    NEUROPS_CHECK(g >= 1, "FNO: init_grid must be >= 1 point per axis, found " << g);
}

void FnoConfig::save(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "model", std::string("FNO"));
  file.set_attr(group, "dims", std::int64_t(dims));
  file.set_attr(group, "in_channels", in_channels);
  file.set_attr(group, "out_channels", out_channels);
  file.set_attr(group, "width", width);
  file.set_attr(group, "modes", std::vector<std::int64_t>(modes.begin(), modes.end()));
  file.set_attr(group, "layers", layers);
  file.set_attr(group, "projection_channels", projection_channels);
  file.set_attr(group, "append_grid", std::int64_t(append_grid));
  file.set_attr(group, "domain_padding", domain_padding);
  file.set_attr(group, "activation", nn::to_string(activation));
  file.set_attr(group, "seed", std::int64_t(seed));
  file.set_attr(group, "init", to_string(init));
  file.set_attr(group, "init_grid", std::vector<std::int64_t>(init_grid.begin(), init_grid.end()));
}

FnoConfig FnoConfig::load(const io::H5File& file, const std::string& group) {
  check_config_group(file, group, "FNO");
  FnoConfig c;
  c.dims = static_cast<int>(file.attr_int(group, "dims"));
  c.in_channels = file.attr_int(group, "in_channels");
  c.out_channels = file.attr_int(group, "out_channels");
  c.width = file.attr_int(group, "width");
  const auto m = file.attr_ints(group, "modes");
  c.modes.assign(m.begin(), m.end());
  c.layers = file.attr_int(group, "layers");
  c.projection_channels = file.attr_int(group, "projection_channels");
  c.append_grid = file.attr_int(group, "append_grid") != 0;
  c.domain_padding = file.attr_int(group, "domain_padding");
  c.activation = nn::activation_from_string(file.attr_string(group, "activation"));
  c.seed = static_cast<std::uint64_t>(file.attr_int(group, "seed"));
  // Checkpoints written before the initialisation was configurable used FNO's: keep the defaults.
  if (file.has_attr(group, "init")) c.init = fno_init_from_string(file.attr_string(group, "init"));
  if (file.has_attr(group, "init_grid")) {
    const auto g = file.attr_ints(group, "init_grid");
    c.init_grid.assign(g.begin(), g.end());
  }
  c.validate();
  return c;
}

void FnoConfig::set_from_options(const std::string& prefix) {
  Options opt("FNO model", prefix);
  dims = static_cast<int>(opt.integer("dims", dims, "spatial dimensions (2 or 3)"));
  in_channels = opt.integer("in_channels", in_channels, "channels of the input field");
  out_channels = opt.integer("out_channels", out_channels, "channels of the output field");
  width = opt.integer("width", width, "channels inside the Fourier blocks");
  const auto m =
      opt.integers("modes", {modes.begin(), modes.end()}, "Fourier modes kept per axis (one or one per axis)");
  modes.assign(m.begin(), m.end());
  layers = opt.integer("layers", layers, "Fourier blocks");
  projection_channels = opt.integer("projection", projection_channels, "hidden channels of the projection");
  append_grid = opt.flag("append_grid", append_grid, "append the grid coordinates as input channels");
  domain_padding = opt.integer("padding", domain_padding, "zero padding per axis for non-periodic problems");
  activation = nn::activation_from_string(
      opt.choice("activation", nn::to_string(activation), {"gelu", "relu", "tanh", "identity"}, "activation"));
  seed = static_cast<std::uint64_t>(opt.integer("seed", static_cast<std::int64_t>(seed), "seed of the weights"));
  init = fno_init_from_string(
      opt.choice("init", to_string(init), {"naive", "vp"}, "spectral weights: FNO's U[0,1)/(in*out) or VP"));
  const auto g = opt.integers("init_grid", {init_grid.begin(), init_grid.end()},
                              "training grid points per axis that the VP initialisation compensates for");
  init_grid.assign(g.begin(), g.end());
  validate();
}

bool FnoConfig::operator==(const FnoConfig& o) const {
  return dims == o.dims && in_channels == o.in_channels && out_channels == o.out_channels && width == o.width &&
         per_axis(modes, dims, "modes") == per_axis(o.modes, o.dims, "modes") && layers == o.layers &&
         projection_channels == o.projection_channels && append_grid == o.append_grid &&
         domain_padding == o.domain_padding && activation == o.activation && seed == o.seed && init == o.init &&
         per_axis(init_grid, dims, "init_grid") == per_axis(o.init_grid, o.dims, "init_grid");
}

// ---- grid helpers -------------------------------------------------------------------------------

template <class T>
Tensor<T> append_grid_coordinates(const Tensor<T>& x, int dims) {
  NEUROPS_CHECK(x.rank() == dims + 2,
                "append_grid_coordinates: expected (N, C, " << dims << " spatial axes), found " << x.shape());
  const index_t n = x.size(0), c = x.size(1), pts = x.shape().tail_numel(2);
  Tensor<T> out = Tensor<T>::uninitialized(x.shape().with(1, c + dims));
  const auto strides = x.shape().strides();
  for (index_t s = 0; s < n; ++s) {
    std::memcpy(out.data() + s * (c + dims) * pts, x.data() + s * c * pts,
                sizeof(T) * static_cast<std::size_t>(c * pts));
    for (int a = 0; a < dims; ++a) {
      T* dst = out.data() + (s * (c + dims) + c + a) * pts;
      const index_t ext = x.size(2 + a), stride = strides[static_cast<std::size_t>(2 + a)];
      const T h = ext > 1 ? T(1) / T(ext - 1) : T(0);
      for (index_t p = 0; p < pts; ++p) dst[p] = T((p / stride) % ext) * h;
    }
  }
  return out;
}

template <class T>
Tensor<T> pad_or_crop_end(const Tensor<T>& x, int dims, index_t pad) {
  if (pad == 0) return x;
  Shape out_shape = x.shape();
  for (int a = 0; a < dims; ++a) out_shape[x.rank() - dims + a] += pad;
  for (int a = 0; a < out_shape.rank(); ++a)
    NEUROPS_CHECK(out_shape[a] >= 1, "domain padding " << pad << " does not fit the grid " << x.shape());
  Tensor<T> out(out_shape);
  const int lead = x.rank() - dims;
  const index_t outer = x.shape().numel() / x.shape().tail_numel(lead);
  // Copy the common box row by row along the last axis.
  Shape common = out_shape;
  for (int a = lead; a < x.rank(); ++a) common[a] = std::min(x.shape()[a], out_shape[a]);
  const index_t row = common[x.rank() - 1];
  const index_t rows = common.tail_numel(lead) / row;
  const auto si = x.shape().strides(), so = out_shape.strides();
  for (index_t o = 0; o < outer; ++o)
    for (index_t r = 0; r < rows; ++r) {
      index_t rem = r, off_in = o * x.shape().tail_numel(lead), off_out = o * out_shape.tail_numel(lead);
      for (int a = x.rank() - 2; a >= lead; --a) {
        const index_t i = rem % common[a];
        rem /= common[a];
        off_in += i * si[static_cast<std::size_t>(a)];
        off_out += i * so[static_cast<std::size_t>(a)];
      }
      std::memcpy(out.data() + off_out, x.data() + off_in, sizeof(T) * static_cast<std::size_t>(row));
    }
  return out;
}

// ---- Fourier block ------------------------------------------------------------------------------

template <class T>
FourierBlock<T>::FourierBlock(int dims, index_t width, const std::vector<index_t>& modes, nn::ActivationKind activation,
                              bool activate, Rng& rng)
    : spectral_(width, width, modes, false, rng.next_u64()),
      skip_(dims, width, width, {1}, rng, pointwise()),
      activation_(activation),
      activate_(activate) {}

template <class T>
Tensor<T> FourierBlock<T>::forward(const Tensor<T>& x) {
  Tensor<T> y = nn::with_module_path("spectral", spectral_.type_name(), [&] { return spectral_.forward(x); });
  y.vec() += nn::with_module_path("skip", skip_.type_name(), [&] { return skip_.forward(x); }).vec();
  if (!activate_) return y;
  if (this->training()) pre_activation_ = y;
  nn::activation_forward(activation_, y.data(), y.data(), y.numel());
  return y;
}

template <class T>
Tensor<T> FourierBlock<T>::backward(const Tensor<T>& dy) {
  if (!activate_) {
    Tensor<T> dx = spectral_.backward(dy);
    dx.vec() += skip_.backward(dy).vec();
    return dx;
  }
  this->require_cache(!pre_activation_.empty());
  Tensor<T> g = Tensor<T>::uninitialized(dy.shape());
  nn::activation_backward(activation_, pre_activation_.data(), dy.data(), g.data(), g.numel());
  Tensor<T> dx = spectral_.backward(g);
  dx.vec() += skip_.backward(g).vec();
  return dx;
}

template <class T>
void FourierBlock<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("spectral", spectral_);
  fn("skip", skip_);
}

// ---- FNO ----------------------------------------------------------------------------------------

namespace {
FnoConfig checked(FnoConfig c) {
  c.validate();
  c.modes = per_axis(c.modes, c.dims, "modes");
  c.init_grid = per_axis(c.init_grid, c.dims, "init_grid");
  return c;
}
}  // namespace

template <class T>
Fno<T>::Fno(FnoConfig config)
    : config_(checked(std::move(config))),
      lifting_([this] {
        Rng rng(config_.seed);
        return nn::Conv<T>(config_.dims, config_.in_channels + (config_.append_grid ? config_.dims : 0), config_.width,
                           {1}, rng, pointwise());
      }()),
      projection1_([this] {
        Rng rng = Rng::stream(config_.seed, 1000);
        return nn::Conv<T>(config_.dims, config_.width, config_.projection_channels, {1}, rng, pointwise());
      }()),
      projection_activation_(nn::ActivationKind::GELU),
      projection2_([this] {
        Rng rng = Rng::stream(config_.seed, 1001);
        return nn::Conv<T>(config_.dims, config_.projection_channels, config_.out_channels, {1}, rng, pointwise());
      }()) {
  for (index_t l = 0; l < config_.layers; ++l) {
    Rng rng = Rng::stream(config_.seed, static_cast<std::uint64_t>(l + 1));
    blocks_.emplace_back(config_.dims, config_.width, config_.modes, config_.activation, l + 1 < config_.layers, rng);
  }
  if (config_.init == FnoInit::vp) {
    // The spectral layers see the grid with its domain padding. A separate stream leaves every
    // other weight as with the naive initialisation.
    index_t points = 1;
    for (index_t g : config_.init_grid) points *= g + config_.domain_padding;
    for (std::size_t l = 0; l < blocks_.size(); ++l) {
      Rng rng = Rng::stream(config_.seed, 2000 + l);
      nn::vp_spectral_init(blocks_[l].spectral(), points, nn::SpectralTransform::dft, rng);
    }
  }
}

template <class T>
Tensor<T> Fno<T>::forward_field(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == config_.dims + 2 && x.size(1) == config_.in_channels,
                type_name() << ": expected input (N, " << config_.in_channels << ", " << config_.dims
                            << " spatial axes), found " << x.shape());
  input_shape_ = x.shape();
  Tensor<T> v = nn::with_module_path("lifting", lifting_.type_name(), [&] {
    return lifting_.forward(config_.append_grid ? append_grid_coordinates(x, config_.dims) : x);
  });
  if (config_.domain_padding) v = pad_or_crop_end(v, config_.dims, config_.domain_padding);
  for (std::size_t l = 0; l < blocks_.size(); ++l)
    v = nn::with_module_path("blocks." + std::to_string(l), "FourierBlock", [&] { return blocks_[l].forward(v); });
  if (config_.domain_padding) v = pad_or_crop_end(v, config_.dims, -config_.domain_padding);
  v = projection1_.forward(v);
  v = projection_activation_.forward(v);
  return projection2_.forward(v);
}

template <class T>
Tensor<T> Fno<T>::backward_field(const Tensor<T>& dy) {
  Tensor<T> g = projection2_.backward(dy);
  g = projection_activation_.backward(g);
  g = projection1_.backward(g);
  if (config_.domain_padding) g = pad_or_crop_end(g, config_.dims, config_.domain_padding);  // adjoint of the crop
  for (std::size_t l = blocks_.size(); l-- > 0;) g = blocks_[l].backward(g);
  if (config_.domain_padding) g = pad_or_crop_end(g, config_.dims, -config_.domain_padding);  // adjoint of the padding
  g = lifting_.backward(g);
  if (!config_.append_grid) return g;
  // The coordinate channels are constants: drop their gradient.
  Tensor<T> dx = Tensor<T>::uninitialized(input_shape_);
  const index_t n = input_shape_[0], c = config_.in_channels, pts = input_shape_.tail_numel(2);
  for (index_t s = 0; s < n; ++s)
    std::memcpy(dx.data() + s * c * pts, g.data() + s * (c + config_.dims) * pts,
                sizeof(T) * static_cast<std::size_t>(c * pts));
  return dx;
}

template <class T>
void Fno<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("lifting", lifting_);
  for (std::size_t l = 0; l < blocks_.size(); ++l) fn("blocks." + std::to_string(l), blocks_[l]);
  fn("projection.0", projection1_);
  fn("projection.2", projection2_);
}

template Tensor<float> append_grid_coordinates<float>(const Tensor<float>&, int);
template Tensor<double> append_grid_coordinates<double>(const Tensor<double>&, int);
template Tensor<float> pad_or_crop_end<float>(const Tensor<float>&, int, index_t);
template Tensor<double> pad_or_crop_end<double>(const Tensor<double>&, int, index_t);
template class FourierBlock<float>;
template class FourierBlock<double>;
template class Fno<float>;
template class Fno<double>;

}  // namespace neurops::operators
