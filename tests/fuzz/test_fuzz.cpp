// Fuzzing the readers: seeded corruptions of every file type neurops reads here (field datasets,
// DeepONet triples, linear systems in HDF5 and PETSc binary, plain FNO checkpoints, the checkpoints of
// every other registered model through load_model, learner states of the SOR and configuration bandits). Each variant
// must give a clean neurops::Error or exactly the data that was written: never a crash (the process
// would die; under the sanitizer build any memory error halts it), another exception type, or
// silently different data. Errors should name the file or the dataset/attribute.
//
// Corruptions: truncation, byte flips, zeroed blocks (anywhere in the file), and through the HDF5
// API: datasets removed, renamed, shrunk along one axis, rewritten with another element type;
// attributes removed or given the wrong type or a non-finite value.
//
// Seconds long by default. More variants: NEUROPS_FUZZ_VARIANTS=<byte-level variants per file type>
// (default 60), NEUROPS_FUZZ_SEED=<seed> (default 1), or the same as arguments after "--":
//   test_fuzz -- --variants 2000 --seed 7
// NEUROPS_FUZZ_VERBOSE=1 prints each variant before it is read (the last line names a crasher);
// NEUROPS_FUZZ_ONLY=<file type> runs one type (fields, triples, system-hdf5, system-binary, checkpoint-fno,
// learner-binned, learner-chebcb, learner-configs, checkpoint-deeponet, checkpoint-mgno, checkpoint-t1,
// checkpoint-sfno, checkpoint-dcdm).
#define BOOST_TEST_MODULE neurops_fuzz
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>

#include "neurops/core/petsc.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/mgno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/sfno.hpp"
#include "neurops/operators/t1.hpp"
#include "neurops/solvers/bandit_state.hpp"
#include "neurops/solvers/system_io.hpp"

using namespace neurops;
namespace fs = std::filesystem;

namespace {

struct PetscFixture {
  PetscFixture() {
    auto& m = boost::unit_test::framework::master_test_suite();
    session = std::make_unique<PetscSession>(&m.argc, &m.argv);
  }
  std::unique_ptr<PetscSession> session;
};

/// An option from "-- --name value" or the environment variable, else the default.
long setting(const std::string& arg, const char* env, long def) {
  auto& m = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i + 1 < m.argc; ++i)
    if (m.argv[i] == arg) return std::stol(m.argv[i + 1]);
  const char* e = std::getenv(env);
  return e && *e ? std::stol(e) : def;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const fs::path& p, const std::string& b) { std::ofstream(p, std::ios::binary | std::ios::trunc) << b; }

/// One file type: a good file, how to load it and compare with what was written, and the names an
/// error message may use to point at the culprit.
struct Target {
  std::string kind;
  fs::path good;
  bool hdf5 = true;
  /// Loads `p`; true when the result equals what was written. Throws whatever the reader throws.
  std::function<bool(const fs::path& p)> load_equals_original;
  std::vector<std::string> names;  // datasets, attributes, options
  /// Loads `p`; true when the result equals what `p` holds, read dataset by dataset. A reshaped
  /// dataset may leave a file that is valid and consistent, only different (DeepONet triples with 11
  /// sensors instead of 12): a reader that returns exactly that is right. Null: no such files.
  std::function<bool(const fs::path& p)> load_equals_file;
};

struct Tally {
  long variants = 0, clean_errors = 0, accepted_correct = 0, garbage = 0, other_exceptions = 0, unnamed = 0;
  std::vector<std::string> examples;  // of every problem, for the log
  void note(const std::string& s) {
    if (std::getenv("NEUROPS_FUZZ_VERBOSE")) std::printf("  -> %s\n", s.c_str());
    if (examples.size() < 12) examples.push_back(s);
  }
};

// A reader that hangs on a variant must not hang the suite: each variant gets kVariantSeconds, then
// the process says which variant it was and exits with status 3 (the test fails).
constexpr unsigned kVariantSeconds = 60;
char g_current_variant[512] = {0};
extern "C" void on_variant_timeout(int) {
  const char prefix[] = "\nfuzz: HANG (no answer within the time limit) on ";
  (void)!::write(2, prefix, sizeof prefix - 1);
  (void)!::write(2, g_current_variant, std::strlen(g_current_variant));
  (void)!::write(2, "\n", 1);
  ::_exit(3);
}

