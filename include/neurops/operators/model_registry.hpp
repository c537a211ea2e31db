#pragma once
// Model types by name: how a checkpoint's `model_type` attribute becomes a working model object.
//
// Each model type registers a factory that builds the model from the configuration group of a
// checkpoint (its own Config::load) and one that builds it from the options database under a
// prefix (Config::set_from_options). The library's types (FNO2d, FNO3d, MgNO2d, DeepONet,
// PODDeepONet, ...) are registered on first use; an application registers its own with
// register_model_type before calling load_model.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "neurops/nn/model.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::operators {

template <class T>
using ModelFromConfig = std::function<std::unique_ptr<nn::Model<T>>(const io::H5File& file, const std::string& group)>;
template <class T>
using ModelFromOptions = std::function<std::unique_ptr<nn::Model<T>>(const std::string& prefix)>;

struct ModelType {
  std::string name;         // the model's type_name(), as written in checkpoints
  std::string description;  // one line for listings
  std::string prefix;       // default options prefix ("fno_")
  ModelFromConfig<float> from_config_f;
  ModelFromConfig<double> from_config_d;
  ModelFromOptions<float> from_options_f;
  ModelFromOptions<double> from_options_d;
};

/// Adds (or replaces) a model type.
void register_model_type(ModelType type);
/// Names of every registered type, sorted.
std::vector<std::string> model_type_names();
/// Error naming `context` (e.g. the checkpoint), the unknown name and the known ones.
const ModelType& find_model_type(const std::string& name, const std::string& context);

/// The model of type `name` built from the configuration group `group` of `file`.
template <class T>
std::unique_ptr<nn::Model<T>> create_model(const std::string& name, const io::H5File& file, const std::string& group);
/// The model of type `name` configured from the options database under `prefix` (empty: the type's
/// default prefix).
template <class T>
std::unique_ptr<nn::Model<T>> create_model_from_options(const std::string& name, const std::string& prefix = "");

}  // namespace neurops::operators
