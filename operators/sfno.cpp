#include "neurops/operators/sfno.hpp"

#include <cmath>
#include <cstring>

#include "config_group.hpp"
#include "neurops/core/options.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/spectral_init.hpp"

namespace neurops::operators {

namespace {

/// The reference's positional encoding covers at most this many frames (its max_time_steps).
constexpr index_t kMaxTimeSteps = 100;

nn::ConvOptions pointwise() { return nn::ConvOptions{}; }

/// U[0, 1) * 0.5 / (in * out) for the real and imaginary parts (fno/base.py SpectralConv, gain 0.5).
template <class T>
void sfno_spectral_init(nn::SpectralConv<T>& layer, Rng& rng) {
  const double scale = 0.5 / double(layer.in_channels() * layer.out_channels());
  for (int c = 0; c < layer.corners(); ++c) nn::init_uniform(layer.weight(c), scale, rng);
}

template <class T>
nn::SpectralConv<T> make_spectral(const SfnoConfig& c, std::uint64_t stream) {
  Rng rng = Rng::stream(c.seed, stream);
  nn::SpectralConv<T> s(c.width, c.width, c.modes(), false, rng.next_u64());
  sfno_spectral_init(s, rng);
  return s;
}

template <class T>
nn::PointwiseFfn<T> make_ffn(const SfnoConfig& c, Rng& rng) {
  return nn::PointwiseFfn<T>(3, c.width, c.channel_expansion * c.width, c.width, c.activation, rng);
}

/// y[..., t] += x[..., 0] for every frame t (x has one frame); both (N, C, n0, n1, .).
template <class T>
void add_broadcast_frame(const T* x, Tensor<T>& y) {
  const index_t nt = y.size(4), rows = y.numel() / nt;
  for (index_t r = 0; r < rows; ++r)
    for (index_t t = 0; t < nt; ++t) y.data()[r * nt + t] += x[r];
}

/// out[r] = sum_t g[r, t]: the adjoint of add_broadcast_frame.
template <class T>
Tensor<T> sum_frames(const Tensor<T>& g) {
  const index_t nt = g.size(4), rows = g.numel() / nt;
  Tensor<T> out = Tensor<T>::uninitialized(g.shape().with(4, 1));
  for (index_t r = 0; r < rows; ++r) {
    T acc = 0;
    for (index_t t = 0; t < nt; ++t) acc += g.data()[r * nt + t];
    out.data()[r] = acc;
  }
  return out;
}

}  // namespace

// ---- configuration ------------------------------------------------------------------------------

void SfnoConfig::validate() const {
  NEUROPS_CHECK(modes_x >= 1 && modes_y >= 1 && modes_t >= 1, "SFNO: modes_x, modes_y, modes_t must be >= 1, found "
                                                                  << modes_x << ", " << modes_y << ", " << modes_t);
  NEUROPS_CHECK(width >= 4 && width % 2 == 0,
                "SFNO: width must be even and >= 4 (the positional encoding's channels), found " << width);
  NEUROPS_CHECK(layers >= 2,
                "SFNO: layers must be >= 2 (the lifting's spectral layer and >= 1 hidden block), found " << layers);
  NEUROPS_CHECK(channel_expansion >= 1, "SFNO: channel_expansion must be >= 1, found " << channel_expansion);
  const index_t need = std::max<index_t>(1, 2 * (modes_t - 1));
  NEUROPS_CHECK(latent_steps >= need, "SFNO: latent_steps " << latent_steps << " is too few frames for modes_t "
                                                            << modes_t << ": needs >= " << need
                                                            << " (the half spectrum has n/2+1 entries)");
  NEUROPS_CHECK(input_steps >= latent_steps && input_steps <= kMaxTimeSteps,
                "SFNO: input_steps must be in [latent_steps = " << latent_steps << ", " << kMaxTimeSteps << "], found "
                                                                << input_steps);
  NEUROPS_CHECK(output_steps >= 1, "SFNO: output_steps must be >= 1, found " << output_steps);
  NEUROPS_CHECK(output_modes.empty() ||
                    (output_modes.size() == 3 && output_modes[0] >= 1 && output_modes[1] >= 1 && output_modes[2] >= 1),
                "SFNO: output_modes must be empty or three values >= 1, found " << output_modes.size() << " values");
  NEUROPS_CHECK(std::isfinite(beta) && std::isfinite(delta),
                "SFNO: beta and delta must be finite, found " << beta << " and " << delta);
}

void SfnoConfig::save(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "model", std::string("SFNO"));
  file.set_attr(group, "modes_x", modes_x);
  file.set_attr(group, "modes_y", modes_y);
  file.set_attr(group, "modes_t", modes_t);
  file.set_attr(group, "width", width);
  file.set_attr(group, "layers", layers);
  file.set_attr(group, "input_steps", input_steps);
  file.set_attr(group, "latent_steps", latent_steps);
  file.set_attr(group, "output_steps", output_steps);
  file.set_attr(group, "beta", beta);
  file.set_attr(group, "delta", delta);
  file.set_attr(group, "channel_expansion", channel_expansion);
  file.set_attr(group, "activation", nn::to_string(activation));
  file.set_attr(group, "lift_activation", std::int64_t(lift_activation));
  file.set_attr(group, "seed", std::int64_t(seed));
  file.set_attr(group, "output_modes", std::vector<std::int64_t>(output_modes.begin(), output_modes.end()));
}

