// Learner state files: a run of N choices split into two processes (save after k, load, continue)
// makes exactly the choices of one uninterrupted run, for every learner; files of another
// configuration and invalid contents are refused with errors naming the file and the field, and a
// refused or failed load or write loses nothing.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "../support/expect_error.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/solvers/bandit_state.hpp"
#include "neurops/solvers/bandits.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {
// A cost surface with its best omega moving with the context, plus seeded noise.
double cost_of(double omega, double context, Rng& noise) {
  const double best = 1.2 + 0.6 * context;
  return std::max(1.0, std::round(20.0 + 400.0 * (omega - best) * (omega - best) + 2.0 * noise.normal()));
}

TunerConfig config_for(const std::string& learner) {
  return {.learner = learner, .arms = 12, .context_lo = 0.0, .context_hi = 1.0, .bins = 3, .seed = 11};
}

/// Plays rounds [begin, end) of a fixed sequence of contexts and costs; returns the omegas chosen.
std::vector<double> play(OmegaTuner& tuner, int begin, int end) {
  std::vector<double> chosen;
  for (int t = begin; t < end; ++t) {
    Rng round(seed_from_name("round") + std::uint64_t(t));  // round t's context and noise, whatever came before
    const double context = round.uniform();
    const double omega = tuner.choose(context);
    chosen.push_back(omega);
    tuner.observe(cost_of(omega, context, round));
  }
  return chosen;
}

TunerState state_of(const OmegaTuner& t) {
  TunerState s;
  t.export_state(s);
  return s;
}

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("neurops_bandit_state_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
};

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(bandit_state)

