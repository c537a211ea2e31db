// t1_navier_stokes — Transform Once (T1) against the FNO baseline on 2-D Navier-Stokes.
//
// What it shows:
//   1. the Transform Once Navier-Stokes task (kairos configs/experiment/navier-stokes/t1.yaml): the
//      initial vorticity w(0) -> the vorticity w(50), nu = 1e-3, 64^2, read from a file written by
//      `neurops_generate -gen_problem navier_stokes` (first samples train, last samples test)
//   2. T1 (24^2 DCT modes, width 48, 8 blocks, GELU, VP initialisation, no inverse transform) trained
//      in the frequency domain with the relative L2 loss on the DCT of the target (RelativeL2DCT);
//      the kept modes are the low corner or, with -t1_selection energy, those that carry the most
//      energy in the training targets
//   3. the FNO of the reference baseline (24 modes, width 32, 6 layers, grid appended) trained with
//      the relative L2 loss on the same data with the same budget: AdamW (lr 1e-3, weight decay
//      1e-4), StepLR(100, 0.5), batch 64
//   4. both models saved (T1 with its inverse transform switched on, so neurops::load_model(...)
//      .predict gives fields), test errors of the reloaded models, predictions and error fields as
//      HDF5 + XDMF + PNG
//   5. a results table (and results.csv): test relative L2, parameters, time per epoch, total time
//
// Sample runs:
//   ./neurops_generate -gen_problem navier_stokes -gen_samples 1200 -ns_n 256 -ns_store 64 -ns_times 50 -gen_out ns.h5
//   ./t1_navier_stokes -t1ns_data ns.h5                                 # the reference setting, 500 epochs
//   ./t1_navier_stokes -t1ns_data ns.h5 -t1ns_train 200 -t1ns_test 50 -t1ns_epochs 20
//   ./t1_navier_stokes -t1ns_data ns.h5 -t1_selection energy -t1ns_no_fno
//   ./t1_navier_stokes -help
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "neurops/neurops.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/t1.hpp"
#include "neurops/pde/navier_stokes_pairs.hpp"
#include "neurops/version.hpp"

namespace fs = std::filesystem;
using namespace neurops;