SfnoConfig SfnoConfig::load(const io::H5File& file, const std::string& group) {
  check_config_group(file, group, "SFNO");
  SfnoConfig c;
  c.modes_x = file.attr_int(group, "modes_x");
  c.modes_y = file.attr_int(group, "modes_y");
  c.modes_t = file.attr_int(group, "modes_t");
  c.width = file.attr_int(group, "width");
  c.layers = file.attr_int(group, "layers");
  c.input_steps = file.attr_int(group, "input_steps");
  c.latent_steps = file.attr_int(group, "latent_steps");
  c.output_steps = file.attr_int(group, "output_steps");
  c.beta = file.attr_real(group, "beta");
  c.delta = file.attr_real(group, "delta");
  c.channel_expansion = file.attr_int(group, "channel_expansion");
  c.activation = nn::activation_from_string(file.attr_string(group, "activation"));
  c.lift_activation = file.attr_int(group, "lift_activation") != 0;
  c.seed = static_cast<std::uint64_t>(file.attr_int(group, "seed"));
  const auto om = file.attr_ints(group, "output_modes");
  c.output_modes.assign(om.begin(), om.end());
  c.validate();
  return c;
}

void SfnoConfig::set_from_options(const std::string& prefix) {
  Options opt("SFNO model", prefix);
  modes_x = opt.integer("modes_x", modes_x, "Fourier modes kept on spatial axis 0 (+-modes_x)");
  modes_y = opt.integer("modes_y", modes_y, "Fourier modes kept on spatial axis 1 (+-modes_y)");
  modes_t = opt.integer("modes_t", modes_t, "low Fourier modes kept in time");
  width = opt.integer("width", width, "channels of the hidden space-time fields (even, >= 4)");
  layers = opt.integer("layers", layers, "spectral layers (the lifting's and layers-1 hidden blocks)");
  input_steps = opt.integer("input_steps", input_steps, "input frames");
  latent_steps = opt.integer("latent_steps", latent_steps, "frames of the hidden fields");
  output_steps = opt.integer("output_steps", output_steps, "output frames");
  beta = opt.real("beta", beta, "exponential time scale of the positional encoding");
  delta = opt.real("delta", delta, "scale of the output layer's spectral bias");
  channel_expansion = opt.integer("channel_expansion", channel_expansion, "FFN hidden channels / width");
  activation = nn::activation_from_string(
      opt.choice("activation", nn::to_string(activation), {"relu", "gelu", "tanh", "identity"}, "activation"));
  lift_activation = opt.flag("lift_activation", lift_activation, "FFN and activation in the lifting");
  seed = static_cast<std::uint64_t>(opt.integer("seed", static_cast<std::int64_t>(seed), "seed of the weights"));
  validate();
}

bool SfnoConfig::operator==(const SfnoConfig& o) const {
  return modes_x == o.modes_x && modes_y == o.modes_y && modes_t == o.modes_t && width == o.width &&
         layers == o.layers && input_steps == o.input_steps && latent_steps == o.latent_steps &&
         output_steps == o.output_steps && beta == o.beta && delta == o.delta &&
         channel_expansion == o.channel_expansion && activation == o.activation &&
         lift_activation == o.lift_activation && seed == o.seed && output_layer_modes() == o.output_layer_modes();
}

