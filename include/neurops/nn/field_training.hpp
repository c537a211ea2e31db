#pragma once
// The standard recipe for field-to-field operators (FNO, MgNO) on Dirichlet or periodic data, as the
// FNO and MgNO papers train on Darcy flow: unit-Gaussian pointwise normalizers fitted on the training
// set, the relative H1 loss (or relative L2), Adam with weight decay and a OneCycle schedule stepped
// per batch, through nn::Trainer. Evaluation reports relative L2 and H1 errors in physical units.
//
//   operators::Mgno<float> model(config);
//   auto result = nn::train_field_operator(model, train, nullptr, {.epochs = 20, .lr = 1e-3});
//   neurops::save_model("mgno.h5", model, result.input_normalizer, result.output_normalizer);
//   auto errors = nn::evaluate_field_operator(neurops::load_model<float>("mgno.h5"), test);
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>

#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/model.hpp"
#include "neurops/operators/model_io.hpp"

namespace neurops::nn {

struct FieldTrainingSettings {
  std::int64_t epochs = 10;
  index_t batch_size = 8;
  double lr = 1e-3;                  // OneCycle's maximum rate
  double weight_decay = 1e-4;        // Adam's L2 penalty
  std::string loss = "h1";           // "h1" or "l2", both relative
  bool periodic = false;             // periodic differences in the H1 loss (false: Dirichlet data)
  std::uint64_t seed = 0;            // batch order
  std::filesystem::path output_dir;  // Trainer logs and checkpoints when set
  bool verbose = true;
  MPI_Comm comm = MPI_COMM_NULL;  // data-parallel training over these ranks (null: this process)
};

template <class T>
struct FieldTrainingResult {
  double seconds = 0;
  Normalizer<T> input_normalizer, output_normalizer;
  TrainingState state;
};

/// Trains `model` on `train` (validation optional: picks the best epoch when given).
template <class T>
FieldTrainingResult<T> train_field_operator(Model<T>& model, const FieldDataset<T>& train,
                                            const std::type_identity_t<FieldDataset<T>>* validation,
                                            const FieldTrainingSettings& settings);

template <class T>
struct FieldErrors {
  double relative_l2 = 0, relative_h1 = 0;  // means over the samples
  Tensor<T> predictions;                    // of every input, physical units
};

/// Relative L2 and H1 errors (non-periodic differences unless `periodic`) of a trained model on
/// `data`, through TrainedModel::predict (normalizers included).
template <class T>
FieldErrors<T> evaluate_field_operator(TrainedModel<T>& model, const FieldDataset<T>& data, bool periodic = false);
template <class T>
FieldErrors<T> evaluate_field_operator(TrainedModel<T>&& model, const FieldDataset<T>& data, bool periodic = false) {
  return evaluate_field_operator(model, data, periodic);
}

}  // namespace neurops::nn
