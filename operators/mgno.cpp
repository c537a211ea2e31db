#include "neurops/operators/mgno.hpp"
#include "neurops/core/options.hpp"

#include <sstream>

#include "config_group.hpp"
#include "neurops/io/hdf5.hpp"

namespace neurops::operators {

namespace {

nn::ConvOptions smoothing_conv(nn::PaddingMode mode) {
  nn::ConvOptions o;
  o.padding = {1};
  o.padding_mode = mode;
  o.bias = false;
  return o;
}

nn::ConvOptions restriction_conv(nn::PaddingMode mode) {
  nn::ConvOptions o = smoothing_conv(mode);
  o.stride = {2};
  return o;
}

nn::ConvTransposeOptions prolongation_conv() {
  nn::ConvTransposeOptions o;
  o.stride = {2};
  o.padding = {1};
  o.bias = false;
  return o;
}

std::string list(const std::vector<index_t>& v) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
  s << "]";
  return s.str();
}

template <class T>
void add_into(Tensor<T>& acc, const Tensor<T>& x) {
  if (acc.empty())
    acc = x;
  else
    acc.vec() += x.vec();
}

}  // namespace

// ---- configuration ------------------------------------------------------------------------------

void MgnoConfig::validate() const {
  NEUROPS_CHECK(in_channels >= 1 && out_channels >= 1,
                "MgNO: in_channels and out_channels must be >= 1, found " << in_channels << " and " << out_channels);
  NEUROPS_CHECK(width >= 1 && layers >= 1, "MgNO: width and layers must be >= 1, found " << width << " and " << layers);
  NEUROPS_CHECK(!pre_smoothing.empty(), "MgNO: pre_smoothing needs one count per level, found none");
  NEUROPS_CHECK(post_smoothing.size() == pre_smoothing.size(),
                "MgNO: pre_smoothing " << list(pre_smoothing) << " and post_smoothing " << list(post_smoothing)
                                       << " must have one value per level each");
  for (std::size_t l = 0; l < pre_smoothing.size(); ++l) {
    NEUROPS_CHECK(pre_smoothing[l] >= 1,
                  "MgNO: pre_smoothing on level " << l << " must be >= 1, found " << list(pre_smoothing));
    NEUROPS_CHECK(post_smoothing[l] >= 0, "MgNO: post_smoothing must be >= 0, found " << list(post_smoothing));
  }
  NEUROPS_CHECK(post_smoothing.back() == 0,
                "MgNO: the coarsest level has no post-smoothing (add its steps to "
                "pre_smoothing), found post_smoothing "
                    << list(post_smoothing));
}

void MgnoConfig::check_grid(index_t ny, index_t nx) const {
  const index_t factor = index_t(1) << (levels() - 1);
  NEUROPS_CHECK(ny % factor == 0 && nx % factor == 0 && ny / factor >= 2 && nx / factor >= 2,
                "MgNO: grid " << ny << " x " << nx << " does not fit " << levels()
                              << " levels: each extent must be divisible by 2^(levels-1) = " << factor
                              << " and leave at least 2 points on the coarsest level (smallest grid " << 2 * factor
                              << " x " << 2 * factor << ")");
}

void MgnoConfig::save(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "model", std::string("MgNO"));
  file.set_attr(group, "in_channels", in_channels);
  file.set_attr(group, "out_channels", out_channels);
  file.set_attr(group, "width", width);
  file.set_attr(group, "layers", layers);
  file.set_attr(group, "pre_smoothing", std::vector<std::int64_t>(pre_smoothing.begin(), pre_smoothing.end()));
  file.set_attr(group, "post_smoothing", std::vector<std::int64_t>(post_smoothing.begin(), post_smoothing.end()));
  file.set_attr(group, "use_residual", std::int64_t(use_residual));
  file.set_attr(group, "padding_mode", nn::to_string(padding_mode));
  file.set_attr(group, "activation", nn::to_string(activation));
  file.set_attr(group, "seed", std::int64_t(seed));
}