// ---- layout helpers -----------------------------------------------------------------------------

template <class T>
Tensor<T> frames_to_time_axis(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == 4, "SFNO: expected frames (N, T, n0, n1), found " << x.shape());
  const index_t n = x.size(0), nt = x.size(1), plane = x.size(2) * x.size(3);
  Tensor<T> v = Tensor<T>::uninitialized({n, 1, x.size(2), x.size(3), nt});
#pragma omp parallel for schedule(static) if (x.numel() > (1 << 16))
  for (index_t s = 0; s < n; ++s)
    for (index_t t = 0; t < nt; ++t) {
      const T* in = x.data() + (s * nt + t) * plane;
      T* out = v.data() + s * plane * nt + t;
      for (index_t p = 0; p < plane; ++p) out[p * nt] = in[p];
    }
  return v;
}

template <class T>
Tensor<T> time_axis_to_frames(const Tensor<T>& v) {
  NEUROPS_CHECK(v.rank() == 5 && v.size(1) == 1, "SFNO: expected a field (N, 1, n0, n1, T), found " << v.shape());
  const index_t n = v.size(0), nt = v.size(4), plane = v.size(2) * v.size(3);
  Tensor<T> x = Tensor<T>::uninitialized({n, nt, v.size(2), v.size(3)});
#pragma omp parallel for schedule(static) if (x.numel() > (1 << 16))
  for (index_t s = 0; s < n; ++s)
    for (index_t t = 0; t < nt; ++t) {
      const T* in = v.data() + s * plane * nt + t;
      T* out = x.data() + (s * nt + t) * plane;
      for (index_t p = 0; p < plane; ++p) out[p] = in[p * nt];
    }
  return x;
}

// ---- lifting ------------------------------------------------------------------------------------

template <class T>
SfnoLifting<T>::SfnoLifting(const SfnoConfig& c)
    : pe_(c.width, c.beta, kMaxTimeSteps),
      norm_(1, c.width, 1e-7, true),
      proj_([&] {
        Rng rng = Rng::stream(c.seed, 1);
        return nn::Conv<T>(3, c.width, c.width, {1}, rng, pointwise());
      }()),
      sconv_(make_spectral<T>(c, 2)),
      activation_(c.lift_activation ? c.activation : nn::ActivationKind::Identity),
      latent_steps_(c.latent_steps) {
  Rng rng = Rng::stream(c.seed, 3);
  if (c.lift_activation)
    mlp_.emplace(make_ffn<T>(c, rng));
  else
    mlp_linear_.emplace(3, c.width, c.width, std::vector<index_t>{1}, rng, pointwise());
}

template <class T>
Tensor<T> SfnoLifting<T>::forward(const Tensor<T>& x) {
  const index_t t_in = x.size(4);
  Tensor<T> v = nn::with_module_path("pe", pe_.type_name(), [&] { return pe_.forward(x); });
  v = nn::with_module_path("norm", norm_.type_name(), [&] { return norm_.forward(v); });
  v = nn::with_module_path("proj", proj_.type_name(), [&] { return proj_.forward(v); });
  sconv_.set_output_grid({x.size(2), x.size(3), latent_steps_});
  Tensor<T> w = nn::with_module_path("sconv", sconv_.type_name(), [&] { return sconv_.forward(v); });
  w = nn::with_module_path("mlp", mlp_ ? mlp_->type_name() : mlp_linear_->type_name(),
                           [&] { return mlp_ ? mlp_->forward(w) : mlp_linear_->forward(w); });
  // The skip: the lifted field's last frame, the same for every latent frame.
  Tensor<T> last = Tensor<T>::uninitialized(v.shape().with(4, 1));
  copy_frames(v, t_in - 1, last, 0, 1);
  add_broadcast_frame(last.data(), w);
  if (this->training()) {
    pre_activation_ = w;
    input_frames_ = t_in;
  }
  nn::activation_forward(activation_, w.data(), w.data(), w.numel());
  return w;
}

