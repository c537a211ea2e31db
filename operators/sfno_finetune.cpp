#include "neurops/operators/sfno_finetune.hpp"

#include <cmath>
#include <sstream>

#include "neurops/core/error.hpp"
#include "neurops/core/options.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/core/strings.hpp"
#include "neurops/nn/trajectory_error.hpp"

namespace neurops::operators {

namespace {

std::string grid_text(index_t n0, index_t n1) { return std::to_string(n0) + "x" + std::to_string(n1); }

void check_finite(const Tensor<double>& x) {
  for (index_t i = 0; i < x.numel(); ++i)
    NEUROPS_CHECK(std::isfinite(x.data()[i]), "SpectralRefiner: input frames "
                                                  << x.shape() << " hold a non-finite value " << x.data()[i]
                                                  << " at flat index " << i);
}

/// The fine-tuning layer: the trained layer's weights and biases in the low modes; with a delta other
/// than the trained one the copied biases are not rescaled (OutConvFT._update_spectral_conv_weights).
SfnoOutputConv<double> make_layer(SfnoOutputConv<double>& trained, const SpectralRefinerSettings& s) {
  SfnoOutputConv<double> kept = fine_tuning_output_layer(trained, s.modes, s.new_modes, s.seed);
  if (s.keep_trained_delta || s.delta == kept.conv().spectral_bias_scale()) return kept;
  SfnoOutputConv<double> layer(s.modes, s.delta, s.seed);
  nn::SpectralConv<double>& to = layer.conv();
  for (int c = 0; c < to.corners(); ++c) {
    to.weight(c).value = kept.conv().weight(c).value;
    to.spectral_bias(c).value = kept.conv().spectral_bias(c).value;
  }
  layer.set_frames(kept.frames());
  return layer;
}

}  // namespace

void SpectralRefinerSettings::set_from_options(const std::string& prefix) {
  Options opt("Spectral-Refiner fine-tuning", prefix);
  std::vector<std::int64_t> m(modes.begin(), modes.end());
  m = opt.integers("modes", m, "modes (x, y, t) of the fine-tuning output layer");
  modes.assign(m.begin(), m.end());
  keep_trained_delta = opt.flag("keep_trained_delta", keep_trained_delta,
                                "keep the trained layer's delta (initial layer = trained output) instead of -" +
                                    prefix + "delta with the biases copied unscaled (the reference)");
  delta = opt.real("delta", delta, "delta of the fine-tuning layer (unless keep_trained_delta)");
  new_modes = opt.choice("new_modes", new_modes == NewModes::zero ? "zero" : "reference", {"reference", "zero"},
                         "initialisation of the added modes (reference: xavier_uniform gain 1e-6)") == "zero"
                  ? NewModes::zero
                  : NewModes::reference;
  iterations = opt.integer("iterations", iterations, "Adam iterations", 0, 1000000);
  bias_lr = opt.real("bias_lr", bias_lr, "Adam learning rate of the spectral biases");
  weight_lr = opt.real("weight_lr", weight_lr, "Adam learning rate of the spectral weights");
  seed = static_cast<std::uint64_t>(opt.integer("seed", static_cast<std::int64_t>(seed), "seed of the added modes"));
  residual.dt = opt.real("dt", residual.dt, "IMEX step h of the residual's time derivative (reference_imex)");
  residual.alpha = opt.real("alpha", residual.alpha, "alpha of the residual's Sobolev norm");
  validate();
}

void SpectralRefinerSettings::validate() const {
  NEUROPS_CHECK(modes.size() == 3 && modes[0] >= 1 && modes[1] >= 1 && modes[2] >= 1,
                "SpectralRefiner: modes " << format_tuple(modes) << " must be three positive numbers (x, y, t)");
  NEUROPS_CHECK(iterations >= 0, "SpectralRefiner: iterations must be >= 0, found " << iterations);
  NEUROPS_CHECK(std::isfinite(delta) && delta > 0, "SpectralRefiner: delta must be finite and > 0, found " << delta);
  NEUROPS_CHECK(std::isfinite(bias_lr) && bias_lr >= 0 && std::isfinite(weight_lr) && weight_lr >= 0,
                "SpectralRefiner: bias_lr " << bias_lr << " and weight_lr " << weight_lr << " must be finite and >= 0");
}

SpectralRefiner::SpectralRefiner(Sfno<double>& model, const Tensor<double>& x, SpectralRefinerSettings settings)
    : settings_(std::move(settings)),
      output_steps_(model.output_steps()),
      layer_(std::vector<index_t>{1, 1, 1}, 1.0, 0),
      residual_(4) {
  settings_.validate();
  const SfnoConfig& c = model.config();
  NEUROPS_CHECK(x.rank() == 4, "SpectralRefiner: input frames " << x.shape() << " must be (N, t_in, n, n)");
  const index_t n = x.size(2);
  NEUROPS_CHECK(x.size(0) >= 1 && x.size(3) == n,
                "SpectralRefiner: input frames " << x.shape() << " must be (N >= 1, t_in, n, n) on a square grid");
  NEUROPS_CHECK(x.size(1) >= c.input_steps, "SpectralRefiner: input frames " << x.shape() << " hold " << x.size(1)
                                                                             << " frames; the model needs "
                                                                             << c.input_steps << " (SFNO input_steps)");
  check_finite(x);
  std::vector<index_t> trained = model.training_grid();
  if (trained.empty() && settings_.training_grid > 0) trained = {settings_.training_grid, settings_.training_grid};
  for (std::size_t a = 0; a < trained.size() && a < 2; ++a)
    NEUROPS_CHECK(x.size(2 + static_cast<int>(a)) >= trained[a],
                  "SpectralRefiner: the fine grid " << grid_text(n, n) << " is smaller than the training grid "
                                                    << format_tuple(trained) << ": refine on a grid at least as fine");
  NEUROPS_CHECK(2 * settings_.modes[0] <= n && 2 * settings_.modes[1] <= n,
                "SpectralRefiner: modes " << format_tuple(settings_.modes) << " need a grid of at least "
                                          << 2 * std::max(settings_.modes[0], settings_.modes[1])
                                          << " points per side, the fine grid is " << grid_text(n, n));
  // The layer sees [last frame, latent] zero-padded to twice its frames: half-spectrum of that length.
  const index_t t_half = (2 * (c.latent_steps + 1)) / 2 + 1;
  NEUROPS_CHECK(settings_.modes[2] <= t_half, "SpectralRefiner: modes_t " << settings_.modes[2] << " exceeds the "
                                                                          << t_half << " time modes of the "
                                                                          << c.latent_steps + 1 << " frames");

  // 1. The frozen backbone's latent, once (evaluation mode: nothing cached for a backward pass).
  model.set_backbone_trainable(false);
  const bool was_training = model.training();
  model.eval();
  latent_ = model.latent(x);
  model.train(was_training);
  const index_t batch = x.size(0), t_in = x.size(1), plane = n * n, tl = latent_.size(4);
  x_last_ = Tensor<double>::uninitialized({batch, n, n});
  input_ = Tensor<double>::uninitialized(latent_.shape().with(4, tl + 1));
  copy_frames(latent_, 0, input_, 1, tl);
  for (index_t s = 0; s < batch; ++s)
    for (index_t p = 0; p < plane; ++p) {
      const double v = x.data()[(s * t_in + t_in - 1) * plane + p];
      x_last_.data()[s * plane + p] = v;
      input_.data()[(s * plane + p) * (tl + 1)] = v;
    }
  // 2. The fine-tuning output layer.
  layer_ = make_layer(model.output_layer(), settings_);
  layer_.set_frames(output_steps_ + 1);
  residual_ = pde::NsResidual(n, settings_.residual);
}

Tensor<double> SpectralRefiner::assemble(const Tensor<double>& z) const {
  // y = last input frame + the last output_steps frames of the layer's output (as Sfno::output_from_latent).
  const index_t batch = x_last_.size(0), n = x_last_.size(1), plane = n * n, S = output_steps_ + 1;
  Tensor<double> y = Tensor<double>::uninitialized({batch, output_steps_, n, n});
  for (index_t s = 0; s < batch; ++s)
    for (index_t j = 0; j < output_steps_; ++j) {
      const double* frame = x_last_.data() + s * plane;
      const double* zs = z.data() + s * plane * S + j + 1;
      double* out = y.data() + (s * output_steps_ + j) * plane;
      for (index_t p = 0; p < plane; ++p) out[p] = frame[p] + zs[p * S];
    }
  return y;
}

Tensor<double> SpectralRefiner::predict() { return assemble(layer_.forward(input_)); }

double SpectralRefiner::loss() { return residual_.norms(predict()).total; }

double SpectralRefiner::loss_and_gradient(Tensor<double>* prediction) {
  layer_.train();
  const Tensor<double> y = predict();
  Tensor<double> dy;
  const double value = residual_.value_and_gradient(y, dy);
  // Frame 0 of the layer's output is not part of the prediction.
  const index_t batch = y.size(0), plane = y.size(2) * y.size(3), S = output_steps_ + 1;
  Tensor<double> dz({batch, 1, y.size(2), y.size(3), S});
  for (index_t s = 0; s < batch; ++s)
    for (index_t j = 0; j < output_steps_; ++j) {
      const double* g = dy.data() + (s * output_steps_ + j) * plane;
      double* to = dz.data() + s * plane * S + j + 1;
      for (index_t p = 0; p < plane; ++p) to[p * S] = g[p];
    }
  layer_.backward(dz);
  if (prediction) *prediction = y;
  return value;
}

Refinement SpectralRefiner::run(const Tensor<double>* truth) {
  Refinement r;
  RefinementHistory& h = r.history;
  // Two parameter groups as the notebook: the spectral biases move fast, the weights slowly.
  const std::vector<nn::ParamGroupSpec> groups{
      {"spectral_bias", [](const std::string& name) { return name.find("spectral_bias") != std::string::npos; },
       settings_.bias_lr, std::nullopt},
      {"weight", [](const std::string& name) { return name.find("spectral_bias") == std::string::npos; },
       settings_.weight_lr, std::nullopt}};
  nn::Adam<double> adam(layer_, nn::AdamOptions{.lr = settings_.weight_lr}, groups);
  auto record = [&](double residual, const Tensor<double>& y) {
    h.residual.push_back(residual);
    if (!truth) return;
    const nn::TrajectoryErrors e = nn::trajectory_errors(y, *truth);
    h.relative_l2.push_back(e.mean_relative_l2);
    h.bochner_l2.push_back(e.mean_bochner_l2);
  };
  if (truth)
    NEUROPS_CHECK(truth->rank() == 4 && truth->size(0) == x_last_.size(0) && truth->size(1) == output_steps_ &&
                      truth->size(2) == x_last_.size(1) && truth->size(3) == x_last_.size(2),
                  "SpectralRefiner: truth " << truth->shape() << " must be (" << x_last_.size(0) << ", "
                                            << output_steps_ << ", " << x_last_.size(1) << ", " << x_last_.size(2)
                                            << ")");
  Timer timer;
  Progress progress(settings_.iterations, "fine-tune");
  for (index_t it = 0; it < settings_.iterations; ++it) {
    adam.zero_grad();
    Tensor<double> y;
    const double value = loss_and_gradient(&y);  // the loss of the current iterate, as the notebook logs it
    if (it == 0) r.initial = y;
    record(value, y);
    adam.step();
    if (settings_.progress) {
      std::ostringstream status;
      status << "residual " << value;
      progress.update(it + 1, status.str());
    }
  }
  r.prediction = predict();
  record(residual_.norms(r.prediction).total, r.prediction);
  if (settings_.iterations == 0) r.initial = r.prediction;
  h.seconds = timer.seconds();
  if (settings_.progress) progress.finish();
  return r;
}

Sfno<double>& as_sfno(nn::Model<double>& model, const std::string& what) {
  auto* sfno = dynamic_cast<Sfno<double>*>(&model);
  NEUROPS_CHECK(sfno, what << " holds a " << model.type_name() << " model; the Spectral-Refiner needs an SFNO");
  return *sfno;
}

}  // namespace neurops::operators
