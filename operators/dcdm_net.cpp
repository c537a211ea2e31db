#include "neurops/operators/dcdm_net.hpp"

#include <filesystem>
#include <memory>

#include "config_group.hpp"
#include "neurops/core/options.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/init.hpp"

namespace neurops::operators {

// ---- configuration ------------------------------------------------------------------------------

DcdmNetConfig DcdmNetConfig::variant(int n) {
  NEUROPS_CHECK(n == 64 || n == 128, "DCDM network: the reference has variants for n = 64 and n = 128, found " << n);
  DcdmNetConfig c;
  if (n == 128) {
    c.pre_convs = 6;
    c.mid_convs = 10;
    c.post_convs = 6;
  }
  return c;
}

DcdmNetConfig DcdmNetConfig::from_options(const std::string& prefix) { return from_options(prefix, DcdmNetConfig{}); }

DcdmNetConfig DcdmNetConfig::from_options(const std::string& prefix, const DcdmNetConfig& defaults) {
  DcdmNetConfig d = defaults;
  Options opt("DCDM network", prefix);
  const std::string v =
      opt.choice("variant", "custom", {"custom", "n64", "n128"}, "preset of the reference: n64 (4/6/4), n128 (6/10/6)");
  if (v != "custom") {
    const std::uint64_t seed = d.seed;
    d = variant(v == "n64" ? 64 : 128);
    d.seed = seed;
  }
  DcdmNetConfig c;
  c.channels = opt.integer("channels", d.channels, "channels of every hidden convolution");
  c.pre_convs = opt.integer("pre_convs", d.pre_convs, "full-resolution convolutions before pooling (even, >= 2)");
  c.mid_convs = opt.integer("mid_convs", d.mid_convs, "half-resolution convolutions (even)");
  c.post_convs = opt.integer("post_convs", d.post_convs, "full-resolution convolutions after upsampling (even)");
  c.seed = static_cast<std::uint64_t>(opt.integer("seed", std::int64_t(d.seed), "initialisation seed"));
  c.validate();
  return c;
}

void DcdmNetConfig::validate() const {
  NEUROPS_CHECK(channels >= 1, "DCDM network: channels must be >= 1, found " << channels);
  NEUROPS_CHECK(pre_convs >= 2 && pre_convs % 2 == 0,
                "DCDM network: pre_convs must be even and >= 2 (la, pairs, lb), found " << pre_convs);
  NEUROPS_CHECK(mid_convs >= 0 && mid_convs % 2 == 0,
                "DCDM network: mid_convs must be even and >= 0 (residual pairs), found " << mid_convs);
  NEUROPS_CHECK(post_convs >= 0 && post_convs % 2 == 0,
                "DCDM network: post_convs must be even and >= 0 (residual pairs), found " << post_convs);
}

void DcdmNetConfig::save(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "model", std::string(kDcdmNetType));
  file.set_attr(group, "channels", channels);
  file.set_attr(group, "pre_convs", pre_convs);
  file.set_attr(group, "mid_convs", mid_convs);
  file.set_attr(group, "post_convs", post_convs);
  file.set_attr(group, "seed", std::int64_t(seed));
}

DcdmNetConfig DcdmNetConfig::load(const io::H5File& file, const std::string& group) {
  check_config_group(file, group, kDcdmNetType);
  DcdmNetConfig c;
  c.channels = file.attr_int(group, "channels");
  c.pre_convs = file.attr_int(group, "pre_convs");
  c.mid_convs = file.attr_int(group, "mid_convs");
  c.post_convs = file.attr_int(group, "post_convs");
  c.seed = static_cast<std::uint64_t>(file.attr_int(group, "seed"));
  c.validate();
  return c;
}

bool DcdmNetConfig::operator==(const DcdmNetConfig& o) const {
  return channels == o.channels && pre_convs == o.pre_convs && mid_convs == o.mid_convs && post_convs == o.post_convs;
}

index_t DcdmNetConfig::parameter_count() const {
  const index_t c = channels, hidden = 27 * c * c + c;
  return (27 * c + c) + (pre_convs + mid_convs + post_convs) * hidden + (c + 1);
}

// ---- network ------------------------------------------------------------------------------------

namespace {

template <class T>
std::unique_ptr<nn::Conv<T>> conv3(index_t in, index_t out, Rng& rng) {
  nn::ConvOptions o;
  o.padding = {1};  // "same" with zeros, as Keras' padding='same' for a 3x3x3 kernel
  return std::make_unique<nn::Conv<T>>(3, in, out, std::vector<index_t>{3}, rng, o);
}

/// relu(conv(x)): the reference's every hidden layer.
template <class T>
void add_conv_relu(nn::Sequential<T>& s, index_t c, Rng& rng) {
  s.push_back(conv3<T>(c, c, rng));
  s.template emplace<nn::Activation<T>>(nn::ActivationKind::ReLU);
}

/// x + relu(conv(relu(conv(x)))): two convolutions with an additive skip.
template <class T>
void add_residual_pairs(nn::Sequential<T>& s, index_t pairs, index_t c, Rng& rng) {
  for (index_t p = 0; p < pairs; ++p) {
    auto inner = std::make_unique<nn::Sequential<T>>();
    add_conv_relu(*inner, c, rng);
    add_conv_relu(*inner, c, rng);
    s.push_back(std::make_unique<nn::Residual<T>>(std::move(inner)));
  }
}

}  // namespace