template <class T>
Tensor<T> SfnoLifting<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!pre_activation_.empty());
  NEUROPS_CHECK(dy.shape() == pre_activation_.shape(), type_name() << ": output gradient has shape " << dy.shape()
                                                                   << ", expected " << pre_activation_.shape());
  Tensor<T> g = Tensor<T>::uninitialized(dy.shape());
  nn::activation_backward(activation_, pre_activation_.data(), dy.data(), g.data(), g.numel());
  Tensor<T> dv = sconv_.backward(mlp_ ? mlp_->backward(g) : mlp_linear_->backward(g));
  const Tensor<T> dlast = sum_frames(g);
  const index_t nt = dv.size(4), rows = dv.numel() / nt;
  for (index_t r = 0; r < rows; ++r) dv.data()[r * nt + input_frames_ - 1] += dlast.data()[r];
  dv = proj_.backward(dv);
  dv = norm_.backward(dv);
  return pe_.backward(dv);
}

template <class T>
void SfnoLifting<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("pe", pe_);
  fn("norm", norm_);
  fn("proj", proj_);
  fn("sconv", sconv_);
  if (mlp_)
    fn("mlp", *mlp_);
  else
    fn("mlp", *mlp_linear_);
}

// ---- hidden block -------------------------------------------------------------------------------

template <class T>
SfnoBlock<T>::SfnoBlock(const SfnoConfig& c, Rng& rng)
    : sconv_([&] {
        Rng r(rng.next_u64());
        nn::SpectralConv<T> s(c.width, c.width, c.modes(), false, r.next_u64());
        sfno_spectral_init(s, r);
        return s;
      }()),
      mlp_(make_ffn<T>(c, rng)),
      w_(3, c.width, c.width, {1}, rng, pointwise()),
      activation_(c.activation) {}

template <class T>
Tensor<T> SfnoBlock<T>::forward(const Tensor<T>& x) {
  Tensor<T> y = nn::with_module_path("sconv", sconv_.type_name(), [&] { return sconv_.forward(x); });
  y = nn::with_module_path("mlp", mlp_.type_name(), [&] { return mlp_.forward(y); });
  y.vec() += nn::with_module_path("w", w_.type_name(), [&] { return w_.forward(x); }).vec();
  if (this->training()) pre_activation_ = y;
  nn::activation_forward(activation_, y.data(), y.data(), y.numel());
  return y;
}

template <class T>
Tensor<T> SfnoBlock<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!pre_activation_.empty());
  NEUROPS_CHECK(dy.shape() == pre_activation_.shape(), type_name() << ": output gradient has shape " << dy.shape()
                                                                   << ", expected " << pre_activation_.shape());
  Tensor<T> g = Tensor<T>::uninitialized(dy.shape());
  nn::activation_backward(activation_, pre_activation_.data(), dy.data(), g.data(), g.numel());
  Tensor<T> dx = sconv_.backward(mlp_.backward(g));
  dx.vec() += w_.backward(g).vec();
  return dx;
}

template <class T>
void SfnoBlock<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("sconv", sconv_);
  fn("mlp", mlp_);
  fn("w", w_);
}

// ---- SFNO ---------------------------------------------------------------------------------------

namespace {
SfnoConfig checked(SfnoConfig c) {
  c.validate();
  return c;
}
}  // namespace

template <class T>
Sfno<T>::Sfno(SfnoConfig config)
    : config_(checked(std::move(config))),
      output_steps_(config_.output_steps),
      lifting_(config_),
      reduction_([this] {
        Rng rng = Rng::stream(config_.seed, 1000);
        return nn::Conv<T>(3, config_.width, 1, {1}, rng, pointwise());
      }()),
      output_(config_.output_layer_modes(), config_.delta, Rng::stream(config_.seed, 1001).next_u64()) {
  for (index_t l = 1; l < config_.layers; ++l) {
    Rng rng = Rng::stream(config_.seed, static_cast<std::uint64_t>(100 + l));
    blocks_.emplace_back(config_, rng);
  }
}

template <class T>
void Sfno<T>::set_output_steps(index_t steps) {
  NEUROPS_CHECK(steps >= 1, "SFNO: output steps must be >= 1, found " << steps);
  output_steps_ = steps;
}

