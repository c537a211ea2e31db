#include "neurops/operators/model_io.hpp"

#include "neurops/core/strings.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/operators/model_registry.hpp"

namespace neurops {

template <class T>
TrainedModel<T>::TrainedModel(std::unique_ptr<nn::Model<T>> model, nn::Normalizer<T> input, nn::Normalizer<T> output,
                              std::filesystem::path path)
    : model_(std::move(model)), input_(std::move(input)), output_(std::move(output)), path_(std::move(path)) {
  NEUROPS_CHECK(model_, "TrainedModel: no model");
  model_->eval();
}

template <class T>
void TrainedModel<T>::check_inputs(const nn::Inputs<T>& inputs) const {
  const std::string where = "'" + path_.string() + "' (" + type() + ")";
  const auto names = model_->input_names();
  NEUROPS_CHECK(inputs.size() == names.size(),
                where << ": expected " << names.size() << " inputs (" << join(names) << "), found " << inputs.size());
  const Tensor<T>& x = inputs[0];
  const index_t channels = names.size() == 1 ? (x.rank() >= 3 ? x.size(1) : -1) : (x.rank() == 2 ? x.size(1) : -1);
  if (names.size() == 1) {
    NEUROPS_CHECK(x.rank() >= 3 && channels == in_channels(),
                  where << ": expected an input (N, " << in_channels() << ", grid...), found " << x.shape());
  } else {
    NEUROPS_CHECK(channels == in_channels(),
                  where << ": expected the " << names[0] << " input (N, " << in_channels() << "), found " << x.shape());
  }
  // A pointwise normalizer holds statistics per grid point: the input must be on the training grid.
  if (input_.kind() == nn::Normalizer<T>::Kind::gaussian_pointwise) {
    const Shape& stats = input_.statistics_shape();
    const Shape sample = x.shape().tail(1);
    NEUROPS_CHECK(stats == sample, where << ": the input normalizer is pointwise on samples of shape " << stats
                                         << " (the training grid), the input has samples of shape " << sample);
  }
}

template <class T>
Tensor<T> TrainedModel<T>::predict(const nn::Inputs<T>& inputs, index_t batch) {
  check_inputs(inputs);
  NEUROPS_CHECK(batch >= 1, "predict: batch must be >= 1, found " << batch);
  const index_t n = inputs[0].size(0);
  Tensor<T> out;
  for (index_t b = 0; b < n; b += batch) {
    const index_t e = std::min(n, b + batch);
    // Every input with one row per sample is cut into the batch; shared inputs (DeepONet's
    // Cartesian query points (1, P, d)) go whole.
    std::vector<Tensor<T>> part;
    for (std::size_t k = 0; k < inputs.size(); ++k)
      part.push_back(inputs[k].size(0) == n && (k == 0 || n > 1) ? Tensor<T>(inputs[k].slice(b, e)) : inputs[k]);
    input_.encode(part[0]);
    Tensor<T> y;
    try {
      y = model_->forward(nn::Inputs<T>(part));
    } catch (const Error& err) {
      throw Error(err.file().c_str(), err.line(), "'" + path_.string() + "': " + err.message());
    }
    output_.decode(y);
    if (out.empty()) out = Tensor<T>::uninitialized(y.shape().with(0, n));
    std::copy(y.begin(), y.end(), out.data() + b * y.shape().tail_numel(1));
  }
  return out;
}

template <class T>
void save_model(const std::filesystem::path& path, nn::Model<T>& model, const nn::Normalizer<T>& input_normalizer,
                const nn::Normalizer<T>& output_normalizer) {
  nn::Normalizer<T> in = input_normalizer, out = output_normalizer;
  nn::CheckpointContents<T> c;
  c.model = &model;
  c.input_normalizer = &in;
  c.output_normalizer = &out;
  nn::save_checkpoint(path, c);
}

template <class T>
TrainedModel<T> load_model(const std::filesystem::path& path) {
  std::unique_ptr<nn::Model<T>> model;
  {
    const auto f = io::H5File::open(path);
    nn::checkpoint_format_version(f);
    NEUROPS_CHECK(f.has_attr("/", "model_type"), "'" << path.string() << "' has no model_type attribute");
    const std::string type = f.attr_string("/", "model_type");
    model = operators::create_model<T>(type, f, "/config");
  }
  nn::Normalizer<T> in, out;
  nn::CheckpointContents<T> c;
  c.model = model.get();
  c.input_normalizer = &in;
  c.output_normalizer = &out;
  nn::load_checkpoint(path, c);
  return TrainedModel<T>(std::move(model), std::move(in), std::move(out), path);
}

template class TrainedModel<float>;
template class TrainedModel<double>;
template void save_model<float>(const std::filesystem::path&, nn::Model<float>&, const nn::Normalizer<float>&,
                                const nn::Normalizer<float>&);
template void save_model<double>(const std::filesystem::path&, nn::Model<double>&, const nn::Normalizer<double>&,
                                 const nn::Normalizer<double>&);
template TrainedModel<float> load_model<float>(const std::filesystem::path&);
template TrainedModel<double> load_model<double>(const std::filesystem::path&);

}  // namespace neurops