template <class T>
DcdmNet<T>::DcdmNet(DcdmNetConfig config) : config_(config), up_(3, 2, nn::UpsampleMode::Nearest) {
  config_.validate();
  Rng rng(config_.seed);
  const index_t c = config_.channels;
  stem_.push_back(conv3<T>(1, c, rng));  // linear first layer
  add_conv_relu(stem_, c, rng);
  add_residual_pairs(stem_, (config_.pre_convs - 2) / 2, c, rng);
  add_conv_relu(stem_, c, rng);
  middle_.template emplace<nn::AvgPool<T>>(3, 2);
  add_residual_pairs(middle_, config_.mid_convs / 2, c, rng);
  add_residual_pairs(tail_, config_.post_convs / 2, c, rng);
  nn::ConvOptions head;  // Keras' Dense(1) on the channel axis: 1x1x1, with bias
  tail_.template emplace<nn::Conv<T>>(3, c, 1, std::vector<index_t>{1}, rng, head);
  // Keras' defaults, as the reference: Glorot-uniform kernels, zero biases. PyTorch's uniform biases
  // (up to 0.19 for the first layer) would swamp inputs of unit norm (entries ~ n^-3/2) with a
  // constant field that the scale-invariant loss cannot use.
  for (auto& p : this->named_parameters()) {
    if (p.name.size() >= 4 && p.name.compare(p.name.size() - 4, 4, "bias") == 0)
      p.param->value.zero();
    else
      nn::init::glorot_uniform(p.param->value, rng);
  }
}

template <class T>
void DcdmNet<T>::check_input_shape(const Shape& s) {
  NEUROPS_CHECK(s.rank() == 5 && s[1] == 1, "DCDM network: expected input (N, 1, Z, Y, X), found " << s);
  NEUROPS_CHECK(s[2] % 2 == 0 && s[3] % 2 == 0 && s[4] % 2 == 0 && s[2] >= 2 && s[3] >= 2 && s[4] >= 2,
                "DCDM network: the grid " << s[2] << " x " << s[3] << " x " << s[4]
                                          << " must have even sides >= 2 (one 2x2x2 pooling level)");
}

template <class T>
Tensor<T> DcdmNet<T>::forward_field(const Tensor<T>& x) {
  check_input_shape(x.shape());
  Tensor<T> lb = nn::with_module_path("stem", "Sequential", [&] { return stem_.forward(x); });
  Tensor<T> a = nn::with_module_path("middle", "Sequential", [&] { return middle_.forward(lb); });
  Tensor<T> u = up_.forward(a);
  u.vec() += lb.vec();  // skip from full resolution
  return nn::with_module_path("tail", "Sequential", [&] { return tail_.forward(u); });
}

template <class T>
Tensor<T> DcdmNet<T>::backward_field(const Tensor<T>& dy) {
  Tensor<T> du = nn::with_module_path("tail", "Sequential", [&] { return tail_.backward(dy); });
  Tensor<T> da = up_.backward(du);
  Tensor<T> dlb = nn::with_module_path("middle", "Sequential", [&] { return middle_.backward(da); });
  dlb.vec() += du.vec();  // the skip's share
  return nn::with_module_path("stem", "Sequential", [&] { return stem_.backward(dlb); });
}

template <class T>
void DcdmNet<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("stem", stem_);
  fn("middle", middle_);
  fn("up", up_);
  fn("tail", tail_);
}

template <class T>
DcdmNet<T> load_dcdm_net(const std::string& path) {
  NEUROPS_CHECK(!path.empty(), "DCDM network: no model file given");
  NEUROPS_CHECK(std::filesystem::exists(path), "DCDM network: model file '" << path << "' does not exist");
  DcdmNetConfig config;
  {
    const io::H5File file = io::H5File::open(path);
    NEUROPS_CHECK(file.has_attr("/", "model_type"),
                  "DCDM network: '" << path << "' is not a neurops checkpoint (no model_type attribute)");
    const std::string type = file.attr_string("/", "model_type");
    NEUROPS_CHECK(type == kDcdmNetType,
                  "DCDM network: '" << path << "' holds a " << type << " model, expected " << kDcdmNetType);
    config = DcdmNetConfig::load(file, "/config");
  }
  DcdmNet<T> net(config);
  nn::CheckpointContents<T> contents;
  contents.model = &net;
  nn::load_checkpoint(path, contents);
  net.eval();
  return net;
}

template class DcdmNet<float>;
template class DcdmNet<double>;
template DcdmNet<float> load_dcdm_net<float>(const std::string&);
template DcdmNet<double> load_dcdm_net<double>(const std::string&);

}  // namespace neurops::operators