/// Runs one variant through the target's reader and files the outcome. `valid_edit`: the variant may
/// be a valid file with other contents (a reshaped dataset), then reading it faithfully is correct.
void judge(const Target& t, const fs::path& variant, const std::string& what, Tally& tally, bool valid_edit = false) {
  ++tally.variants;
  static const bool verbose = std::getenv("NEUROPS_FUZZ_VERBOSE") != nullptr;
  if (verbose) {  // the last line before a crash names the variant that caused it
    std::printf("%s %s\n", t.kind.c_str(), what.c_str());
    std::fflush(stdout);
  }
  std::snprintf(g_current_variant, sizeof g_current_variant, "%s %s", t.kind.c_str(), what.c_str());
  ::signal(SIGALRM, on_variant_timeout);
  ::alarm(kVariantSeconds);
  struct Disarm {
    ~Disarm() { ::alarm(0); }
  } disarm;
  try {
    if (t.load_equals_original(variant) || (valid_edit && t.load_equals_file && t.load_equals_file(variant))) {
      ++tally.accepted_correct;
    } else {
      ++tally.garbage;
      tally.note(t.kind + " " + what + ": SILENT GARBAGE (loaded without error, data differ)");
    }
  } catch (const Error& e) {
    ++tally.clean_errors;
    const std::string m = e.what();
    bool named = m.find(variant.filename().string()) != std::string::npos;
    for (const auto& n : t.names) named = named || m.find(n) != std::string::npos;
    if (!named) {
      ++tally.unnamed;
      tally.note(t.kind + " " + what + ": error names neither file nor dataset: " + m);
    }
  } catch (const std::exception& e) {
    ++tally.other_exceptions;
    tally.note(t.kind + " " + what + ": not a neurops::Error: " + e.what());
  }
}

// ---- byte-level corruptions ---------------------------------------------------------------------

void byte_variants(const Target& t, long count, std::uint64_t seed, Tally& tally) {
  const std::string good = read_bytes(t.good);
  const fs::path variant = t.good.parent_path() / ("variant_" + t.good.filename().string());
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  for (long v = 0; v < count; ++v) {
    std::string b = good;
    std::string what;
    switch (v % 3) {
      case 0: {
        b.resize(uniform(b.size()));
        what = "truncated to " + std::to_string(b.size()) + " bytes";
        break;
      }
      case 1: {
        const std::size_t flips = 1 + uniform(8);
        what = std::to_string(flips) + " bytes flipped at";
        for (std::size_t k = 0; k < flips; ++k) {
          const std::size_t at = uniform(b.size());
          b[at] ^= char(1 + uniform(255));
          what += " " + std::to_string(at);
        }
        break;
      }
      default: {
        const std::size_t at = uniform(b.size()), len = std::min(b.size() - at, 8 + uniform(1024));
        std::fill(b.begin() + long(at), b.begin() + long(at + len), '\0');
        what = std::to_string(len) + " bytes zeroed at " + std::to_string(at);
      }
    }
    if (b == good) continue;  // the flip or zeroing changed nothing
    write_bytes(variant, b);
    judge(t, variant, "variant " + std::to_string(v) + " (" + what + ")", tally);
  }
}

// ---- structural corruptions through the HDF5 API ------------------------------------------------

/// Objects ("/" and every group and dataset) of a file.
std::vector<std::string> objects(const io::H5File& f) {
  std::vector<std::string> out{"/"};
  for (const auto& d : f.datasets()) {
    out.push_back(d);
    for (auto slash = d.find('/', 1); slash != std::string::npos; slash = d.find('/', slash + 1)) {
      const std::string g = d.substr(0, slash);
      if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
    }
  }
  return out;
}

/// Rewrites dataset `d` one entry shorter along `axis`, keeping the leading values so they look plausible.
template <class T>
void shrink(io::H5File& g, const std::string& d, const Shape& s, int axis) {
  const Tensor<T> x = g.read<T>(d);
  Tensor<T> y(s.with(axis, s[axis] - 1));
  std::copy(x.begin(), x.begin() + y.numel(), y.begin());
  g.write(d, y, true);
}

