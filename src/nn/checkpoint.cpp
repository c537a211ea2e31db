#include "neurops/nn/checkpoint.hpp"

#include <cstring>

#include "neurops/io/hdf5.hpp"
#include "neurops/version.hpp"

namespace neurops::nn {

namespace {
void save_rng(io::H5File& f, const std::string& group, const Rng::State& st) {
  std::vector<std::int64_t> words(4);
  for (int i = 0; i < 4; ++i) std::memcpy(&words[static_cast<std::size_t>(i)], &st.s[static_cast<std::size_t>(i)], 8);
  f.set_attr(group, "rng_state", words);
  f.set_attr(group, "rng_has_spare_normal", std::int64_t(st.has_spare_normal));
  f.set_attr(group, "rng_spare_normal", st.spare_normal);
}
Rng::State load_rng(const io::H5File& f, const std::string& group) {
  Rng::State st;
  const auto words = f.attr_ints(group, "rng_state");
  NEUROPS_CHECK(words.size() == 4, "'" << f.path().string() << "': rng_state has " << words.size() << " words, expected 4");
  for (int i = 0; i < 4; ++i) std::memcpy(&st.s[static_cast<std::size_t>(i)], &words[static_cast<std::size_t>(i)], 8);
  st.has_spare_normal = f.attr_int(group, "rng_has_spare_normal") != 0;
  st.spare_normal = f.attr_real(group, "rng_spare_normal");
  return st;
}
void write_series(io::H5File& f, const std::string& name, const std::vector<double>& v) {
  f.write(name, Tensor<double>({static_cast<index_t>(v.size())}, v), true);
}
std::vector<double> read_series(const io::H5File& f, const std::string& name) {
  const auto t = f.read<double>(name);
  return {t.begin(), t.end()};
}
}  // namespace

template <class T>
void save_checkpoint(const std::filesystem::path& path, const CheckpointContents<T>& c) {
  NEUROPS_CHECK(c.model, "save_checkpoint('" << path.string() << "'): no model given");
  auto f = io::H5File::create(path);  // temporary file, renamed on commit
  f.set_attr("/", "format_version", kCheckpointFormatVersion);
  f.set_attr("/", "neurops_version", std::string(NEUROPS_VERSION_STRING));
  f.set_attr("/", "model_type", c.model->type_name());
  f.set_attr("/", "precision", std::string(sizeof(T) == 4 ? "float32" : "float64"));
  if (c.write_config && *c.write_config) (*c.write_config)(f, "/config");
  f.create_group("/parameters");
  c.model->save_parameters(f, "/parameters");
  if (c.optimizer) c.optimizer->save_state(f, "/optimizer");
  if (c.scheduler) c.scheduler->save_state(f, "/scheduler");
  if (c.input_normalizer) c.input_normalizer->save(f, "/normalizers/input");
  if (c.output_normalizer) c.output_normalizer->save(f, "/normalizers/output");
  if (c.state) {
    const TrainingState& s = *c.state;
    f.create_group("/training");
    f.set_attr("/training", "epoch", s.epoch);
    f.set_attr("/training", "best_metric", s.best_metric);
    f.set_attr("/training", "best_epoch", s.best_epoch);
    save_rng(f, "/training", s.rng);
    write_series(f, "/training/train_loss", s.train_loss);
    write_series(f, "/training/validation_metric", s.validation_metric);
    write_series(f, "/training/learning_rate", s.learning_rate);
    write_series(f, "/training/epoch_seconds", s.epoch_seconds);
  }
  f.commit();
}

template <class T>
void load_checkpoint(const std::filesystem::path& path, const CheckpointContents<T>& c) {
  NEUROPS_CHECK(c.model, "load_checkpoint('" << path.string() << "'): no model given");
  const auto f = io::H5File::open(path);
  NEUROPS_CHECK(f.has_attr("/", "format_version"),
                "'" << path.string() << "' is not a neurops checkpoint (no format_version attribute)");
  const auto version = f.attr_int("/", "format_version");
  NEUROPS_CHECK(version == kCheckpointFormatVersion, "'" << path.string() << "': checkpoint format version " << version
                                                         << ", this build reads version " << kCheckpointFormatVersion);
  const std::string type = f.attr_string("/", "model_type");
  NEUROPS_CHECK(type == c.model->type_name(), "'" << path.string() << "' holds a " << type << " checkpoint, the model is a "
                                                  << c.model->type_name());
  c.model->load_parameters(f, "/parameters");
  if (c.optimizer) {
    NEUROPS_CHECK(f.exists("/optimizer"), "'" << path.string() << "' has no optimizer state to resume from");
    c.optimizer->load_state(f, "/optimizer");
  }
  if (c.scheduler) {
    NEUROPS_CHECK(f.exists("/scheduler"), "'" << path.string() << "' has no scheduler state to resume from");
    c.scheduler->load_state(f, "/scheduler");
  }
  if (c.input_normalizer && f.exists("/normalizers/input"))
    *c.input_normalizer = Normalizer<T>::load(f, "/normalizers/input");
  if (c.output_normalizer && f.exists("/normalizers/output"))
    *c.output_normalizer = Normalizer<T>::load(f, "/normalizers/output");
  if (c.state) {
    NEUROPS_CHECK(f.exists("/training"), "'" << path.string() << "' has no training state to resume from");
    TrainingState& s = *c.state;
    s.epoch = f.attr_int("/training", "epoch");
    s.best_metric = f.attr_real("/training", "best_metric");
    s.best_epoch = f.attr_int("/training", "best_epoch");
    s.rng = load_rng(f, "/training");
    s.train_loss = read_series(f, "/training/train_loss");
    s.validation_metric = read_series(f, "/training/validation_metric");
    s.learning_rate = read_series(f, "/training/learning_rate");
    s.epoch_seconds = read_series(f, "/training/epoch_seconds");
  }
}

template void save_checkpoint<float>(const std::filesystem::path&, const CheckpointContents<float>&);
template void save_checkpoint<double>(const std::filesystem::path&, const CheckpointContents<double>&);
template void load_checkpoint<float>(const std::filesystem::path&, const CheckpointContents<float>&);
template void load_checkpoint<double>(const std::filesystem::path&, const CheckpointContents<double>&);

}  // namespace neurops::nn
