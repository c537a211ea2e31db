#pragma once
// Checkpoints in HDF5: everything needed to continue training exactly where it stopped.
//
//   /                      attributes format_version, neurops_version, model_type, precision
//   /config                the model configuration (Model::save_config), attribute training_grid
//   /parameters/<name>     every parameter by its dotted name
//   /optimizer, /scheduler their complete state
//   /normalizers/input, /normalizers/output
//   /training              step, epoch, best metric and step, RNG state, the history of evaluation
//                          points (step, train loss, train/validation metric, learning rate, seconds)
//
// The file is written under a temporary name and renamed, so a crash (or a failed write) never
// replaces an existing checkpoint with a half-written one.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/model.hpp"
#include "neurops/nn/normalizer.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/scheduler.hpp"

namespace neurops::nn {

/// Version 2: the training history is kept per evaluation point (version 1 files still load for
/// inference, but their training state cannot be resumed).
inline constexpr std::int64_t kCheckpointFormatVersion = 2;

/// Where training stands; saved in checkpoints. The history has one entry per evaluation point
/// (every epoch, or every `validate_every` steps); a metric that was not computed is NaN.
struct TrainingState {
  std::int64_t step = 0;   // optimizer steps taken
  std::int64_t epoch = 0;  // epochs completed
  double best_metric = 1e300;
  std::int64_t best_step = -1;   // step of the best evaluation point (-1: none yet)
  std::int64_t best_epoch = -1;  // epoch in which it fell (1-based)
  std::vector<double> steps, train_loss, train_metric, validation_metric, learning_rate, seconds;
  double pending_loss = 0, pending_samples = 0;  // batch losses since the last evaluation point
  Rng::State rng{};

  std::size_t points() const { return steps.size(); }
};

template <class T>
struct CheckpointContents {
  Model<T>* model = nullptr;  // required
  Optimizer<T>* optimizer = nullptr;
  LrScheduler<T>* scheduler = nullptr;
  Normalizer<T>* input_normalizer = nullptr;
  Normalizer<T>* output_normalizer = nullptr;
  TrainingState* state = nullptr;
};

/// The format version of an open checkpoint; Error naming the file when it is not a checkpoint or
/// was written by a newer neurops.
std::int64_t checkpoint_format_version(const io::H5File& file);

/// Saves what `c` points to (null members are skipped).
template <class T>
void save_checkpoint(const std::filesystem::path& path, const CheckpointContents<T>& c);

/// Restores into what `c` points to. The model must have the same type and parameters (names and
/// shapes) as the one saved: otherwise an Error names the checkpoint and the first parameter that
/// differs. A missing or unreadable file, another format version, a missing optimizer, scheduler,
/// normalizer or training state that `c` asks for, non-finite parameters, and a training state
/// whose counters or history series disagree are Errors too, each naming the file.
template <class T>
void load_checkpoint(const std::filesystem::path& path, const CheckpointContents<T>& c);

}  // namespace neurops::nn
