// Learner state files (see bandit_state.hpp; layout in docs/file-formats.md, "Learner state").
#include "neurops/solvers/bandit_state.hpp"

#include <cstring>
#include <set>
#include <sstream>

#include "neurops/core/error.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/version.hpp"

namespace neurops::solvers {

namespace {

// 'path', for messages (appended piecewise: GCC 12 warns falsely on "'" + string + "'").
std::string quoted(const std::filesystem::path& p) {
  std::string out = "'";
  out += p.string();
  out += "'";
  return out;
}

std::int64_t as_int64(std::uint64_t v) {
  std::int64_t out = 0;
  std::memcpy(&out, &v, sizeof out);
  return out;
}

// The settings that shape a learner of each kind: a file is refused when one of these differs.
bool uses_context(const std::string& learner) { return learner == "chebcb" || learner == "binned"; }
bool uses_normaliser(const std::string& learner) { return learner == "tsallis" || learner == "binned"; }

void write_config(io::H5File& f, const OmegaTuner& tuner, const TunerConfig& c) {
  f.set_attr("/", "format_version", kTunerStateFormatVersion);
  f.set_attr("/", "neurops_version", std::string(NEUROPS_VERSION_STRING));
  f.set_attr("/", "learner", c.learner);
  f.set_attr("/", "arms", tuner.arms());
  f.set_attr("/", "seed", as_int64(c.seed));
  f.set_attr("/", "context_range", std::vector<double>{c.context_lo, c.context_hi});
  f.set_attr("/", "bins", std::int64_t(c.bins));
  f.set_attr("/", "features", std::int64_t(c.features));
  f.set_attr("/", "tsallis_normaliser", c.tsallis_normaliser);
}

template <class T>
std::string show(const T& v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}
template <class T>
std::string show(const std::vector<T>& v) {
  std::ostringstream os;
  os.precision(17);
  os << "[";
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os.str() + "]";
}

// Refuses a file made with another configuration, naming the field, the file's value and the one given.
void check_config(const io::H5File& f, const OmegaTuner& tuner, const TunerConfig& c) {
  const std::string file = quoted(f.path());
  auto differ = [&](const std::string& field, const std::string& in_file, const std::string& given) {
    NEUROPS_THROW(file << ": learner state of another configuration: " << field << " is " << in_file
                       << " in the file but " << given
                       << " in the options; refusing to replace either (use the file's setting, or another state "
                          "file to start a new learner)");
  };
  const std::string learner = f.attr_string("/", "learner");
  if (learner != c.learner) differ("learner", learner, c.learner);
  const auto arms = f.attr_reals("/", "arms");
  if (arms != tuner.arms()) differ("the arm set (omega values)", show(arms), show(tuner.arms()));
  if (learner == "fixed") return;  // one arm, no randomness: nothing else shapes it
  const auto seed = f.attr_int("/", "seed");
  if (seed != as_int64(c.seed)) differ("seed", show(seed), show(as_int64(c.seed)));
  if (uses_context(learner)) {
    const auto range = f.attr_reals("/", "context_range");
    const std::vector<double> given{c.context_lo, c.context_hi};
    if (range != given) differ("context_range", show(range), show(given));
  }
  if (learner == "binned" && f.attr_int("/", "bins") != c.bins)
    differ("bins", show(f.attr_int("/", "bins")), show(c.bins));
  if (learner == "chebcb" && f.attr_int("/", "features") != c.features)
    differ("features", show(f.attr_int("/", "features")), show(c.features));
  if (uses_normaliser(learner)) {
    const std::string normaliser = f.attr_string("/", "tsallis_normaliser");
    if (normaliser != c.tsallis_normaliser) differ("tsallis_normaliser", normaliser, c.tsallis_normaliser);
  }
}

TunerState read_entries(const io::H5File& f) {
  const std::string file = quoted(f.path());
  TunerState s;
  for (const auto& d : f.datasets("/")) {
    const auto rank = f.shape(d).rank();
    NEUROPS_CHECK(rank == 1, file << ": learner state dataset " << d << " has rank " << rank << ", expected 1");
    const auto type = f.dtype(d);
    const std::string name = d.substr(1);
    if (type == io::DType::float64) {
      const auto t = f.read<double>(d);
      s.reals[name] = std::vector<double>(t.begin(), t.end());
    } else if (type == io::DType::int64) {
      const auto t = f.read<std::int64_t>(d);
      s.integers[name] = std::vector<std::int64_t>(t.begin(), t.end());
    } else {
      NEUROPS_THROW(file << ": learner state dataset " << d << " holds " << type << ", expected float64 or int64");
    }
  }
  return s;
}

std::set<std::string> names(const TunerState& s) {
  std::set<std::string> out;
  for (const auto& [k, v] : s.reals) out.insert(k);
  for (const auto& [k, v] : s.integers) out.insert(k);
  return out;
}

// The learner's entries as one-dimensional datasets of `f`.
void write_entries(io::H5File& f, const BanditLearner& learner) {
  TunerState s;
  learner.export_state(s);
  for (const auto& [name, v] : s.reals) f.write("/" + name, Tensor<double>({static_cast<index_t>(v.size())}, v));
  for (const auto& [name, v] : s.integers)
    f.write("/" + name, Tensor<std::int64_t>({static_cast<index_t>(v.size())}, v));
}

// Imports the datasets of `f` into `learner` (of kind `kind`); every dataset must be one the learner
// reads: a renamed or foreign dataset is not silently ignored.
void read_entries_into(const io::H5File& f, BanditLearner& learner, const std::string& kind) {
  const std::string file = quoted(f.path());
  const TunerState s = read_entries(f);
  try {
    learner.import_state(s);
  } catch (const Error& e) {
    NEUROPS_THROW(file << ": " << e.message());
  }
  TunerState expected;
  learner.export_state(expected);
  for (const auto& name : names(s))
    NEUROPS_CHECK(names(expected).count(name),
                  file << ": unexpected dataset /" << name << " in the state of a " << kind << " learner");
}

void check_version(const io::H5File& f) {
  const std::string file = quoted(f.path());
  NEUROPS_CHECK(f.has_attr("/", "format_version") && f.has_attr("/", "learner"),
                file << " is not a neurops learner state file (no format_version or learner attribute)");
  const auto version = f.attr_int("/", "format_version");
  NEUROPS_CHECK(version >= 1 && version <= kTunerStateFormatVersion,
                file << ": learner state format version " << version << ", this build reads versions 1 to "
                     << kTunerStateFormatVersion);
}

}  // namespace

void save_tuner_state(const std::filesystem::path& path, const OmegaTuner& tuner, const TunerConfig& config) {
  auto f = io::H5File::create(path);  // a temporary beside `path`, renamed by commit()
  write_config(f, tuner, config);
  write_entries(f, tuner);
  f.commit();
}

std::unique_ptr<OmegaTuner> load_tuner_state(const std::filesystem::path& path, const TunerConfig& config) {
  auto tuner = make_tuner(config);
  const auto f = io::H5File::open(path);
  check_version(f);
  NEUROPS_CHECK(!f.has_attr("/", "arm_set"), quoted(path) << " holds the state of a learner over option sets "
                                                             "(configbandit), not of an omega tuner");
  check_config(f, *tuner, config);
  read_entries_into(f, *tuner, config.learner);
  return tuner;
}

void save_arm_set_state(const std::filesystem::path& path, const BanditLearner& learner, const ArmSetConfig& config,
                        const std::vector<std::string>& arm_set) {
  NEUROPS_CHECK(arm_set.size() == learner.arms().size(), "save_arm_set_state: " << arm_set.size()
                                                                                << " option sets for a learner of "
                                                                                << learner.arms().size() << " arms");
  auto f = io::H5File::create(path);
  f.set_attr("/", "format_version", kTunerStateFormatVersion);
  f.set_attr("/", "neurops_version", std::string(NEUROPS_VERSION_STRING));
  f.set_attr("/", "learner", config.learner);
  f.set_attr("/", "arm_set", arm_set);
  f.set_attr("/", "seed", as_int64(config.seed));
  f.set_attr("/", "fixed_arm", std::int64_t(config.fixed_arm));
  f.set_attr("/", "tsallis_normaliser", config.tsallis_normaliser);
  write_entries(f, learner);
  f.commit();
}

std::unique_ptr<BanditLearner> load_arm_set_state(const std::filesystem::path& path, const ArmSetConfig& config,
                                                  const std::vector<std::string>& arm_set) {
  auto learner = make_arm_set_learner(config);
  const auto f = io::H5File::open(path);
  check_version(f);
  const std::string file = quoted(path);
  NEUROPS_CHECK(f.has_attr("/", "arm_set"), file << " holds the state of an omega tuner (sorbandit), not of a "
                                                    "learner over option sets");
  auto differ = [&](const std::string& field, const std::string& in_file, const std::string& given) {
    NEUROPS_THROW(file << ": learner state of another configuration: " << field << " is " << in_file
                       << " in the file but " << given
                       << " in the options; refusing to replace either (use the file's setting, or another state "
                          "file to start a new learner)");
  };
  const std::string name = f.attr_string("/", "learner");
  if (name != config.learner) differ("learner", name, config.learner);
  const auto in_file = f.attr_strings("/", "arm_set");
  if (in_file != arm_set) {
    std::string a = "[", b = "[";
    for (const auto& v : in_file) a += (a.size() > 1 ? "; " : "") + v;
    for (const auto& v : arm_set) b += (b.size() > 1 ? "; " : "") + v;
    differ("the arm set (option sets)", a + "]", b + "]");
  }
  if (name == "fixed") {
    if (f.attr_int("/", "fixed_arm") != config.fixed_arm)
      differ("fixed_arm", show(f.attr_int("/", "fixed_arm")), show(config.fixed_arm));
  } else {
    if (f.attr_int("/", "seed") != as_int64(config.seed))
      differ("seed", show(f.attr_int("/", "seed")), show(as_int64(config.seed)));
    const std::string normaliser = f.attr_string("/", "tsallis_normaliser");
    if (normaliser != config.tsallis_normaliser) differ("tsallis_normaliser", normaliser, config.tsallis_normaliser);
  }
  read_entries_into(f, *learner, name);
  return learner;
}

}  // namespace neurops::solvers