namespace {

struct Budget {
  std::int64_t epochs;
  index_t batch;
  double lr, weight_decay, gamma;
  std::int64_t step_size;
  std::uint64_t seed;
};

/// Trains with AdamW and StepLR per epoch, as the reference; returns the training seconds.
double train(nn::Model<float>& model, const nn::Loss<float>& loss, const nn::FieldDataset<float>& data, const Budget& b,
             const fs::path& log_dir) {
  nn::AdamW<float> adam(model, {.lr = b.lr, .weight_decay = b.weight_decay});
  nn::StepLr<float> scheduler(adam, b.step_size, b.gamma);
  nn::Trainer<float> trainer(model, adam, &scheduler, loss,
                             {.epochs = b.epochs,
                              .batch_size = b.batch,
                              .seed = b.seed,
                              .output_dir = log_dir,
                              .checkpoint_every = 0,
                              .save_best = false});
  trainer.set_metric(loss);
  Timer timer;
  trainer.fit(data, nullptr);
  return timer.seconds();
}

/// Vorticity fields of the first test samples: input, target, and per model prediction and error.
void write_fields(const fs::path& dir, const nn::FieldDataset<float>& test,
                  const std::vector<std::pair<std::string, Tensor<float>>>& predictions, index_t samples) {
  const index_t n = test.inputs.size(2), s = std::min(samples, test.size());
  auto first = [&](const Tensor<float>& t) { return Tensor<float>(t.slice(0, s)); };
  const fs::path h5 = dir / "navier_stokes_fields.h5";
  std::vector<std::pair<std::string, Tensor<float>>> fields{{"w0", first(test.inputs)},
                                                            {"w_target", first(test.targets)}};
  for (const auto& [name, p] : predictions) {
    Tensor<float> e = first(p);
    e.vec() -= first(test.targets).vec();
    fields.emplace_back("prediction_" + name, first(p));
    fields.emplace_back("error_" + name, std::move(e));
  }
  const double h = 1.0 / double(n);  // periodic grid x_i = i / n
  {
    auto file = io::H5File::create(h5);
    for (const auto& [name, t] : fields) {
      file.write("/" + name, t);
      file.set_attr("/" + name, "grid_shape", std::vector<std::int64_t>{n, n});
      file.set_attr("/" + name, "spacing", std::vector<double>{h, h});
    }
    file.set_attr("/", "problem", std::string("navier_stokes: vorticity w(0) -> w(T)"));
    file.set_attr("/", "neurops_version", std::string(NEUROPS_VERSION_STRING));
    file.commit();
  }
  auto reader = io::H5File::open(h5);
  std::vector<io::XdmfAttribute> attributes;
  for (const auto& [name, t] : fields) attributes.push_back(io::xdmf_attribute(reader, "/" + name, name, {0, 0}));
  io::write_xdmf_series(dir / "navier_stokes_fields.xdmf", h5, io::UniformGrid{{n, n}, {0, 0}, {h, h}},
                        io::xdmf_sample_steps(attributes));
  for (const auto& [name, t] : fields) {
    io::PngOptions png;
    if (name.rfind("error_", 0) == 0) {
      const double m = std::max<double>(t.sample(0).vec().cwiseAbs().maxCoeff(), 1e-12);
      png.colormap = io::Colormap::coolwarm;
      png.vmin = -m;
      png.vmax = m;
    }
    io::write_png(dir / ("navier_stokes_" + name + ".png"), t.sample(0), png);
  }
  std::printf("fields: %s (+ .xdmf, .xdmf.h5, .png)\n", h5.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv, "T1 vs FNO on 2-D Navier-Stokes\n");
  try {
    // 1. Options: the driver's own, then each model reads its own (-t1_..., -fno_...).
    Options opt("T1 on Navier-Stokes", "t1ns_");
    const std::string data = opt.string("data", "", "Navier-Stokes HDF5 file of neurops_generate (required)");
    const double target_time = opt.real("target_time", 50.0, "snapshot time of the target w(T)");
    const index_t n_train = opt.integer("train", 1000, "training samples (the first of the file)");
    const index_t n_test = opt.integer("test", 200, "test samples (the last of the file)");
    const Budget budget{.epochs = opt.integer("epochs", 500, "training epochs (both models)"),
                        .batch = opt.integer("batch", 64, "batch size"),
                        .lr = opt.real("lr", 1e-3, "AdamW learning rate"),
                        .weight_decay = opt.real("weight_decay", 1e-4, "AdamW decoupled weight decay"),
                        .gamma = opt.real("gamma", 0.5, "StepLR factor"),
                        .step_size = opt.integer("step_size", 100, "StepLR period in epochs"),
                        .seed = static_cast<std::uint64_t>(opt.integer("seed", 4444, "seed of weights and batches"))};
    const bool run_fno = !opt.flag("no_fno", false, "skip the FNO baseline");
    const index_t save_samples = opt.integer("save_samples", 4, "test samples written as fields");
    const fs::path out = opt.string("out", "t1_navier_stokes_output", "output folder");
    operators::T1Config tc;  // the reference NS config is the default: 24^2 modes, width 48, 8 blocks
    tc.seed = budget.seed;
    tc.set_from_options("t1_");
    operators::FnoConfig fc;  // the reference baseline: 24 modes, width 32, 6 layers, grid appended
    fc.modes = {24};
    fc.width = 32;
    fc.layers = 6;
    fc.append_grid = true;
    fc.seed = budget.seed;
    fc.set_from_options("fno_");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(!data.empty(),
                  "option -t1ns_data: expected a Navier-Stokes file, e.g. from "
                  "neurops_generate -gen_problem navier_stokes -ns_times 50 -gen_out ns.h5");
    NEUROPS_CHECK(n_train >= 1 && n_test >= 1,
                  "options -t1ns_train/-t1ns_test: expected >= 1, found " << n_train << " and " << n_test);
    fs::create_directories(out);

    // 2. Data: w(0) -> w(T); train on the first samples, test on the last, disjoint.
    const index_t available = io::H5File::open(data).shape("/inputs")[0];
    NEUROPS_CHECK(n_train + n_test <= available,
                  "'" << data << "' holds " << available << " samples, " << n_train << " + " << n_test << " requested");
    const auto train_set = pde::load_navier_stokes_pairs<float>(data, target_time, 0, n_train);
    const auto test_set = pde::load_navier_stokes_pairs<float>(data, target_time, available - n_test, n_test);
    const fs::path test_file = out / "test_data.h5";
    test_set.save(test_file);
    const auto grid = train_set.grid();
    // The FNO baseline's modes are checked against the data grid now, before T1 trains (T1 checks
    // its own when it is built).
    if (run_fno)
      nn::check_modes_fit_grid(fc.modes.size() == 1 ? std::vector<index_t>(grid.size(), fc.modes[0]) : fc.modes,
                               {grid.begin(), grid.end()}, "-fno_modes", "the data grid");
    std::printf("data: %lld train + %lld test samples on %lld x %lld, w(0) -> w(%g) from %s\n", (long long)n_train,
                (long long)n_test, (long long)grid[0], (long long)grid[1], target_time, data.c_str());

    struct Row {
      std::string model;
      index_t params;
      double seconds, l2;
    };
    std::vector<Row> rows;
    std::vector<std::pair<std::string, Tensor<float>>> predictions;
    // Saves, reloads through load_model, evaluates on the test set (physical units) and records.
    auto finish = [&](const std::string& name, nn::Model<float>& model, double seconds) {
      const std::string file = name + ".h5";
      save_model(out / file, model);
      auto loaded = load_model<float>(out / file);
      const Tensor<float> p = loaded.predict(test_set.inputs);
      const double l2 = nn::LpLoss<float>(2).evaluate(p, test_set.targets);
      rows.push_back({name, model.parameter_count(), seconds, l2});
      auto f = io::H5File::open(test_file, io::FileMode::read_write);
      f.set_attr("/", name + "_relative_l2", l2);
      f.set_attr("/", name + "_checkpoint", file);
      predictions.emplace_back(name, p);
    };

    // 3. T1 in the frequency domain.
    tc.in_channels = tc.out_channels = 1;
    tc.grid = grid;
    if (tc.selection == "energy") tc.selected = operators::select_modes_by_energy(train_set.targets, tc.modes);
    operators::T1<float> t1(tc);
    std::printf("T1: %lld parameters, modes %s x %s\n", (long long)t1.parameter_count(),
                format_tuple(tc.kept_indices()[0]).c_str(), format_tuple(tc.kept_indices()[1]).c_str());
    const nn::RelativeL2DctLoss<float> spectral_loss(2);
    const nn::LpLoss<float> field_loss(2);
    const double t1_seconds =
        train(t1, tc.perform_inverse ? static_cast<const nn::Loss<float>&>(field_loss) : spectral_loss, train_set,
              budget, out / "t1_run");
    t1.set_perform_inverse(true);  // the checkpoint predicts fields
    finish("t1", t1, t1_seconds);

    // 4. The FNO baseline, same data and budget.
    if (run_fno) {
      fc.in_channels = fc.out_channels = 1;
      operators::Fno<float> fno(fc);
      std::printf("FNO: %lld parameters\n", (long long)fno.parameter_count());
      finish("fno", fno, train(fno, field_loss, train_set, budget, out / "fno_run"));
    }
    write_fields(out, test_set, predictions, save_samples);

    // 5. Results table.
    std::ostringstream csv;
    csv << "model,parameters,seconds_per_epoch,total_seconds,test_relative_l2\n";
    std::printf("\n%-5s %11s %12s %12s %14s\n", "model", "parameters", "s / epoch", "total", "test rel. L2");
    for (const auto& r : rows) {
      const double per_epoch = r.seconds / double(budget.epochs);
      std::printf("%-5s %11lld %12.3f %12s %14.4e\n", r.model.c_str(), (long long)r.params, per_epoch,
                  format_duration(r.seconds).c_str(), r.l2);
      csv << r.model << "," << r.params << "," << per_epoch << "," << r.seconds << "," << r.l2 << "\n";
    }
    if (rows.size() == 2)
      std::printf("T1 is %.2fx faster per epoch; test error T1 / FNO = %.3f\n", rows[1].seconds / rows[0].seconds,
                  rows[0].l2 / rows[1].l2);
    io::write_text_atomically(out / "results.csv", csv.str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "t1_navier_stokes: error: %s\n", e.what());
    return 1;
  }
}