template <class T>
void Sfno<T>::check_input(const Tensor<T>& x) const {
  NEUROPS_CHECK(x.rank() == 4, "SFNO: expected input frames (N, t_in, n0, n1), found " << x.shape());
  const index_t t_in = x.size(1);
  NEUROPS_CHECK(t_in >= config_.latent_steps && t_in <= kMaxTimeSteps,
                "SFNO: input " << x.shape() << " has " << t_in
                               << " frames; expected between latent_steps = " << config_.latent_steps << " and "
                               << kMaxTimeSteps << " (the positional encoding's time grid)");
  NEUROPS_CHECK(x.size(2) >= 2 * config_.modes_x && x.size(3) >= 2 * config_.modes_y,
                "SFNO: input " << x.shape() << " has a " << x.size(2) << " x " << x.size(3)
                               << " grid, too small for modes_x = " << config_.modes_x
                               << ", modes_y = " << config_.modes_y << ": needs at least " << 2 * config_.modes_x
                               << " x " << 2 * config_.modes_y);
}

template <class T>
Tensor<T> Sfno<T>::latent(const Tensor<T>& x) {
  check_input(x);
  Tensor<T> v = frames_to_time_axis(x);
  v = nn::with_module_path("lifting", lifting_.type_name(), [&] { return lifting_.forward(v); });
  for (std::size_t l = 0; l < blocks_.size(); ++l)
    v = nn::with_module_path("blocks." + std::to_string(l), "SfnoBlock", [&] { return blocks_[l].forward(v); });
  if (this->training()) input_shape_ = x.shape();
  return nn::with_module_path("reduction", reduction_.type_name(), [&] { return reduction_.forward(v); });
}

template <class T>
Tensor<T> Sfno<T>::backbone_backward(const Tensor<T>& dlatent) {
  this->require_cache(input_shape_.rank() == 4);
  Tensor<T> g = reduction_.backward(dlatent);
  for (std::size_t l = blocks_.size(); l-- > 0;) g = blocks_[l].backward(g);
  return time_axis_to_frames(lifting_.backward(g));
}

template <class T>
Tensor<T> Sfno<T>::output_from_latent(const Tensor<T>& latent, const Tensor<T>& x) {
  check_input(x);
  NEUROPS_CHECK(latent.rank() == 5 && latent.size(0) == x.size(0) && latent.size(1) == 1 &&
                    latent.size(2) == x.size(2) && latent.size(3) == x.size(3),
                "SFNO: latent " << latent.shape() << " does not fit the input " << x.shape() << ": expected ("
                                << x.size(0) << ", 1, " << x.size(2) << ", " << x.size(3) << ", latent frames)");
  const index_t n = x.size(0), t_in = x.size(1), plane = x.size(2) * x.size(3), tl = latent.size(4);
  // [last input frame, latent] along time.
  Tensor<T> v = Tensor<T>::uninitialized(latent.shape().with(4, tl + 1));
  copy_frames(latent, 0, v, 1, tl);
  const T* last = x.data();
  for (index_t s = 0; s < n; ++s)
    for (index_t p = 0; p < plane; ++p) v.data()[(s * plane + p) * (tl + 1)] = last[(s * t_in + t_in - 1) * plane + p];
  output_.set_frames(output_steps_ + 1);
  const Tensor<T> z = nn::with_module_path("output", output_.type_name(), [&] { return output_.forward(v); });
  // y = last input frame + the last output_steps frames.
  const index_t S = output_steps_ + 1;
  Tensor<T> y = Tensor<T>::uninitialized({n, output_steps_, x.size(2), x.size(3)});
#pragma omp parallel for schedule(static) if (y.numel() > (1 << 16))
  for (index_t s = 0; s < n; ++s)
    for (index_t j = 0; j < output_steps_; ++j) {
      const T* frame = last + (s * t_in + t_in - 1) * plane;
      const T* zs = z.data() + s * plane * S + j + 1;
      T* out = y.data() + (s * output_steps_ + j) * plane;
      for (index_t p = 0; p < plane; ++p) out[p] = frame[p] + zs[p * S];
    }
  if (this->training()) output_input_shape_ = x.shape();
  return y;
}

