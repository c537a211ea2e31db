#include "neurops/nn/checkpoint.hpp"

#include <cmath>

#include "neurops/io/hdf5.hpp"
#include "neurops/version.hpp"

namespace neurops::nn {

namespace {
void save_rng(io::H5File& f, const std::string& group, const Rng::State& st) {
  const auto words = st.signed_words();
  f.set_attr(group, "rng_state", std::vector<std::int64_t>(words.begin(), words.end()));
  f.set_attr(group, "rng_has_spare_normal", std::int64_t(st.has_spare_normal));
  f.set_attr(group, "rng_spare_normal", st.spare_normal);
}
Rng::State load_rng(const io::H5File& f, const std::string& group) {
  Rng::State st;
  const auto words = f.attr_ints(group, "rng_state");
  NEUROPS_CHECK(words.size() == 4,
                "'" << f.path().string() << "': rng_state has " << words.size() << " words, expected 4");
  st.set_signed_words(words.data());
  st.has_spare_normal = f.attr_int(group, "rng_has_spare_normal") != 0;
  st.spare_normal = f.attr_real(group, "rng_spare_normal");
  return st;
}
void write_series(io::H5File& f, const std::string& name, const std::vector<double>& v) {
  f.write(name, Tensor<double>({static_cast<index_t>(v.size())}, v), true);
}
std::vector<double> read_series(const io::H5File& f, const std::string& name) {
  const auto t = f.read<double>(name);
  NEUROPS_CHECK(t.rank() == 1,
                "'" << f.path().string() << "': " << name << " must be one-dimensional, found " << t.shape());
  return {t.begin(), t.end()};
}

const char* const kSeries[] = {"steps", "train_loss", "train_metric", "validation_metric", "learning_rate", "seconds"};

std::vector<double>* series_of(TrainingState& s, const std::string& name) {
  if (name == "steps") return &s.steps;
  if (name == "train_loss") return &s.train_loss;
  if (name == "train_metric") return &s.train_metric;
  if (name == "validation_metric") return &s.validation_metric;
  if (name == "learning_rate") return &s.learning_rate;
  return &s.seconds;
}

void save_state(io::H5File& f, TrainingState s) {
  f.create_group("/training");
  f.set_attr("/training", "step", s.step);
  f.set_attr("/training", "epoch", s.epoch);
  f.set_attr("/training", "best_metric", s.best_metric);
  f.set_attr("/training", "best_step", s.best_step);
  f.set_attr("/training", "best_epoch", s.best_epoch);
  f.set_attr("/training", "pending_loss", s.pending_loss);
  f.set_attr("/training", "pending_samples", s.pending_samples);
  save_rng(f, "/training", s.rng);
  for (const char* name : kSeries) write_series(f, std::string("/training/") + name, *series_of(s, name));
}

// Reads and checks the training state: counters in range, every history series of one length,
// steps increasing. A checkpoint that fails any of these would resume into a silently wrong run.
TrainingState load_state(const io::H5File& f) {
  const std::string file = "'" + f.path().string() + "'";
  NEUROPS_CHECK(f.exists("/training"), file << " has no training state to resume from");
  TrainingState s;
  s.step = f.attr_int("/training", "step");
  s.epoch = f.attr_int("/training", "epoch");
  s.best_metric = f.attr_real("/training", "best_metric");
  s.best_step = f.attr_int("/training", "best_step");
  s.best_epoch = f.attr_int("/training", "best_epoch");
  s.pending_loss = f.attr_real("/training", "pending_loss");
  s.pending_samples = f.attr_real("/training", "pending_samples");
  s.rng = load_rng(f, "/training");
  constexpr std::int64_t kMax = std::int64_t(1) << 40;
  NEUROPS_CHECK(s.step >= 0 && s.step < kMax && s.epoch >= 0 && s.epoch <= s.step,
                file << ": training state has step " << s.step << " and epoch " << s.epoch
                     << ", expected 0 <= epoch <= step < 2^40");
  NEUROPS_CHECK(s.best_step >= -1 && s.best_step <= s.step,
                file << ": best step " << s.best_step << " is outside [-1, " << s.step << "]");
  NEUROPS_CHECK(std::isfinite(s.pending_loss) && s.pending_samples >= 0,
                file << ": pending loss " << s.pending_loss << " over " << s.pending_samples << " samples is invalid");
  for (const char* name : kSeries) *series_of(s, name) = read_series(f, std::string("/training/") + name);
  for (const char* name : kSeries)
    NEUROPS_CHECK(series_of(s, name)->size() == s.steps.size(),
                  file << ": /training/" << name << " has " << series_of(s, name)->size()
                       << " entries, /training/steps has " << s.steps.size() << "; expected one per evaluation point");
  for (std::size_t i = 0; i < s.steps.size(); ++i)
    NEUROPS_CHECK(
        s.steps[i] >= 1 && s.steps[i] <= double(s.step) && (i == 0 || s.steps[i] > s.steps[i - 1]),
        file << ": /training/steps[" << i << "] = " << s.steps[i] << " is not increasing within [1, " << s.step << "]");
  return s;
}

template <class T>
void check_finite_parameters(ModuleBase<T>& model, const std::string& file) {
  for (auto& p : model.named_parameters())
    NEUROPS_CHECK(p.param->value.vec().allFinite(), file << ": parameter '" << p.name << "' holds NaN or Inf values");
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
  c.model->save_config(f, "/config");
  if (!f.exists("/config")) f.create_group("/config");
  const auto& grid = c.model->training_grid();
  f.set_attr("/config", "training_grid", std::vector<std::int64_t>(grid.begin(), grid.end()));
  f.create_group("/parameters");
  c.model->save_parameters(f, "/parameters");
  if (c.optimizer) c.optimizer->save_state(f, "/optimizer");
  if (c.scheduler) c.scheduler->save_state(f, "/scheduler");
  if (c.input_normalizer) c.input_normalizer->save(f, "/normalizers/input");
  if (c.output_normalizer) c.output_normalizer->save(f, "/normalizers/output");
  if (c.state) save_state(f, *c.state);
  f.commit();
}

std::int64_t checkpoint_format_version(const io::H5File& f) {
  const std::string file = "'" + f.path().string() + "'";
  NEUROPS_CHECK(f.has_attr("/", "format_version"),
                file << " is not a neurops checkpoint (no format_version attribute)");
  const auto version = f.attr_int("/", "format_version");
  NEUROPS_CHECK(version >= 1 && version <= kCheckpointFormatVersion,
                file << ": checkpoint format version " << version << ", this build reads versions 1 to "
                     << kCheckpointFormatVersion
                     << (version > kCheckpointFormatVersion ? " (written by a newer neurops)" : ""));
  return version;
}

template <class T>
void load_checkpoint(const std::filesystem::path& path, const CheckpointContents<T>& c) {
  NEUROPS_CHECK(c.model, "load_checkpoint('" << path.string() << "'): no model given");
  const auto f = io::H5File::open(path);
  const std::string file = "'" + path.string() + "'";
  const auto version = checkpoint_format_version(f);
  const std::string type = f.attr_string("/", "model_type");
  NEUROPS_CHECK(type == c.model->type_name(),
                file << " holds a " << type << " checkpoint, the model is a " << c.model->type_name());
  c.model->load_parameters(f, "/parameters");
  check_finite_parameters(*c.model, file);
  if (f.has_attr("/config", "training_grid")) {
    const auto grid = f.attr_ints("/config", "training_grid");
    c.model->set_training_grid(std::vector<index_t>(grid.begin(), grid.end()));
  }
  if (c.optimizer) {
    NEUROPS_CHECK(f.exists("/optimizer"), file << " has no optimizer state to resume from");
    c.optimizer->load_state(f, "/optimizer");
  }
  if (c.scheduler) {
    NEUROPS_CHECK(f.exists("/scheduler"), file << " has no scheduler state to resume from");
    c.scheduler->load_state(f, "/scheduler");
  }
  auto normalizer = [&](Normalizer<T>* n, const std::string& group) {
    if (!n) return;
    NEUROPS_CHECK(f.exists(group), file << " has no " << group
                                        << " group (every neurops checkpoint stores both normalizers, the identity "
                                           "when none was used)");
    *n = Normalizer<T>::load(f, group);
  };
  normalizer(c.input_normalizer, "/normalizers/input");
  normalizer(c.output_normalizer, "/normalizers/output");
  if (c.state) {
    NEUROPS_CHECK(version >= 2, file << ": checkpoint format version " << version
                                     << " keeps a training history this build cannot resume (version "
                                     << kCheckpointFormatVersion << " needed); load it for inference only");
    *c.state = load_state(f);
  }
}

template void save_checkpoint<float>(const std::filesystem::path&, const CheckpointContents<float>&);
template void save_checkpoint<double>(const std::filesystem::path&, const CheckpointContents<double>&);
template void load_checkpoint<float>(const std::filesystem::path&, const CheckpointContents<float>&);
template void load_checkpoint<double>(const std::filesystem::path&, const CheckpointContents<double>&);

}  // namespace neurops::nn
