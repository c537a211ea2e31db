#pragma once
// Checkpoints in HDF5: everything needed to continue training exactly where it stopped.
//
//   /                      attributes format_version, neurops_version, model_type
//   /config                the model configuration (written by the model's own config writer)
//   /parameters/<name>     every parameter by its dotted name
//   /optimizer, /scheduler their complete state
//   /normalizers/input, /normalizers/output
//   /training              epoch, best metric and epoch, RNG state, loss/metric history
//
// The file is written under a temporary name and renamed, so a crash (or a failed write) never
// replaces an existing checkpoint with a half-written one.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/module.hpp"
#include "neurops/nn/normalizer.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/scheduler.hpp"

namespace neurops::nn {

inline constexpr std::int64_t kCheckpointFormatVersion = 1;

/// Where training stands; saved in checkpoints.
struct TrainingState {
  std::int64_t epoch = 0;  // epochs completed
  double best_metric = 1e300;
  std::int64_t best_epoch = -1;
  std::vector<double> train_loss, validation_metric, learning_rate, epoch_seconds;
  Rng::State rng{};
};

/// Writes the model configuration into a group of the checkpoint (e.g. FnoConfig::save).
using ConfigWriter = std::function<void(io::H5File&, const std::string& group)>;

template <class T>
struct CheckpointContents {
  Module<T>* model = nullptr;  // required
  const ConfigWriter* write_config = nullptr;
  Optimizer<T>* optimizer = nullptr;
  LrScheduler<T>* scheduler = nullptr;
  Normalizer<T>* input_normalizer = nullptr;
  Normalizer<T>* output_normalizer = nullptr;
  TrainingState* state = nullptr;
};

/// Saves what `c` points to (null members are skipped).
template <class T>
void save_checkpoint(const std::filesystem::path& path, const CheckpointContents<T>& c);

/// Restores into what `c` points to. The model must have the same type and parameters (names and
/// shapes) as the one saved: otherwise an Error names the checkpoint and the first parameter that
/// differs. A missing or unreadable file, another format version, or a missing optimizer/scheduler
/// state that `c` asks for are Errors too.
template <class T>
void load_checkpoint(const std::filesystem::path& path, const CheckpointContents<T>& c);

}  // namespace neurops::nn
