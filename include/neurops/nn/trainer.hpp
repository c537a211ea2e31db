#pragma once
// The one training loop of neurops: every model (FNO, MgNO, DeepONet, ...) over every Dataset (field
// pairs, DeepONet triples and their Cartesian form, ...), with a Loss that sees the prediction, the
// target and the batch's inputs.
//
//   nn::Adam<float> adam(model, {.lr = 1e-3});
//   nn::LpLoss<float> loss(2);
//   nn::Trainer<float> trainer(model, adam, &scheduler, loss, {.epochs = 20, .batch_size = 8});
//   trainer.set_normalizers(nn::Normalizer<float>::unit_gaussian(train.inputs.view(), false),
//                           nn::Normalizer<float>::unit_gaussian(train.targets.view(), false));
//   trainer.fit(train, &validation);      // progress with ETA, loss.csv, history.h5, checkpoints
//   Tensor<float> u = trainer.predict(test);
//
// Epochs of shuffled mini-batches (or the full batch); the model is evaluated every epoch, or every
// `validate_every` optimizer steps (DeepXDE's display interval), on the validation set and, when the
// best model is chosen by the training metric (DeepXDE's best_step), on the training set too. The
// best parameters are kept (in memory and in best.h5) and restored by restore_best().
//
// Data flow per batch: the first input is encoded by the input normalizer (fitted on the training
// split), the model's output is decoded by the output normalizer, and the loss compares the decoded
// output with the raw targets (as the FNO reference does), so reported losses are in physical units.
//
// Data parallel: under mpirun each rank takes its contiguous share of every global batch; the
// gradients of the local mean losses are combined into the gradient of the global mean with one
// fused MPI_Allreduce; every rank steps its own optimizer (identical state); rank 0 writes logs and
// checkpoints. One rank and P ranks with the same global batch give the same losses up to rounding.
//
// Checkpoints (checkpoint.h5 every `checkpoint_every` epochs, best.h5) are complete: a resumed run
// continues bit for bit, and operators::load_model reads them with their normalizers.
// Stops with an Error naming the epoch and batch on a non-finite loss or gradient.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/model.hpp"

namespace neurops::nn {

/// How the best parameters are chosen.
enum class BestBy {
  validation,  // lowest metric on the validation set (needs one)
  training     // lowest metric on the whole training set (DeepXDE's best_step)
};

struct TrainerOptions {
  std::int64_t epochs = 10;
  index_t batch_size = 16;          // global batch (over all ranks); 0: the full training set
  std::int64_t max_steps = 0;       // stop after this many optimizer steps (0: epochs decide)
  std::int64_t validate_every = 0;  // evaluate every this many steps (0: at the end of every epoch)
  BestBy best_by = BestBy::validation;
  std::uint64_t seed = 0;             // batch order: epoch e is a permutation seeded by (seed, e)
  bool scheduler_per_batch = false;   // OneCycle steps per batch; Step/Cosine per epoch
  double clip_grad_norm = 0;          // 0: no clipping
  std::filesystem::path output_dir;   // logs and checkpoints go here when set (rank 0)
  std::int64_t checkpoint_every = 1;  // epochs between checkpoint.h5 writes (0: never)
  bool save_best = true;              // best.h5 holds the model with the best metric
  index_t eval_batch_size = 32;
  MPI_Comm comm = MPI_COMM_NULL;  // MPI_COMM_NULL: this process alone
  bool verbose = true;            // progress line (terminal) or one line per evaluation (log file)
};

template <class T>
class Trainer {
 public:
  Trainer(Model<T>& model, Optimizer<T>& optimizer, LrScheduler<T>* scheduler, const Loss<T>& loss,
          TrainerOptions options);

  /// Normalizers fitted on the training split (unit Gaussian pointwise for inputs, as FNO); call
  /// before fit() on a fresh run. The input normalizer applies to the model's first input.
  void set_normalizers(Normalizer<T> input, Normalizer<T> output);
  Normalizer<T>& input_normalizer() { return input_norm_; }
  Normalizer<T>& output_normalizer() { return output_norm_; }
  /// The metric (lower is better) evaluated at each evaluation point and used to pick the best
  /// parameters; default: relative L2 over the spatial axes of the targets.
  void set_metric(const Loss<T>& metric) { metric_ = &metric; }

  /// Trains from the current state (step 0, or where a resumed checkpoint left off) up to
  /// options.epochs / options.max_steps. The validation set may be null (then, unless best_by is
  /// training, no best-model tracking).
  const TrainingState& fit(const Dataset<T>& train, const Dataset<T>* validation);

  /// Mean over samples of `metric` on a dataset, in evaluation mode.
  double evaluate(const Dataset<T>& data, const Loss<T>& metric);
  /// The metric set by set_metric (or relative L2) on a dataset.
  double evaluate(const Dataset<T>& data);
  /// Model predictions in physical units for every sample of a dataset: encode, forward
  /// (evaluation mode), decode; concatenated along the first axis.
  Tensor<T> predict(const Dataset<T>& data);
  /// The same for field inputs (N, C, grid...).
  Tensor<T> predict(const Tensor<T>& inputs);

  void save_checkpoint(const std::filesystem::path& path);
  /// Restores model, optimizer, scheduler, normalizers and training state from a checkpoint; the
  /// best parameters come back from best.h5 beside it (or from the checkpoint when there is none).
  void resume(const std::filesystem::path& path);
  /// Loads the parameters of the best evaluation point (in memory, or from best.h5 after a resume).
  void restore_best();

  const TrainingState& state() const noexcept { return state_; }
  int rank() const noexcept { return rank_; }
  int ranks() const noexcept { return size_; }

 private:
  double train_batch(const Dataset<T>& train, const std::vector<index_t>& batch, std::int64_t epoch, index_t b);
  /// Records one evaluation point (history, best parameters, logs) after `step` optimizer steps.
  void record(const Dataset<T>& train, const Dataset<T>* validation, double train_loss, double seconds);
  Tensor<T> run(const Batch<T>& batch);
  const Loss<T>& metric_for(const Dataset<T>& data, std::unique_ptr<Loss<T>>& holder) const;
  void write_logs() const;
  CheckpointContents<T> contents();

  Model<T>& model_;
  Optimizer<T>& optimizer_;
  LrScheduler<T>* scheduler_;
  const Loss<T>& loss_;
  const Loss<T>* metric_ = nullptr;
  TrainerOptions options_;
  Normalizer<T> input_norm_, output_norm_;
  TrainingState state_;
  std::vector<Tensor<T>> best_;  // parameter values of the best evaluation point
  std::filesystem::path resumed_from_;
  int rank_ = 0, size_ = 1;
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace neurops::nn