void structural_variants(const Target& t, Tally& tally) {
  const fs::path variant = t.good.parent_path() / ("variant_" + t.good.filename().string());
  std::vector<std::pair<std::string, std::function<void(io::H5File&)>>> edits;
  {
    const auto f = io::H5File::open(t.good);
    for (const auto& d : f.datasets()) {
      const Shape s = f.shape(d);
      edits.push_back({"remove " + d, [d](io::H5File& g) { g.remove(d); }});
      edits.push_back({"rename " + d, [d](io::H5File& g) {
                         H5Lmove(g.id(), d.c_str(), g.id(), (d + "_renamed").c_str(), H5P_DEFAULT, H5P_DEFAULT);
                       }});
      // Axes of extent 1 are not shrunk: an empty channel or feature axis is a degenerate, not a
      // corrupt, file (whether readers should refuse it is FieldDataset/OperatorTriples::validate's call).
      for (int axis = 0; axis < s.rank(); ++axis)
        if (s[axis] > 1)
          edits.push_back({"shrink axis " + std::to_string(axis) + " of " + d, [d, s, axis](io::H5File& g) {
                             if (g.dtype(d) == io::DType::int64)
                               shrink<std::int64_t>(g, d, s, axis);
                             else
                               shrink<double>(g, d, s, axis);
                           }});
      edits.push_back({"int32 " + d, [d, s](io::H5File& g) { g.write(d, Tensor<std::int32_t>(s, 1), true); }});
      edits.push_back({"uint8 " + d, [d, s](io::H5File& g) { g.write(d, Tensor<std::uint8_t>(s, 1), true); }});
    }
    for (const auto& o : objects(f))
      for (const auto& a : f.attrs(o)) {
        const std::string where = o + "@" + a;
        edits.push_back({"remove attribute " + where,
                         [o, a](io::H5File& g) { H5Adelete_by_name(g.id(), o.c_str(), a.c_str(), H5P_DEFAULT); }});
        edits.push_back(
            {"string attribute " + where, [o, a](io::H5File& g) { g.set_attr(o, a, std::string("garbage")); }});
        edits.push_back({"NaN attribute " + where, [o, a](io::H5File& g) { g.set_attr(o, a, std::nan("")); }});
        // A number where text was: another type. (A number changed into another plausible number is a
        // valid edit, not a corruption: no reader can tell, so it is not among the variants.)
        if (std::holds_alternative<std::string>(f.attr(o, a)))
          edits.push_back(
              {"integer attribute " + where, [o, a](io::H5File& g) { g.set_attr(o, a, std::int64_t(-7)); }});
      }
  }
  for (const auto& [what, edit] : edits) {
    fs::copy_file(t.good, variant, fs::copy_options::overwrite_existing);
    {
      auto g = io::H5File::open(variant, io::FileMode::read_write);
      try {
        edit(g);
      } catch (const Error& e) {  // a type-incompatible rewrite, e.g. reading strings as doubles
        continue;
      }
      g.commit();
    }
    judge(t, variant, what, tally, what.rfind("shrink", 0) == 0);
  }
}

// ---- the file types -------------------------------------------------------------------------------

template <class T>
bool same(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(T) * std::size_t(a.numel())) == 0;
}

Target field_dataset(const fs::path& dir) {
  // As neurops_generate writes it: extendable datasets appended chunk by chunk, float64.
  const fs::path p = dir / "fields.h5";
  Rng rng(3);
  const auto a = Tensor<double>::randn({6, 1, 8, 8}, rng), u = Tensor<double>::randn({6, 1, 8, 8}, rng);
  {
    auto f = io::H5File::create(p);
    f.set_attr("/", "grid_shape", std::vector<std::int64_t>{8, 8});
    f.set_attr("/", "completed", std::int64_t(6));
    f.create_extendable<double>("/inputs", Shape({1, 8, 8}), 2);
    f.create_extendable<double>("/outputs", Shape({1, 8, 8}), 2);
    for (index_t r = 0; r < 6; r += 2) {
      f.append<double>("/inputs", a.slice(r, r + 2));
      f.append<double>("/outputs", u.slice(r, r + 2));
    }
    f.commit();
  }
  Target t{"fields", p, true, nullptr, {"/inputs", "/outputs"}};
  t.load_equals_original = [a, u](const fs::path& v) {
    const auto d = nn::FieldDataset<double>::load(v);
    return same(d.inputs, a) && same(d.targets, u);
  };
  t.load_equals_file = [](const fs::path& v) {
    const auto d = nn::FieldDataset<double>::load(v);
    const auto f = io::H5File::open(v);
    return same(d.inputs, f.read<double>("/inputs")) && same(d.targets, f.read<double>("/outputs"));
  };
  return t;
}

