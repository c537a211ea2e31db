#pragma once
// The Spectral-Refiner's fine-tuning (Cao et al., ICLR 2025; torch-cfd fno/finetune.py OutConvFT and
// examples/ex2_SFNO_finetune_fnodata.ipynb): a trained SFNO's prediction of one fine-grid trajectory
// is improved, without ground truth, by training only a larger output layer against the
// Navier-Stokes residual of the prediction (pde/ns_residual.hpp).
//
//   1. freeze the backbone and compute its latent on the fine grid once (it does not change);
//   2. build the fine-tuning output layer: the trained layer's weights and spectral biases in the low
//      modes of a layer with `modes` (default the notebook's (64, 64, 6)), the other modes
//      xavier_uniform with gain 1e-6 (seeded);
//   3. `iterations` Adam steps (spectral biases lr 2e-1, weights lr 1e-4: two parameter groups) on
//      the residual norm of the predicted frames, recording the residual and, when the truth is
//      given, the error of every iterate.
//
// The notebook builds its layer with delta = 1 but copies the trained biases unscaled, so at
// iteration 0 the biases act 1 / delta_trained (10x) stronger than in the trained model: its
// "before" is not the trained model's prediction. keep_trained_delta = true keeps the trained delta
// instead, and the layer then reproduces the trained model's output exactly at initialisation (with
// NewModes::zero; with the reference's 1e-9 fill up to that perturbation).
//
//   operators::SpectralRefiner refiner(sfno, x);          // x: (1, 10, 256, 256) input frames
//   operators::Refinement r = refiner.run(&truth);        // truth: (1, 40, 256, 256), optional
//   r.prediction, r.history.residual.back(), r.history.bochner_l2.back()
#include <cstdint>
#include <string>
#include <vector>

#include "neurops/nn/model.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/operators/sfno.hpp"
#include "neurops/operators/sfno_output.hpp"
#include "neurops/pde/ns_residual.hpp"

namespace neurops::operators {

struct SpectralRefinerSettings {
  std::vector<index_t> modes{64, 64, 6};  // modes of the fine-tuning output layer (the notebook's modes_ft)
  bool keep_trained_delta = false;        // false: delta = `delta` with the biases copied unscaled (notebook)
  double delta = 1.0;                     // the fine-tuning layer's delta unless keep_trained_delta
  NewModes new_modes = NewModes::reference;
  index_t iterations = 50;
  double bias_lr = 2e-1;    // Adam lr of the spectral biases
  double weight_lr = 1e-4;  // Adam lr of the spectral weights
  std::uint64_t seed = 0;   // of the new modes' initialisation
  /// Smallest accepted fine grid when the model does not record its training grid (0: any).
  index_t training_grid = 0;
  /// The loss: the notebook's reference_imex residual (dt 1e-6, bdf_weight (0.5, 0.5), alpha 10^-1.5,
  /// SobolevLoss norm_order -1).
  pde::NsResidualSettings residual{};
  bool progress = false;  // progress line with ETA over the iterations

  /// Reads `-<prefix>modes 64,64,6`, `-<prefix>iterations`, `-<prefix>keep_trained_delta`, ...; `-help` lists them.
  void set_from_options(const std::string& prefix = "refine_");
  /// Error naming the field when a value is out of range.
  void validate() const;
};

struct RefinementHistory {
  // One entry per iterate: index 0 is the initial layer, index k the layer after k Adam steps.
  std::vector<double> residual;     // the loss (residual norm)
  std::vector<double> relative_l2;  // with a truth: plain relative L2 error (nn/trajectory_error.hpp)
  std::vector<double> bochner_l2;   // with a truth: time-averaged relative Bochner L2 (the reference's)
  double seconds = 0;               // wall time of the iterations (the latent excluded)
};

struct Refinement {
  Tensor<double> initial;     // (N, T_out, n, n): the prediction before fine-tuning
  Tensor<double> prediction;  // (N, T_out, n, n): after
  RefinementHistory history;
};

class SpectralRefiner {
 public:
  /// x: (N, t_in, n, n) input frames on the fine grid (n >= the training grid). Freezes the model's
  /// backbone and caches its latent; the model's own output layer is left as it is. Errors name the
  /// shape, the option or the value when x or the settings do not fit the model.
  SpectralRefiner(Sfno<double>& model, const Tensor<double>& x, SpectralRefinerSettings settings = {});

  /// The current layer's prediction (N, T_out, n, n).
  Tensor<double> predict();
  /// The residual norm of the current prediction.
  double loss();
  /// The loss; accumulates its gradient into the fine-tuning layer's parameters and returns the
  /// prediction it was computed from when asked.
  double loss_and_gradient(Tensor<double>* prediction = nullptr);
  /// Runs settings.iterations Adam steps from the current layer.
  Refinement run(const Tensor<double>* truth = nullptr);

  SfnoOutputConv<double>& layer() noexcept { return layer_; }
  const Tensor<double>& latent() const noexcept { return latent_; }
  const SpectralRefinerSettings& settings() const noexcept { return settings_; }

 private:
  Tensor<double> assemble(const Tensor<double>& z) const;

  SpectralRefinerSettings settings_;
  index_t output_steps_;
  Tensor<double> x_last_;  // (N, n, n): the last input frame
  Tensor<double> latent_;  // (N, 1, n, n, latent_steps)
  Tensor<double> input_;   // (N, 1, n, n, latent_steps + 1): [last frame, latent], the layer's input
  SfnoOutputConv<double> layer_;
  pde::NsResidual residual_;
};

/// The model as an SFNO; error naming `what` (e.g. the checkpoint file) and its type otherwise.
Sfno<double>& as_sfno(nn::Model<double>& model, const std::string& what);

}  // namespace neurops::operators
