#define BOOST_TEST_MODULE neurops_trainer
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <limits>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/time_series.hpp"
#include "neurops/nn/trainer.hpp"
#include "neurops/operators/fno.hpp"
#include "synthetic.hpp"

using namespace neurops;
using namespace neurops::nn;
using namespace neurops::operators;
namespace fs = std::filesystem;

namespace {
FnoConfig small_config(index_t width = 8) {
  FnoConfig c;
  c.in_channels = 1;
  c.width = width;
  c.modes = {4};
  c.layers = 2;
  c.projection_channels = 16;
  c.seed = 11;
  return c;
}

struct Run {
  Fno<float> model;
  Adam<float> adam;
  StepLr<float> sched;
  LpLoss<float> loss{2};
  Trainer<float> trainer;
  Run(const FnoConfig& c, const TrainerOptions& o)
      : model(c), adam(model, {.lr = 3e-3}), sched(adam, 1, 0.7), trainer(model, adam, &sched, loss, o) {}
};

TrainerOptions options(std::int64_t epochs, const fs::path& out = {}) {
  TrainerOptions o;
  o.epochs = epochs;
  o.batch_size = 4;
  o.seed = 5;
  o.output_dir = out;
  o.verbose = false;
  return o;
}
}  // namespace

BOOST_AUTO_TEST_CASE(training_reduces_the_error) {
  const auto data = periodic_poisson<float>(24, 16, 1);
  const auto val = periodic_poisson<float>(8, 16, 2);
  Run r(small_config(), options(6));
  r.trainer.set_normalizers(Normalizer<float>::unit_gaussian(data.inputs.view(), false), Normalizer<float>());
  const LpLoss<float> rel(2);
  const double before = r.trainer.evaluate(val, rel);
  const auto& st = r.trainer.fit(data, &val);
  BOOST_TEST(st.epoch == 6);
  BOOST_TEST(st.train_loss.size() == 6u);
  BOOST_TEST(st.validation_metric.back() < 0.6 * before);
  BOOST_TEST(st.learning_rate[1] == st.learning_rate[0] * 0.7, boost::test_tools::tolerance(1e-9));
  // The best evaluation fell at the end of epoch best_epoch (1-based): 24 samples / batch 4 = 6 steps each.
  BOOST_TEST(st.best_epoch >= 1);
  BOOST_TEST(st.best_step == 6 * st.best_epoch);
}

BOOST_AUTO_TEST_CASE(resume_is_bit_exact) {
  const auto data = periodic_poisson<float>(12, 16, 3);
  const fs::path dir = "trainer_scratch/resume";
  fs::remove_all(dir);
  Run straight(small_config(), options(4));
  straight.trainer.set_normalizers(Normalizer<float>::unit_gaussian(data.inputs.view(), false), Normalizer<float>());
  straight.trainer.fit(data, nullptr);

  {
    Run first(small_config(), options(2, dir));
    first.trainer.set_normalizers(Normalizer<float>::unit_gaussian(data.inputs.view(), false), Normalizer<float>());
    first.trainer.fit(data, nullptr);
  }
  Run second(small_config(), options(4, dir));
  second.trainer.resume(dir / "checkpoint.h5");
  BOOST_TEST(second.trainer.state().epoch == 2);
  second.trainer.fit(data, nullptr);

  auto a = straight.model.named_parameters(), b = second.model.named_parameters();
  BOOST_TEST_REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    BOOST_TEST(std::equal(a[i].param->value.begin(), a[i].param->value.end(), b[i].param->value.begin()),
               "parameter " << a[i].name << " differs after resume");
  BOOST_TEST(straight.trainer.state().train_loss == second.trainer.state().train_loss);
  BOOST_TEST(fs::exists(dir / "loss.csv"));
  BOOST_TEST(io::H5File::open(dir / "history.h5").shape("/train_loss") == Shape({4}));
}

BOOST_AUTO_TEST_CASE(loading_another_configuration_names_the_parameter) {
  const fs::path dir = "trainer_scratch/config";
  fs::remove_all(dir);
  const auto data = periodic_poisson<float>(4, 16, 4);
  Run r(small_config(8), options(1, dir));
  r.trainer.fit(data, nullptr);
  Run other(small_config(6), options(1));
  try {
    other.trainer.resume(dir / "checkpoint.h5");
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("checkpoint.h5") != std::string::npos);
    BOOST_TEST(m.find("lifting.weight") != std::string::npos);  // the first parameter that differs
    BOOST_TEST(m.find("(8, 1, 1, 1)") != std::string::npos);
    BOOST_TEST(m.find("(6, 1, 1, 1)") != std::string::npos);
  }
  BOOST_CHECK_THROW(other.trainer.resume(dir / "missing.h5"), Error);
}

