#pragma once
// Trainer for field-to-field operators (FNO, MgNO, ...): epochs of shuffled mini-batches, a
// validation metric every epoch, best-model tracking, progress with ETA, CSV/HDF5 loss curves,
// atomic checkpoints with exact resume, and MPI data parallelism.
//
// Data flow per batch: inputs are encoded by the input normalizer (fitted on the training split),
// the model's output is decoded by the output normalizer, and the loss compares the decoded output
// with the raw targets (as the FNO reference does), so the reported losses are in physical units.
//
// Data parallel: under mpirun each rank takes its contiguous share of every global batch; the
// gradients of the local mean losses are combined into the gradient of the global mean with one
// fused MPI_Allreduce; every rank steps its own optimizer (identical state); rank 0 writes logs and
// checkpoints. One rank and P ranks with the same global batch give the same losses up to rounding.
//
// Stops with an Error naming the epoch and batch on a non-finite loss or gradient.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/loss.hpp"

namespace neurops::nn {

struct TrainerOptions {
  std::int64_t epochs = 10;
  index_t batch_size = 16;       // global batch (over all ranks)
  std::uint64_t seed = 0;        // batch order: epoch e is a permutation seeded by (seed, e)
  bool scheduler_per_batch = false;  // OneCycle steps per batch; Step/Cosine per epoch
  double clip_grad_norm = 0;     // 0: no clipping
  std::filesystem::path output_dir;  // logs and checkpoints go here when set (rank 0)
  std::int64_t checkpoint_every = 1; // epochs between checkpoint.h5 writes (0: never)
  bool save_best = true;         // best.h5 holds the model with the best validation metric
  index_t eval_batch_size = 32;
  MPI_Comm comm = MPI_COMM_NULL; // MPI_COMM_NULL: this process alone
  bool verbose = true;           // progress line and per-epoch log lines
};

template <class T>
class Trainer {
 public:
  Trainer(Module<T>& model, Optimizer<T>& optimizer, LrScheduler<T>* scheduler, const Loss<T>& loss,
          TrainerOptions options, ConfigWriter write_config = {});

  /// Fits normalizers on the training split (unit Gaussian pointwise for inputs, as FNO; pass
  /// identity normalizers to disable) — call before fit() on a fresh run, not when resuming.
  void set_normalizers(Normalizer<T> input, Normalizer<T> output);
  Normalizer<T>& input_normalizer() { return input_norm_; }
  /// The validation metric (lower is better) that picks the best epoch; default: relative L2.
  void set_metric(const Loss<T>& metric) { metric_ = &metric; }
  Normalizer<T>& output_normalizer() { return output_norm_; }

  /// Trains from the current state (epoch 0, or where a resumed checkpoint left off) up to
  /// options.epochs. The validation set may be null (then no best-model tracking).
  const TrainingState& fit(const FieldDataset<T>& train, const FieldDataset<T>* validation);

  /// Metric over a dataset in evaluation mode: the mean over samples of `metric`.
  double evaluate(const FieldDataset<T>& data, const Loss<T>& metric);
  /// Model prediction in physical units: encode, forward (evaluation mode), decode.
  Tensor<T> predict(const Tensor<T>& inputs);

  void save_checkpoint(const std::filesystem::path& path);
  /// Restores model, optimizer, scheduler, normalizers and training state from a checkpoint.
  void resume(const std::filesystem::path& path);
  /// Loads the parameters of the best epoch (from best.h5, or the in-memory copy).
  void restore_best();

  const TrainingState& state() const noexcept { return state_; }
  int rank() const noexcept { return rank_; }
  int ranks() const noexcept { return size_; }

 private:
  double train_batch(const FieldDataset<T>& encoded_train, const std::vector<index_t>& batch, std::int64_t epoch,
                     index_t b);
  void write_logs() const;
  CheckpointContents<T> contents();

  Module<T>& model_;
  Optimizer<T>& optimizer_;
  LrScheduler<T>* scheduler_;
  const Loss<T>& loss_;
  TrainerOptions options_;
  ConfigWriter write_config_;
  Normalizer<T> input_norm_, output_norm_;
  TrainingState state_;
  const Loss<T>* metric_ = nullptr;
  std::unique_ptr<Module<T>> best_;
  int rank_ = 0, size_ = 1;
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace neurops::nn