Target operator_triples(const fs::path& dir) {
  const fs::path p = dir / "triples.h5";
  Rng rng(4);
  const auto branch = Tensor<double>::randn({10, 12}, rng), trunk = Tensor<double>::randn({10, 1}, rng),
             values = Tensor<double>::randn({10, 1}, rng);
  {
    auto f = io::H5File::create(p);
    f.write("/branch", branch);
    f.write("/trunk", trunk);
    f.write("/values", values);
    f.commit();
  }
  Target t{"triples", p, true, nullptr, {"/branch", "/trunk", "/values", "cartesian"}};
  t.load_equals_original = [branch, trunk, values](const fs::path& v) {
    const auto d = nn::OperatorTriples<double>::load(v);
    return !d.cartesian && same(d.branch, branch) && same(d.trunk, trunk) && same(d.values, values);
  };
  t.load_equals_file = [](const fs::path& v) {
    const auto d = nn::OperatorTriples<double>::load(v);
    const auto f = io::H5File::open(v);
    return same(d.branch, f.read<double>("/branch")) && same(d.trunk, f.read<double>("/trunk")) &&
           same(d.values, f.read<double>("/values"));
  };
  return t;
}

/// A 5-point Laplacian plus shift on a 6x6 grid, and a right-hand side.
void small_system(PetscMat& A, PetscVec& b) {
  const PetscInt n = 6, N = n * n;
  NEUROPS_PETSC(MatCreateSeqAIJ(PETSC_COMM_SELF, N, N, 5, nullptr, A.out()));
  for (PetscInt i = 0; i < n; ++i)
    for (PetscInt j = 0; j < n; ++j) {
      const PetscInt r = i * n + j;
      NEUROPS_PETSC(MatSetValue(A, r, r, 4.5, INSERT_VALUES));
      if (i > 0) NEUROPS_PETSC(MatSetValue(A, r, r - n, -1.0, INSERT_VALUES));
      if (i + 1 < n) NEUROPS_PETSC(MatSetValue(A, r, r + n, -1.0, INSERT_VALUES));
      if (j > 0) NEUROPS_PETSC(MatSetValue(A, r, r - 1, -1.0, INSERT_VALUES));
      if (j + 1 < n) NEUROPS_PETSC(MatSetValue(A, r, r + 1, -1.0, INSERT_VALUES));
    }
  NEUROPS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatCreateVecs(A, nullptr, b.out()));
  for (PetscInt r = 0; r < N; ++r) NEUROPS_PETSC(VecSetValue(b, r, 1.0 + 0.01 * double(r), INSERT_VALUES));
  NEUROPS_PETSC(VecAssemblyBegin(b));
  NEUROPS_PETSC(VecAssemblyEnd(b));
}

Target linear_system(const fs::path& dir, const std::string& name) {
  const fs::path p = dir / name;
  auto A = std::make_shared<PetscMat>();
  auto b = std::make_shared<PetscVec>();
  small_system(*A, *b);
  solvers::write_system(p, *A, *b, 0.25);
  const bool hdf5 = p.extension() == ".h5";
  Target t{hdf5 ? "system-hdf5" : "system-binary",
           p,
           hdf5,
           nullptr,
           {"/A/jc", "/A/ir", "/A/data", "/b", "MATLAB_sparse", "context", "matrix", "vector", "right-hand side"}};
  t.load_equals_original = [A, b, hdf5](const fs::path& v) {
    auto sys = solvers::read_system(PETSC_COMM_SELF, v);
    PetscBool same_a = PETSC_FALSE, same_b = PETSC_FALSE;
    NEUROPS_PETSC(MatEqual(*A, sys.A, &same_a));
    NEUROPS_PETSC(VecEqual(*b, sys.b, &same_b));
    // The context is optional: a file without it is a valid file that says so.
    const bool context_ok = !hdf5 || !sys.context || *sys.context == 0.25;
    return same_a && same_b && context_ok;
  };
  return t;
}