BOOST_AUTO_TEST_CASE(a_failed_write_keeps_the_old_checkpoint) {
  const fs::path dir = "trainer_scratch/atomic";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto data = periodic_poisson<float>(4, 16, 5);
  Run r(small_config(), options(1, dir));
  r.trainer.fit(data, nullptr);
  const auto before = fs::file_size(dir / "checkpoint.h5");
  // A model whose configuration cannot be written: the failure comes half-way through the file.
  struct FailingFno : Fno<float> {
    using Fno<float>::Fno;
    void save_config(io::H5File&, const std::string&) const override { throw std::runtime_error("disk full"); }
  };
  FailingFno model(small_config());
  CheckpointContents<float> c;
  c.model = &model;
  BOOST_CHECK_THROW(save_checkpoint(dir / "checkpoint.h5", c), std::runtime_error);
  BOOST_TEST(fs::file_size(dir / "checkpoint.h5") == before);
  BOOST_CHECK_NO_THROW(r.trainer.resume(dir / "checkpoint.h5"));
  int temporaries = 0;
  for (const auto& e : fs::directory_iterator(dir))
    temporaries += e.path().filename().string().find(".tmp-") != std::string::npos;
  BOOST_TEST(temporaries == 0);
}

BOOST_AUTO_TEST_CASE(non_finite_data_is_named_and_divergence_names_epoch_and_batch) {
  auto data = periodic_poisson<float>(8, 16, 6);
  data.inputs(5, 0, 3, 3) = std::numeric_limits<float>::quiet_NaN();
  Run r(small_config(), options(2));
  auto expect = [&](const std::vector<std::string>& parts) {
    try {
      r.trainer.fit(data, nullptr);
      BOOST_FAIL("no error");
    } catch (const Error& e) {
      const std::string m = e.what();
      BOOST_TEST_MESSAGE(m);
      for (const auto& p : parts) BOOST_TEST(m.find(p) != std::string::npos, "'" << p << "' not in: " << m);
    }
  };
  // Bad data are reported as bad data, naming the sample, before any training step.
  expect({"training data", "inputs of sample 5", "non-finite"});
  data.inputs(5, 0, 3, 3) = 0;
  data.targets(5, 0, 3, 3) = std::numeric_limits<float>::infinity();
  expect({"training data", "targets of sample 5", "non-finite"});
  // A learning rate that blows the weights up is a divergence, named by epoch and batch.
  data.targets(5, 0, 3, 3) = 0;
  Fno<float> model(small_config());
  Adam<float> adam(model, {.lr = 1e30});
  LpLoss<float> loss(2);
  Trainer<float> t(model, adam, nullptr, loss, options(3));
  try {
    t.fit(data, nullptr);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("epoch") != std::string::npos);
    BOOST_TEST(m.find("batch") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_resumed_run_restores_the_best_model_of_the_earlier_run) {
  const fs::path dir = "trainer_scratch/best_after_resume";
  fs::remove_all(dir);
  const auto data = periodic_poisson<float>(12, 16, 8);
  const auto val = periodic_poisson<float>(4, 16, 9);
  {
    Run first(small_config(), options(3, dir));
    first.trainer.fit(data, &val);
  }
  // Load the best state written so far: its history is consistent (one entry per evaluation).
  Fno<float> probe(small_config());
  TrainingState best_state;
  CheckpointContents<float> bc;
  bc.model = &probe;
  bc.state = &best_state;
  load_checkpoint(dir / "best.h5", bc);
  BOOST_TEST(best_state.points() == best_state.validation_metric.size());
  BOOST_TEST(best_state.best_step == best_state.step);
  BOOST_TEST(best_state.best_epoch == best_state.epoch);  // evaluated at the end of that epoch
  BOOST_TEST(best_state.pending_samples == 0.0);          // its loss is in train_loss already

  // Resume and continue to the same epoch: nothing is trained in this process, so restore_best must
  // take the best parameters of the earlier run from best.h5 (not the last epoch's weights).
  Run second(small_config(), options(3, dir));
  second.trainer.resume(dir / "checkpoint.h5");
  second.trainer.fit(data, &val);
  second.trainer.restore_best();
  auto restored = second.model.named_parameters(), expected = probe.named_parameters();
  for (std::size_t i = 0; i < restored.size(); ++i)
    BOOST_TEST(restored[i].param->value.vec() == expected[i].param->value.vec(), restored[i].name);
}

BOOST_AUTO_TEST_CASE(inconsistent_training_state_is_refused) {
  const fs::path dir = "trainer_scratch/inconsistent";
  fs::remove_all(dir);
  const auto data = periodic_poisson<float>(8, 16, 10);
  {
    Run r(small_config(), options(2, dir));
    r.trainer.fit(data, nullptr);
  }
  auto expect = [&](const std::string& what, const std::vector<std::string>& parts) {
    Run r(small_config(), options(3));
    try {
      r.trainer.resume(dir / "bad.h5");
      BOOST_FAIL("no error for " << what);
    } catch (const Error& e) {
      const std::string m = e.what();
      BOOST_TEST_MESSAGE(m);
      BOOST_TEST(m.find("bad.h5") != std::string::npos, m);
      for (const auto& p : parts) BOOST_TEST(m.find(p) != std::string::npos, "'" << p << "' not in: " << m);
    }
  };
  auto corrupt = [&](auto&& change) {
    fs::copy_file(dir / "checkpoint.h5", dir / "bad.h5", fs::copy_options::overwrite_existing);
    auto f = io::H5File::open(dir / "bad.h5", io::FileMode::read_write);
    change(f);
  };
  corrupt([](io::H5File& f) { f.write("/training/train_loss", Tensor<double>({3}, 0.5), true); });
  expect("series lengths", {"/training/train_loss has 3 entries", "/training/steps has 2"});
  corrupt([](io::H5File& f) { f.set_attr("/training", "epoch", std::int64_t(1000000000)); });
  expect("epoch", {"epoch 1000000000"});
  corrupt([](io::H5File& f) {
    f.write("/parameters/lifting.weight",
            Tensor<float>(f.shape("/parameters/lifting.weight"), std::numeric_limits<float>::quiet_NaN()), true);
  });
  expect("NaN weights", {"lifting.weight", "NaN"});
  corrupt([](io::H5File& f) { f.set_attr("/scheduler", "last_epoch", std::int64_t(-100)); });
  expect("scheduler epoch", {"last_epoch -100"});
  corrupt([](io::H5File& f) { f.set_attr("/optimizer/lifting.weight", "step", std::int64_t(1) << 62); });
  expect("optimizer step", {"step 4611686018427387904", "lifting.weight"});
  corrupt([](io::H5File& f) { f.remove("/normalizers"); });
  expect("missing normalizers", {"/normalizers/input"});
}

BOOST_AUTO_TEST_CASE(bad_data_is_rejected) {
  auto data = periodic_poisson<float>(8, 16, 7);
  Run r(small_config(), options(1));
  FieldDataset<float> mismatched{data.inputs, Tensor<float>(data.targets.slice(0, 7))};
  BOOST_CHECK_THROW(r.trainer.fit(mismatched, nullptr), Error);
  FieldDataset<float> channels{Tensor<float>({8, 2, 16, 16}), data.targets};
  try {
    r.trainer.fit(channels, nullptr);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("(4, 2, 16, 16)") != std::string::npos);
  }
  FieldDataset<float> empty{Tensor<float>({0, 1, 16, 16}), Tensor<float>({0, 1, 16, 16})};
  BOOST_CHECK_THROW(r.trainer.fit(empty, nullptr), Error);
}