MgnoConfig MgnoConfig::load(const io::H5File& file, const std::string& group) {
  check_config_group(file, group, "MgNO");
  MgnoConfig c;
  c.in_channels = file.attr_int(group, "in_channels");
  c.out_channels = file.attr_int(group, "out_channels");
  c.width = file.attr_int(group, "width");
  c.layers = file.attr_int(group, "layers");
  const auto pre = file.attr_ints(group, "pre_smoothing");
  const auto post = file.attr_ints(group, "post_smoothing");
  c.pre_smoothing.assign(pre.begin(), pre.end());
  c.post_smoothing.assign(post.begin(), post.end());
  c.use_residual = file.attr_int(group, "use_residual") != 0;
  c.padding_mode = nn::padding_mode_from_string(file.attr_string(group, "padding_mode"));
  c.activation = nn::activation_from_string(file.attr_string(group, "activation"));
  c.seed = static_cast<std::uint64_t>(file.attr_int(group, "seed"));
  c.validate();
  return c;
}

void MgnoConfig::set_from_options(const std::string& prefix) {
  Options opt("MgNO model", prefix);
  in_channels = opt.integer("in_channels", in_channels, "channels of the input field");
  out_channels = opt.integer("out_channels", out_channels, "channels of the output field");
  width = opt.integer("width", width, "channels of u and f");
  layers = opt.integer("layers", layers, "V-cycle layers");
  const auto pre =
      opt.integers("pre", {pre_smoothing.begin(), pre_smoothing.end()}, "pre-smoothing steps per level, finest first");
  pre_smoothing.assign(pre.begin(), pre.end());
  const auto post = opt.integers("post", {post_smoothing.begin(), post_smoothing.end()},
                                 "post-smoothing steps per level, finest first");
  post_smoothing.assign(post.begin(), post.end());
  use_residual = opt.flag("use_residual", use_residual, "restrict f - A u instead of f");
  padding_mode = nn::padding_mode_from_string(opt.choice("padding", nn::to_string(padding_mode),
                                                         {"zeros", "circular", "reflect", "replicate"},
                                                         "padding of the 3x3 convolutions: the boundary condition"));
  activation = nn::activation_from_string(
      opt.choice("activation", nn::to_string(activation), {"gelu", "relu", "tanh", "identity"}, "activation"));
  seed = static_cast<std::uint64_t>(opt.integer("seed", static_cast<std::int64_t>(seed), "seed of the weights"));
  validate();
}

bool MgnoConfig::operator==(const MgnoConfig& o) const {
  return in_channels == o.in_channels && out_channels == o.out_channels && width == o.width && layers == o.layers &&
         pre_smoothing == o.pre_smoothing && post_smoothing == o.post_smoothing && use_residual == o.use_residual &&
         padding_mode == o.padding_mode && activation == o.activation && seed == o.seed;
}

// ---- smoothing step -----------------------------------------------------------------------------

template <class T>
MgSmoother<T>::MgSmoother(index_t u_channels, index_t f_channels, bool initial, nn::PaddingMode mode, Rng& rng)
    : initial_(initial),
      a_(2, u_channels, f_channels, {3}, rng, smoothing_conv(mode)),
      s_(2, f_channels, u_channels, {3}, rng, smoothing_conv(mode)) {}

template <class T>
void MgSmoother<T>::apply(Tensor<T>& u, const Tensor<T>& f) {
  if (initial_) {
    u = nn::with_module_path("S", s_.type_name(), [&] { return s_.forward(f); });
    return;
  }
  Tensor<T> r = f;
  r.vec() -= nn::with_module_path("A", a_.type_name(), [&] { return a_.forward(u); }).vec();
  u.vec() += nn::with_module_path("S", s_.type_name(), [&] { return s_.forward(r); }).vec();
}

template <class T>
void MgSmoother<T>::apply_backward(Tensor<T>& du, Tensor<T>& df) {
  const Tensor<T> dr = s_.backward(du);
  add_into(df, dr);
  if (initial_) {
    du = Tensor<T>();  // u was overwritten: no gradient flows to the old u
    return;
  }
  // r = f - A u: A sees -dr (its weight gradient included).
  Tensor<T> minus_dr = dr;
  minus_dr.vec() = -minus_dr.vec();
  du.vec() += a_.backward(minus_dr).vec();
}

template <class T>
void MgSmoother<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  if (!initial_) fn("A", a_);
  fn("S", s_);
}

// ---- V-cycle ------------------------------------------------------------------------------------