Target fno_checkpoint(const fs::path& dir) {
  const fs::path p = dir / "fno_checkpoint.h5";
  operators::FnoConfig cfg;
  cfg.width = 4;
  cfg.modes = {3};
  cfg.layers = 1;
  cfg.projection_channels = 8;
  cfg.seed = 5;
  auto saved = std::make_shared<operators::Fno<float>>(cfg);
  neurops::save_model(p, *saved);  // the checkpoint layout: configuration, parameters, identity normalizers
  Target t{"checkpoint-fno", p, true, nullptr, {"/parameters", "format_version", "model_type", "/config"}};
  t.load_equals_original = [saved, cfg](const fs::path& v) {
    operators::FnoConfig other = cfg;
    other.seed = 99;  // different initial weights: loading must overwrite every one
    operators::Fno<float> model(other);
    nn::CheckpointContents<float> c;
    c.model = &model;
    nn::load_checkpoint(v, c);
    const auto want = saved->named_parameters(), got = model.named_parameters();
    if (want.size() != got.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i)
      if (want[i].name != got[i].name || !same(want[i].param->value, got[i].param->value)) return false;
    return true;
  };
  return t;
}

/// Same parameters and the same output on a fixed input, bit for bit.
bool same_model(nn::Model<float>& want, nn::Model<float>& got, const std::vector<Tensor<float>>& inputs) {
  const auto a = want.named_parameters(), b = got.named_parameters();
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || !same(a[i].param->value, b[i].param->value)) return false;
  want.eval();
  got.eval();
  return same(want.forward(nn::Inputs<float>(inputs)), got.forward(nn::Inputs<float>(inputs)));
}

/// A checkpoint of `saved` as save_model writes it (configuration, parameters, normalizers), read back
/// through load_model, the one call users make. Loading must give the same parameters and the same
/// output on a fixed input (so a changed configuration value that alters the model without touching a
/// parameter, such as SFNO's bias scale, counts as garbage), or a clean error.
Target model_checkpoint(const fs::path& dir, const std::string& kind, std::shared_ptr<nn::Model<float>> saved,
                        std::vector<Tensor<float>> inputs) {
  const fs::path p = dir / (kind + ".h5");
  Rng rng(17);
  for (auto& np : saved->named_parameters()) nn::init_normal(*np.param, 0.5, rng);  // no zero biases
  neurops::save_model(p, *saved);
  Target t{kind, p, true, nullptr, {"/parameters", "format_version", "model_type", "/config", "/normalizers"}};
  t.load_equals_original = [saved, inputs](const fs::path& v) {
    auto loaded = neurops::load_model<float>(v);
    return same_model(*saved, loaded.model(), inputs);
  };
  return t;
}

/// A DCDM network as the shipped model is written (a checkpoint without normalizers; its own loader,
/// load_dcdm_net, which KSP dcdm uses).
Target dcdm_checkpoint(const fs::path& dir) {
  const fs::path p = dir / "checkpoint-dcdm.h5";
  operators::DcdmNetConfig c;
  c.channels = 3;
  c.pre_convs = 2;
  c.mid_convs = 2;
  c.post_convs = 2;
  c.seed = 3;
  auto saved = std::make_shared<operators::DcdmNet<float>>(c);
  Rng rng(19);
  for (auto& np : saved->named_parameters()) nn::init_normal(*np.param, 0.5, rng);
  nn::CheckpointContents<float> contents;
  contents.model = saved.get();
  nn::save_checkpoint(p, contents);
  std::vector<Tensor<float>> inputs{Tensor<float>::randn({1, 1, 4, 4, 4}, rng)};
  Target t{"checkpoint-dcdm", p, true, nullptr, {"/parameters", "format_version", "model_type", "/config"}};
  t.load_equals_original = [saved, inputs](const fs::path& v) {
    auto loaded = operators::load_dcdm_net<float>(v.string());
    return same_model(*saved, loaded, inputs);
  };
  return t;
}