template <class T>
Tensor<T> Sfno<T>::output_backward(const Tensor<T>& dy) {
  this->require_cache(output_input_shape_.rank() == 4);
  const Shape& xs = output_input_shape_;
  const index_t n = xs[0], n0 = xs[2], n1 = xs[3], plane = n0 * n1, S = output_steps_ + 1;
  const Shape expected{n, output_steps_, n0, n1};
  NEUROPS_CHECK(dy.shape() == expected, "SFNO: output gradient has shape " << dy.shape() << ", expected " << expected);
  Tensor<T> dz({n, 1, n0, n1, S});  // frame 0 is not part of the output
  last_frame_grad_ = Tensor<T>({n, n0, n1});
  for (index_t s = 0; s < n; ++s)
    for (index_t j = 0; j < output_steps_; ++j) {
      const T* g = dy.data() + (s * output_steps_ + j) * plane;
      T* to = dz.data() + s * plane * S + j + 1;
      T* last = last_frame_grad_.data() + s * plane;
      for (index_t p = 0; p < plane; ++p) {
        to[p * S] = g[p];
        last[p] += g[p];
      }
    }
  const Tensor<T> dv = output_.backward(dz);
  const index_t tl = dv.size(4) - 1;
  Tensor<T> dlatent = Tensor<T>::uninitialized(dv.shape().with(4, tl));
  copy_frames(dv, 1, dlatent, 0, tl);
  for (index_t s = 0; s < n; ++s)
    for (index_t p = 0; p < plane; ++p) last_frame_grad_.data()[s * plane + p] += dv.data()[(s * plane + p) * (tl + 1)];
  return dlatent;
}

template <class T>
Tensor<T> Sfno<T>::forward_field(const Tensor<T>& x) {
  const Tensor<T> z = latent(x);
  return output_from_latent(z, x);
}

template <class T>
Tensor<T> Sfno<T>::backward_field(const Tensor<T>& dy) {
  const Tensor<T> dlatent = output_backward(dy);
  Tensor<T> dx = backbone_backward(dlatent);
  const index_t n = dx.size(0), t_in = dx.size(1), plane = dx.size(2) * dx.size(3);
  for (index_t s = 0; s < n; ++s) {
    T* frame = dx.data() + (s * t_in + t_in - 1) * plane;
    const T* g = last_frame_grad_.data() + s * plane;
    for (index_t p = 0; p < plane; ++p) frame[p] += g[p];
  }
  return dx;
}

template <class T>
void Sfno<T>::set_output_layer(SfnoOutputConv<T> layer) {
  NEUROPS_CHECK(layer.conv().spectral_bias_scale() == config_.delta, "SFNO: the new output layer's spectral bias scale "
                                                                         << layer.conv().spectral_bias_scale()
                                                                         << " differs from delta = " << config_.delta);
  config_.output_modes = layer.conv().modes();
  output_ = std::move(layer);
}

template <class T>
void Sfno<T>::set_backbone_trainable(bool on) {
  lifting_.set_trainable(on);
  for (auto& b : blocks_) b.set_trainable(on);
  reduction_.set_trainable(on);
}

template <class T>
std::vector<nn::NamedParameter<T>> Sfno<T>::backbone_parameters() {
  std::vector<nn::NamedParameter<T>> all = this->named_parameters(), out;
  for (auto& p : all)
    if (p.name.rfind("output.", 0) != 0) out.push_back(p);
  return out;
}

template <class T>
void Sfno<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("lifting", lifting_);
  for (std::size_t l = 0; l < blocks_.size(); ++l) fn("blocks." + std::to_string(l), blocks_[l]);
  fn("reduction", reduction_);
  fn("output", output_);
}

template Tensor<float> frames_to_time_axis<float>(const Tensor<float>&);
template Tensor<double> frames_to_time_axis<double>(const Tensor<double>&);
template Tensor<float> time_axis_to_frames<float>(const Tensor<float>&);
template Tensor<double> time_axis_to_frames<double>(const Tensor<double>&);
template class SfnoLifting<float>;
template class SfnoLifting<double>;
template class SfnoBlock<float>;
template class SfnoBlock<double>;
template class Sfno<float>;
template class Sfno<double>;

}  // namespace neurops::operators