template <class T>
MgVCycle<T>::MgVCycle(const MgnoConfig& config, index_t f_channels, Rng& rng)
    : config_(config), f_channels_(f_channels) {
  const index_t u = config.width, f = f_channels, levels = config.levels();
  for (index_t l = 0; l < levels; ++l) {
    Level level;
    for (index_t i = 0; i < config.pre_smoothing[static_cast<std::size_t>(l)]; ++i)
      level.pre.emplace_back(u, f, l == 0 && i == 0, config.padding_mode, rng);
    for (index_t i = 0; i < config.post_smoothing[static_cast<std::size_t>(l)]; ++i)
      level.post.emplace_back(u, f, false, config.padding_mode, rng);
    levels_.push_back(std::move(level));
    if (l + 1 < levels) {
      Transfer t{nn::Conv<T>(2, u, u, {3}, rng, restriction_conv(config.padding_mode)),
                 nn::Conv<T>(2, f, f, {3}, rng, restriction_conv(config.padding_mode)),
                 {},
                 nn::ConvTranspose<T>(2, u, u, {4}, rng, prolongation_conv())};
      if (config.use_residual)
        t.residual_a.emplace_back(2, u, f, std::vector<index_t>{3}, rng, smoothing_conv(config.padding_mode));
      transfers_.push_back(std::move(t));
    }
  }
}

template <class T>
Tensor<T> MgVCycle<T>::forward(const Tensor<T>& f0) {
  NEUROPS_CHECK(f0.rank() == 4 && f0.size(1) == f_channels_,
                "MgVCycle: expected input (N, " << f_channels_ << ", H, W), found " << f0.shape());
  config_.check_grid(f0.size(2), f0.size(3));
  const std::size_t levels = levels_.size();
  std::vector<Tensor<T>> u(levels), f(levels);
  f[0] = f0;
  f_shapes_.assign(levels, Shape());
  for (std::size_t l = 0; l < levels; ++l) {
    const std::string at = "levels." + std::to_string(l);
    if (l > 0) {
      Transfer& t = transfers_[l - 1];
      const std::string tat = "transfers." + std::to_string(l - 1);
      if (config_.use_residual) {
        Tensor<T> r = f[l - 1];
        r.vec() -= nn::with_module_path(tat + ".A", "Conv2d", [&] { return t.residual_a[0].forward(u[l - 1]); }).vec();
        f[l] = nn::with_module_path(tat + ".R", "Conv2d", [&] { return t.r.forward(r); });
      } else {
        f[l] = nn::with_module_path(tat + ".R", "Conv2d", [&] { return t.r.forward(f[l - 1]); });
      }
      u[l] = nn::with_module_path(tat + ".Pi", "Conv2d", [&] { return t.pi.forward(u[l - 1]); });
    }
    for (std::size_t i = 0; i < levels_[l].pre.size(); ++i)
      nn::with_module_path(at + ".pre." + std::to_string(i), "MgSmoother",
                           [&] { levels_[l].pre[i].apply(u[l], f[l]); });
    f_shapes_[l] = f[l].shape();
  }
  for (std::size_t j = levels - 1; j-- > 0;) {
    const std::string tat = "transfers." + std::to_string(j);
    u[j].vec() +=
        nn::with_module_path(tat + ".P", "ConvTranspose2d", [&] { return transfers_[j].p.forward(u[j + 1]); }).vec();
    for (std::size_t i = 0; i < levels_[j].post.size(); ++i)
      nn::with_module_path("levels." + std::to_string(j) + ".post." + std::to_string(i), "MgSmoother",
                           [&] { levels_[j].post[i].apply(u[j], f[j]); });
  }
  cached_ = this->training();
  return std::move(u[0]);
}

template <class T>
Tensor<T> MgVCycle<T>::backward(const Tensor<T>& du0) {
  this->require_cache(cached_);
  const std::size_t levels = levels_.size();
  std::vector<Tensor<T>> du(levels), df(levels);
  // Upward pass in reverse: level 0 first, down to the coarsest.
  du[0] = du0;
  for (std::size_t j = 0; j + 1 < levels; ++j) {
    for (std::size_t i = levels_[j].post.size(); i-- > 0;) levels_[j].post[i].apply_backward(du[j], df[j]);
    du[j + 1] = transfers_[j].p.backward(du[j]);  // u_j's own gradient passes through the sum unchanged
  }
  // Downward pass in reverse: coarsest first.
  for (std::size_t l = levels; l-- > 0;) {
    for (std::size_t i = levels_[l].pre.size(); i-- > 0;) levels_[l].pre[i].apply_backward(du[l], df[l]);
    if (l == 0) break;
    Transfer& t = transfers_[l - 1];
    du[l - 1].vec() += t.pi.backward(du[l]).vec();
    if (df[l].empty()) df[l] = Tensor<T>(f_shapes_[l]);
    const Tensor<T> dr = t.r.backward(df[l]);
    add_into(df[l - 1], dr);
    if (config_.use_residual) {  // f_l = R (f - A u)
      Tensor<T> minus_dr = dr;
      minus_dr.vec() = -minus_dr.vec();
      du[l - 1].vec() += t.residual_a[0].backward(minus_dr).vec();
    }
  }
  return df[0].empty() ? Tensor<T>(f_shapes_[0]) : std::move(df[0]);
}