std::vector<Target> model_checkpoints(const fs::path& dir) {
  Rng rng(23);
  std::vector<Target> targets;
  {
    operators::DeepOnetConfig c;
    c.branch_layers = {5, 6, 4};
    c.trunk_layers = {2, 5, 4};
    c.seed = 3;
    targets.push_back(model_checkpoint(dir, "checkpoint-deeponet", std::make_shared<operators::DeepOnet<float>>(c),
                                       {Tensor<float>::randn({3, 5}, rng), Tensor<float>::randn({3, 2}, rng)}));
  }
  {
    operators::MgnoConfig c;
    c.width = 3;
    c.layers = 2;
    c.pre_smoothing = {1, 1};
    c.post_smoothing = {1, 0};
    c.seed = 3;
    targets.push_back(model_checkpoint(dir, "checkpoint-mgno", std::make_shared<operators::Mgno<float>>(c),
                                       {Tensor<float>::randn({1, 1, 8, 8}, rng)}));
  }
  {
    operators::T1Config c;
    c.in_channels = 1;
    c.width = 4;
    c.modes = {3, 2};
    c.layers = 2;
    c.head_channels = 5;
    c.head_init = 0;
    c.grid = {8, 6};
    c.perform_inverse = true;
    c.seed = 3;
    targets.push_back(model_checkpoint(dir, "checkpoint-t1", std::make_shared<operators::T1<float>>(c),
                                       {Tensor<float>::randn({1, 1, 8, 6}, rng)}));
  }
  {
    operators::SfnoConfig c;
    c.modes_x = 3;
    c.modes_y = 2;
    c.modes_t = 3;
    c.width = 4;
    c.layers = 2;
    c.input_steps = 6;
    c.latent_steps = 5;
    c.output_steps = 4;
    c.channel_expansion = 2;
    c.seed = 3;
    targets.push_back(model_checkpoint(dir, "checkpoint-sfno", std::make_shared<operators::Sfno<float>>(c),
                                       {Tensor<float>::randn({1, 6, 8, 8}, rng)}));
  }
  targets.push_back(dcdm_checkpoint(dir));
  return targets;
}

/// A learner's state after 30 rounds of seeded costs, as -pc_sorbandit_state writes it. Loading must
/// give exactly the learner that was saved (every entry of its exported state) or a clean error.
Target learner_state(const fs::path& dir, const std::string& learner) {
  const fs::path p = dir / ("learner_" + learner + ".h5");
  const solvers::TunerConfig config{
      .learner = learner, .arms = 6, .context_lo = 0.0, .context_hi = 1.0, .bins = 2, .features = 3, .seed = 7};
  auto tuner = solvers::make_tuner(config);
  Rng rng(8);
  for (int t = 0; t < 30; ++t) {
    const double context = rng.uniform();
    const double omega = tuner->choose(context);
    tuner->observe(std::round(10.0 + 50.0 * std::abs(omega - 1.2 - 0.5 * context) + rng.uniform()));
  }
  solvers::save_tuner_state(p, *tuner, config);
  auto saved = std::make_shared<solvers::TunerState>();
  tuner->export_state(*saved);
  Target t{"learner-" + learner, p, true, nullptr, {"learner state", "format_version", "learner", "arms", "seed"}};
  t.load_equals_original = [saved, config](const fs::path& v) {
    solvers::TunerState got;
    solvers::load_tuner_state(v, config)->export_state(got);
    return got.reals == saved->reals && got.integers == saved->integers;
  };
  return t;
}