BOOST_AUTO_TEST_CASE(a_run_split_across_two_processes_makes_the_same_choices) {
  Scratch scratch;
  const int N = 150;
  for (const std::string learner : {"tsallis", "chebcb", "binned", "fixed"}) {
    for (const int k : {0, 1, 47}) {
      const auto config = config_for(learner);
      auto whole = make_tuner(config);
      const auto all = play(*whole, 0, N);
      auto first = make_tuner(config);
      auto chosen = play(*first, 0, k);
      const fs::path file = scratch.dir / (learner + ".h5");
      save_tuner_state(file, *first, config);
      first.reset();  // the first process ends
      auto second = load_tuner_state(file, config);
      BOOST_TEST(second->rounds() == k);
      const auto rest = play(*second, k, N);
      chosen.insert(chosen.end(), rest.begin(), rest.end());
      BOOST_TEST(chosen == all, learner << " split at " << k);  // bit for bit
      const auto a = state_of(*whole), b = state_of(*second);
      BOOST_TEST((a.reals == b.reals && a.integers == b.integers), learner << ": final states differ");
      BOOST_TEST(second->summary() == whole->summary());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_state_saved_between_choice_and_cost_continues_exactly) {
  // Saved after round k's choice, before its cost: the restored learner takes that cost for that choice.
  Scratch scratch;
  const int N = 80, k = 33;
  for (const std::string learner : {"tsallis", "chebcb", "binned"}) {
    const auto config = config_for(learner);
    auto whole = make_tuner(config);
    const auto all = play(*whole, 0, N);
    auto first = make_tuner(config);
    play(*first, 0, k);
    Rng round(seed_from_name("round") + std::uint64_t(k));
    const double context = round.uniform();
    const double omega = first->choose(context);
    const fs::path file = scratch.dir / (learner + "_pending.h5");
    save_tuner_state(file, *first, config);
    auto second = load_tuner_state(file, config);
    second->observe(cost_of(omega, context, round));
    const auto rest = play(*second, k + 1, N);
    BOOST_TEST(omega == all[k], learner);
    BOOST_TEST(std::vector<double>(all.begin() + k + 1, all.end()) == rest, learner);
    BOOST_TEST(second->summary() == whole->summary(), learner);
  }
}

BOOST_AUTO_TEST_CASE(a_state_of_another_configuration_is_refused_and_kept) {
  Scratch scratch;
  const fs::path file = scratch.dir / "omega.h5";
  const auto config = config_for("tsallis");
  auto tuner = make_tuner(config);
  play(*tuner, 0, 30);
  save_tuner_state(file, *tuner, config);
  const std::string saved = bytes_of(file);
  auto other = config;
  other.learner = "chebcb";
  expect_error([&] { load_tuner_state(file, other); }, {"omega.h5", "learner is tsallis in the file but chebcb"});
  other = config;
  other.arms = 13;
  expect_error([&] { load_tuner_state(file, other); }, {"omega.h5", "arm set", "1.95"});
  other = config;
  other.omega_max = 1.9;
  expect_error([&] { load_tuner_state(file, other); }, {"omega.h5", "arm set"});
  other = config;
  other.seed = 12;
  expect_error([&] { load_tuner_state(file, other); }, {"omega.h5", "seed is 11 in the file but 12"});
  other = config;
  other.tsallis_normaliser = "safeguarded";
  expect_error([&] { load_tuner_state(file, other); }, {"omega.h5", "tsallis_normaliser is reference"});
  // Settings that do not shape a Tsallis-INF learner (the context range, bins) may differ.
  other = config;
  other.context_hi = 2.0;
  other.bins = 7;
  BOOST_TEST(load_tuner_state(file, other)->rounds() == 30);
  BOOST_TEST(bytes_of(file) == saved);  // nothing was written by the refusals
  expect_error([&] { load_tuner_state(scratch.dir / "missing.h5", config); }, {"missing.h5"});
}

BOOST_AUTO_TEST_CASE(invalid_state_is_refused_naming_the_entry) {
  Scratch scratch;
  const fs::path good = scratch.dir / "good.h5", bad = scratch.dir / "bad.h5";
  const auto config = config_for("binned");
  auto tuner = make_tuner(config);
  play(*tuner, 0, 40);
  save_tuner_state(good, *tuner, config);
  struct Case {
    std::string what;
    std::function<void(io::H5File&)> edit;
    std::vector<std::string> message;
  };
  const std::vector<Case> cases{
      {"NaN weight",
       [](io::H5File& f) {
         auto c = f.read<double>("/bin1/cumulative");
         c[3] = std::nan("");
         f.write("/bin1/cumulative", c, true);
       },
       {"bad.h5", "bin1/cumulative'[3] is nan"}},
      {"negative pulls",
       [](io::H5File& f) {
         auto p = f.read<std::int64_t>("/pulls");
         p[0] = -1;
         p[1] += 1;
         f.write("/pulls", p, true);
       },
       {"bad.h5", "'pulls'[0] is -1"}},
      {"rounds disagree with the pulls",
       [](io::H5File& f) { f.write("/rounds", Tensor<std::int64_t>({1}, 41), true); },
       {"bad.h5", "add up to 40 but 'rounds' is 41"}},
      {"bins disagree with the learner",
       [](io::H5File& f) {
         auto p = f.read<std::int64_t>("/pulls");
         auto q = p;
         for (index_t i = 0; i + 1 < p.numel(); ++i)
           if (p[i] > 0) {
             q[i] -= 1;
             q[i + 1] += 1;
             break;
           }
         f.write("/pulls", q, true);
         auto c = f.read<double>("/cost_sums");
         for (index_t i = 0; i < c.numel(); ++i) c[i] = q[i] > 0 ? 10.0 * double(q[i]) : 0.0;
         f.write("/cost_sums", c, true);
       },
       {"bad.h5", "do not add up"}},
      {"Tsallis counter",
       [](io::H5File& f) { f.write("/bin0/t", Tensor<std::int64_t>({1}, 1000), true); },
       {"bad.h5", "'bin0/t' is 1000"}},
      {"generator state zeroed",
       [](io::H5File& f) { f.write("/bin2/rng", Tensor<std::int64_t>({5}, 0), true); },
       {"bad.h5", "bin2/rng' is all zero"}},
      {"wrong length",
       [](io::H5File& f) { f.write("/cost_sums", Tensor<double>({11}, 0.0), true); },
       {"bad.h5", "'cost_sums' has 11 values, expected 12"}},
      {"wrong type",
       [](io::H5File& f) { f.write("/pulls", Tensor<std::int32_t>({12}, 1), true); },
       {"bad.h5", "/pulls holds int32"}},
      {"missing entry", [](io::H5File& f) { f.remove("/active_bin"); }, {"bad.h5", "'active_bin' is missing"}},
      {"foreign entry",
       [](io::H5File& f) { f.write("/extra", Tensor<double>({2}, 1.0)); },
       {"bad.h5", "unexpected dataset /extra"}},
      {"newer format",
       [](io::H5File& f) { f.set_attr("/", "format_version", std::int64_t(9)); },
       {"bad.h5", "format version 9"}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      fs::copy_file(good, bad, fs::copy_options::overwrite_existing);
      {
        auto f = io::H5File::open(bad, io::FileMode::read_write);
        c.edit(f);
        f.commit();
      }
      expect_error([&] { load_tuner_state(bad, config); }, c.message);
    }
  }
  BOOST_TEST(load_tuner_state(good, config)->rounds() == 40);
}

BOOST_AUTO_TEST_CASE(a_failed_write_names_the_file_and_keeps_the_previous_one) {
  Scratch scratch;
  const auto config = config_for("chebcb");
  auto tuner = make_tuner(config);
  play(*tuner, 0, 10);
  expect_error([&] { save_tuner_state(scratch.dir / "no_such_folder" / "omega.h5", *tuner, config); },
               {"no_such_folder/omega.h5"});
  // The target is a folder: the temporary is written, the rename onto it fails, the folder stays.
  const fs::path folder = scratch.dir / "taken.h5";
  fs::create_directories(folder / "inside");
  BOOST_CHECK_THROW(save_tuner_state(folder, *tuner, config), Error);
  BOOST_TEST(fs::is_directory(folder / "inside"));
  for (const auto& e : fs::directory_iterator(scratch.dir))  // no temporary left behind
    BOOST_TEST(e.path().filename().string().find(".tmp-") == std::string::npos, e.path());
}

BOOST_AUTO_TEST_SUITE_END()