template <class T>
void MgVCycle<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  for (std::size_t l = 0; l < levels_.size(); ++l) {
    const std::string at = "levels." + std::to_string(l);
    for (std::size_t i = 0; i < levels_[l].pre.size(); ++i) fn(at + ".pre." + std::to_string(i), levels_[l].pre[i]);
    for (std::size_t i = 0; i < levels_[l].post.size(); ++i) fn(at + ".post." + std::to_string(i), levels_[l].post[i]);
  }
  for (std::size_t j = 0; j < transfers_.size(); ++j) {
    const std::string at = "transfers." + std::to_string(j);
    fn(at + ".Pi", transfers_[j].pi);
    fn(at + ".R", transfers_[j].r);
    if (!transfers_[j].residual_a.empty()) fn(at + ".A", transfers_[j].residual_a[0]);
    fn(at + ".P", transfers_[j].p);
  }
}

// ---- model --------------------------------------------------------------------------------------

namespace {
MgnoConfig checked(MgnoConfig c) {
  c.validate();
  return c;
}
nn::ConvOptions pointwise(bool bias) {
  nn::ConvOptions o;
  o.bias = bias;
  return o;
}
}  // namespace

template <class T>
Mgno<T>::Mgno(MgnoConfig config)
    : config_(checked(std::move(config))), head_([this] {
        Rng rng = Rng::stream(config_.seed, 1000);
        return nn::Conv<T>(2, config_.width, config_.out_channels, {1}, rng, pointwise(false));
      }()) {
  for (index_t l = 0; l < config_.layers; ++l) {
    Rng rng = Rng::stream(config_.seed, static_cast<std::uint64_t>(l + 1));
    const index_t f_channels = l == 0 ? config_.in_channels : config_.width;
    vcycles_.emplace_back(config_, f_channels, rng);
    pointwise_.emplace_back(2, f_channels, config_.width, std::vector<index_t>{1}, rng, pointwise(true));
  }
}

template <class T>
Tensor<T> Mgno<T>::forward_field(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == 4 && x.size(1) == config_.in_channels,
                type_name() << ": expected input (N, " << config_.in_channels << ", H, W), found " << x.shape());
  config_.check_grid(x.size(2), x.size(3));
  pre_activations_.clear();
  Tensor<T> u = x;
  for (std::size_t l = 0; l < vcycles_.size(); ++l) {
    const std::string at = "layers." + std::to_string(l);
    Tensor<T> v = nn::with_module_path(at + ".vcycle", "MgVCycle", [&] { return vcycles_[l].forward(u); });
    v.vec() += nn::with_module_path(at + ".pointwise", "Conv2d", [&] { return pointwise_[l].forward(u); }).vec();
    if (this->training()) pre_activations_.push_back(v);
    nn::activation_forward(config_.activation, v.data(), v.data(), v.numel());
    u = std::move(v);
  }
  return nn::with_module_path("head", "Conv2d", [&] { return head_.forward(u); });
}

template <class T>
Tensor<T> Mgno<T>::backward_field(const Tensor<T>& dy) {
  this->require_cache(pre_activations_.size() == vcycles_.size());
  Tensor<T> g = head_.backward(dy);
  for (std::size_t l = vcycles_.size(); l-- > 0;) {
    const Tensor<T>& z = pre_activations_[l];
    nn::activation_backward(config_.activation, z.data(), g.data(), g.data(), g.numel());
    Tensor<T> dx = vcycles_[l].backward(g);
    dx.vec() += pointwise_[l].backward(g).vec();
    g = std::move(dx);
  }
  return g;
}

template <class T>
void Mgno<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  for (std::size_t l = 0; l < vcycles_.size(); ++l) {
    fn("layers." + std::to_string(l) + ".vcycle", vcycles_[l]);
    fn("layers." + std::to_string(l) + ".pointwise", pointwise_[l]);
  }
  fn("head", head_);
}

template class MgSmoother<float>;
template class MgSmoother<double>;
template class MgVCycle<float>;
template class MgVCycle<double>;
template class Mgno<float>;
template class Mgno<double>;

}  // namespace neurops::operators