BOOST_AUTO_TEST_CASE(time_series_train_through_the_same_loop) {
  // Trajectories u(t) = 0.8^t f of random fields f: 2 frames in, the next 2 out.
  Rng rng(12);
  const index_t n = 12, steps = 6;
  Tensor<float> traj({n, steps, 16, 16});
  const auto fields = periodic_poisson<float>(n, 16, 12);
  for (index_t i = 0; i < n; ++i)
    for (index_t t = 0; t < steps; ++t)
      for (index_t p = 0; p < 256; ++p)
        traj[(i * steps + t) * 256 + p] = std::pow(0.8f, float(t)) * fields.inputs[i * 256 + p];
  const TimeSeriesDataset<float> data(traj, 2, 2, 1);
  const auto b = data.batch({3, 5});
  BOOST_TEST(b.inputs[0].shape() == Shape({2, 2, 16, 16}));
  BOOST_TEST(b.targets.shape() == Shape({2, 2, 16, 16}));
  BOOST_TEST(b.inputs[0](1, 0, 4, 7) == traj(5, 1, 4, 7));  // frames 1, 2 in
  BOOST_TEST(b.targets(0, 1, 2, 3) == traj(3, 4, 2, 3));    // frames 3, 4 out
  FnoConfig c = small_config();
  c.in_channels = 2;
  c.out_channels = 2;
  Fno<float> model(c);
  Adam<float> adam(model, {.lr = 3e-3});
  LpLoss<float> loss(2);
  Trainer<float> t(model, adam, nullptr, loss, options(8));
  const double before = t.evaluate(data);
  t.fit(data, nullptr);
  BOOST_TEST(t.evaluate(data) < 0.5 * before);
  BOOST_TEST((model.training_grid() == std::vector<index_t>{16, 16}));
  try {
    TimeSeriesDataset<float> too_short(traj, 4, 3);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("need 7 time steps, the trajectories have 6") != std::string::npos, e.what());
  }
}
