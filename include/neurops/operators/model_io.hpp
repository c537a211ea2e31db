#pragma once
// Saving and loading trained models: the one way to persist a model and apply it later.
//
//   neurops::save_model("mgno.h5", model, input_normalizer, output_normalizer);
//   ...
//   auto model = neurops::load_model<float>("mgno.h5");     // any registered type, normalizers included
//   Tensor<float> u = model.predict(a);                     // a: (N, 1, 64, 64) in physical units
//   std::printf("%s: %lld -> %lld channels\n", model.type().c_str(), model.in_channels(), model.out_channels());
//
// The file is a neurops checkpoint (nn/checkpoint.hpp, docs/file-formats.md): the model type, its
// configuration, its parameters and both normalizers (the identity when none was given). Files the
// Trainer writes (checkpoint.h5, best.h5) load the same way. A checkpoint saved in float32 loads as
// a double model and the other way round.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "neurops/nn/model.hpp"
#include "neurops/nn/normalizer.hpp"

namespace neurops {

/// A trained model with the normalizers it was trained with.
template <class T>
class TrainedModel {
 public:
  TrainedModel(std::unique_ptr<nn::Model<T>> model, nn::Normalizer<T> input, nn::Normalizer<T> output,
               std::filesystem::path path);

  /// Encodes the first input, runs the model in evaluation mode (in batches of `batch` samples),
  /// decodes the output: physical units in and out. Errors name the file and the expected and found
  /// shapes when the inputs do not fit the model.
  Tensor<T> predict(const nn::Inputs<T>& inputs, index_t batch = 32);

  /// The registered type name ("FNO2d", "MgNO2d", "DeepONet", ...).
  std::string type() const { return model_->type_name(); }
  index_t in_channels() const { return model_->in_channels(); }
  index_t out_channels() const { return model_->out_channels(); }
  std::vector<std::string> input_names() const { return model_->input_names(); }
  /// The spatial grid of the training data (empty when the file does not say).
  const std::vector<index_t>& grid() const { return model_->training_grid(); }
  const std::filesystem::path& path() const noexcept { return path_; }

  nn::Model<T>& model() { return *model_; }
  const nn::Normalizer<T>& input_normalizer() const noexcept { return input_; }
  const nn::Normalizer<T>& output_normalizer() const noexcept { return output_; }

 private:
  void check_inputs(const nn::Inputs<T>& inputs) const;
  std::unique_ptr<nn::Model<T>> model_;
  nn::Normalizer<T> input_, output_;
  std::filesystem::path path_;
};

/// Writes model, configuration and normalizers (identity when omitted) atomically to `path`.
template <class T>
void save_model(const std::filesystem::path& path, nn::Model<T>& model, const nn::Normalizer<T>& input_normalizer,
                const nn::Normalizer<T>& output_normalizer);
template <class T>
void save_model(const std::filesystem::path& path, nn::Model<T>& model) {
  save_model(path, model, nn::Normalizer<T>(), nn::Normalizer<T>());
}

/// Reads a model of any registered type with its normalizers. An unknown model type, a newer format
/// version, missing normalizers or parameters that do not fit the configuration are Errors naming
/// the file and both values.
template <class T>
TrainedModel<T> load_model(const std::filesystem::path& path);

extern template class TrainedModel<float>;
extern template class TrainedModel<double>;

}  // namespace neurops