/// A configbandit learner's state (-pc_configbandit_state): Tsallis-INF over option sets after 30
/// rounds of seeded costs. Loading must give exactly that learner or a clean error.
Target arm_set_state(const fs::path& dir) {
  const fs::path p = dir / "learner_configs.h5";
  const solvers::ArmSetConfig config{.learner = "tsallis", .arms = 3, .seed = 5};
  const std::vector<std::string> arm_set{"icc", "gamg", "sor -pc_sor_omega 1.7"};
  auto learner = solvers::make_arm_set_learner(config);
  Rng rng(9);
  for (int t = 0; t < 30; ++t) {
    const auto arm = learner->choose();
    learner->observe(1.0 + 1e-3 * (1.0 + arm) * (1.0 + rng.uniform()));
  }
  solvers::save_arm_set_state(p, *learner, config, arm_set);
  auto saved = std::make_shared<solvers::TunerState>();
  learner->export_state(*saved);
  Target t{"learner-configs", p, true, nullptr, {"learner state", "format_version", "learner", "arm_set", "seed"}};
  t.load_equals_original = [saved, config, arm_set](const fs::path& v) {
    solvers::TunerState got;
    solvers::load_arm_set_state(v, config, arm_set)->export_state(got);
    return got.reals == saved->reals && got.integers == saved->integers;
  };
  return t;
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

BOOST_AUTO_TEST_CASE(corrupted_files_give_clean_errors_or_correct_data) {
  const long per_type = setting("--variants", "NEUROPS_FUZZ_VARIANTS", 60);
  const auto seed = static_cast<std::uint64_t>(setting("--seed", "NEUROPS_FUZZ_SEED", 1));
  const fs::path dir = fs::absolute("fuzz_scratch");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<Target> targets{field_dataset(dir),
                              operator_triples(dir),
                              linear_system(dir, "system.h5"),
                              linear_system(dir, "system.bin"),
                              fno_checkpoint(dir),
                              learner_state(dir, "binned"),
                              learner_state(dir, "chebcb"),
                              arm_set_state(dir)};
  for (auto& t : model_checkpoints(dir)) targets.push_back(std::move(t));
  Tally total;
  std::printf("%-20s %9s %13s %17s %8s %11s %8s\n", "file type", "variants", "clean errors", "accepted-correct",
              "garbage", "other exc.", "unnamed");
  for (std::size_t k = 0; k < targets.size(); ++k) {
    const Target& t = targets[k];
    const char* only = std::getenv("NEUROPS_FUZZ_ONLY");  // one file type, e.g. checkpoint-fno
    if (only && *only && t.kind != only) continue;
    BOOST_TEST_REQUIRE(t.load_equals_original(t.good));  // the oracle accepts the good file
    Tally tally;
    byte_variants(t, per_type, seed * 1000 + k, tally);
    if (t.hdf5) structural_variants(t, tally);
    std::printf("%-20s %9ld %13ld %17ld %8ld %11ld %8ld\n", t.kind.c_str(), tally.variants, tally.clean_errors,
                tally.accepted_correct, tally.garbage, tally.other_exceptions, tally.unnamed);
    for (const auto& e : tally.examples) BOOST_TEST_MESSAGE(e);
    total.variants += tally.variants;
    total.clean_errors += tally.clean_errors;
    total.accepted_correct += tally.accepted_correct;
    total.garbage += tally.garbage;
    total.other_exceptions += tally.other_exceptions;
    total.unnamed += tally.unnamed;
    for (const auto& e : tally.examples) total.note(e);
  }
  std::printf("%-20s %9ld %13ld %17ld %8ld %11ld %8ld\n", "total", total.variants, total.clean_errors,
              total.accepted_correct, total.garbage, total.other_exceptions, total.unnamed);
  std::printf(
      "crashes 0 (this line is reached), silent garbage %ld, errors naming neither file nor dataset %ld "
      "of %ld (%.1f%%)\n",
      total.garbage, total.unnamed, total.clean_errors,
      total.clean_errors ? 100.0 * double(total.unnamed) / double(total.clean_errors) : 0.0);
  for (const auto& e : total.examples) std::printf("  %s\n", e.c_str());
  std::fflush(stdout);
  BOOST_TEST(total.garbage == 0);
  BOOST_TEST(total.other_exceptions == 0);
  BOOST_TEST(double(total.unnamed) <= 0.05 * double(total.clean_errors));
  fs::remove_all(dir);
}
