// fno_train — trains the FNO baseline on a dataset file and evaluates it.
//
// What it shows:
//   1. options from the PETSc database (-help lists them all)
//   2. a field dataset read from HDF5 ((N, C, grid...) inputs and outputs, e.g. from
//      neurops_generate), split into train/validation/test with a seed, subsampled by a stride
//   3. normalizers fitted on the training split only
//   4. training with Adam + a scheduler, validation every epoch, best-model tracking, checkpoints
//      (resume with -fno_resume), loss curves in CSV and HDF5; data-parallel under mpiexec
//   5. evaluation: relative L2 on the test split at the training resolution, and zero-shot at the
//      file's full resolution (the same weights on a finer grid)
//   6. predictions and errors of the first test samples as HDF5 + XDMF + PNG, and a results table
//
// Sample runs:
//   ./neurops_generate -gen_problem darcy -gen_samples 200 -darcy_n 129 -gen_out darcy.h5
//   ./fno_train -fno_data darcy.h5 -fno_stride 2 -fno_epochs 50 -fno_out fno_darcy
//   mpiexec -n 2 ./fno_train -fno_data darcy.h5 -fno_stride 2 -fno_epochs 50 -fno_out fno_darcy
//   ./fno_train -fno_data darcy.h5 -fno_out fno_darcy -fno_resume -fno_epochs 100   # continue training
//   ./fno_train -fno_data darcy.h5 -fno_out fno_darcy -fno_overwrite                 # start over in the folder
//   ./fno_train -fno_data sim.h5 -fno_data_petsc_dim 2 -fno_input_name /forcing \
//       -fno_output_name /u                                 # a PETSc code's VecView output
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "neurops/core/options.hpp"
#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/core/strings.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/io/png.hpp"
#include "neurops/io/xdmf.hpp"
#include "neurops/nn/spectral_conv.hpp"
#include "neurops/nn/trainer.hpp"
#include "neurops/operators/fno.hpp"

using namespace neurops;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  // PETSc (and HDF5) shut down after the error below has been reported: the session outlives the try.
  PetscSession session(&argc, &argv, "fno_train: train and evaluate the FNO baseline on a dataset file\n");
  try {
    // 1. Options.
    const bool root = session.rank() == 0;
    Options opt("fno_train", "fno_");
    const std::string data_path = opt.string("data", "", "HDF5 dataset file (required)");
    const std::string input_name = opt.string("input_name", "/inputs", "dataset of input fields (N, C, grid...)");
    const std::string output_name = opt.string("output_name", "/outputs", "dataset of output fields");
    const index_t max_samples = opt.integer("samples", -1, "use the first N samples (-1: all)");
    const index_t petsc_dim = opt.integer(
        "data_petsc_dim", 0,
        "0: neurops datasets (N, C, grid...); 2 or 3: fields written by PETSc's HDF5 viewer on a 2-D/3-D DMDA "
        "(VecView, one sample per time step)",
        0, 3);
    const index_t stride = opt.integer("stride", 1, "train on every s-th grid point (evaluate zero-shot at 1)");
    const double train_fraction = opt.real("train_fraction", 0.8, "fraction of samples for training");
    const double validation_fraction = opt.real("validation_fraction", 0.1, "fraction for validation");
    const std::string out = opt.string("out", "fno_output", "output folder");
    const bool resume = opt.flag("resume", false, "continue from <out>/checkpoint.h5 (its model configuration)");
    const bool overwrite = opt.flag("overwrite", false, "replace the results in an existing output folder");
    nn::TrainerOptions topt;
    topt.epochs = opt.integer("epochs", 20, "epochs");
    topt.batch_size = opt.integer("batch", 16, "global batch size");
    const double lr = opt.real("lr", 1e-3, "learning rate (peak rate with OneCycle)");
    const double weight_decay = opt.real("weight_decay", 1e-4, "AdamW weight decay");
    const std::string schedule =
        opt.choice("scheduler", "onecycle", {"onecycle", "step", "cosine", "none"}, "learning-rate schedule");
    const std::string loss_name =
        opt.choice("loss", "l2", {"l2", "h1", "mse"}, "training loss (relative L2, relative H1, MSE)");
    topt.seed = static_cast<std::uint64_t>(opt.integer("seed", 0, "seed of the split, the batches and the weights"));
    topt.checkpoint_every = opt.integer("checkpoint_every", 1, "epochs between checkpoints");
    // Per-channel statistics work on any grid (zero-shot evaluation); pointwise ones only on the
    // training grid, as in the FNO reference.
    const std::string normalizer = opt.choice("normalizer", "channel", {"channel", "pointwise", "none"},
                                              "unit-Gaussian normalization of inputs and outputs");

    // The model reads its own options under the same prefix (-fno_width, -fno_modes, ...; dims and
    // channels come from the data, and -fno_seed is the one above).
    operators::FnoConfig config;
    config.append_grid = true;
    config.seed = topt.seed;
    config.set_from_options("fno_");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(!data_path.empty(), "option -fno_data: a dataset file is required (see -help)");
    NEUROPS_CHECK(topt.batch_size >= 1, "option -fno_batch: expected >= 1, found " << topt.batch_size);
    NEUROPS_CHECK(topt.epochs >= 1, "option -fno_epochs: expected >= 1, found " << topt.epochs);
    NEUROPS_CHECK(
        resume || overwrite || !fs::exists(fs::path(out) / "checkpoint.h5"),
        "option -fno_out: '" << out << "' already holds a training run (checkpoint.h5); continue it with -fno_resume, "
                             << "replace it with -fno_overwrite, or choose another folder");
    const fs::path checkpoint = fs::path(out) / "checkpoint.h5";
    if (resume) {
      NEUROPS_CHECK(fs::exists(checkpoint), "option -fno_resume: '" << checkpoint.string() << "' does not exist");
      config = operators::FnoConfig::load(io::H5File::open(checkpoint), "/config");  // the run's own model
    }
    NEUROPS_CHECK(stride >= 1, "option -fno_stride: expected >= 1, found " << stride);
    NEUROPS_CHECK(normalizer != "pointwise" || stride == 1,
                  "option -fno_normalizer pointwise: statistics per grid point cannot be used for the zero-shot "
                  "evaluation at another resolution; use -fno_normalizer channel or -fno_stride 1");
    topt.output_dir = out;
    topt.comm = PETSC_COMM_WORLD;

    // 2. Data: the file at full resolution, split by index, subsampled for training.
    Timer wall;
    NEUROPS_CHECK(petsc_dim == 0 || petsc_dim >= 2,
                  "option -fno_data_petsc_dim: expected 0, 2 or 3, found " << petsc_dim);
    const auto full = petsc_dim > 0 ? nn::FieldDataset<float>::load_petsc(data_path, input_name, output_name,
                                                                          int(petsc_dim), 1, max_samples)
                                    : nn::FieldDataset<float>::load(data_path, input_name, output_name, 1, max_samples);
    const nn::Split split = nn::split_indices(full.size(), train_fraction, validation_fraction, topt.seed);
    NEUROPS_CHECK(!split.test.empty(), "dataset '" << data_path << "': no samples left for the test split");
    const auto train = full.subset(split.train).subsampled(stride);
    const auto validation = full.subset(split.validation).subsampled(stride);
    const auto test_full = full.subset(split.test);
    const auto test = test_full.subsampled(stride);
    if (!resume) {
      config.dims = full.inputs.rank() - 2;
      config.in_channels = full.inputs.size(1);
      config.out_channels = full.targets.size(1);
      config.seed = topt.seed;
    }
    NEUROPS_CHECK(config.dims == full.inputs.rank() - 2 && config.in_channels == full.inputs.size(1) &&
                      config.out_channels == full.targets.size(1),
                  "dataset '" << data_path << "': fields " << full.inputs.shape() << " -> " << full.targets.shape()
                              << " do not fit the " << config.dims << "-D model of " << config.in_channels << " -> "
                              << config.out_channels << " channels in " << checkpoint.string());
    // Too many modes for the training grid is an error now, before a model is built.
    const auto modes =
        config.modes.size() == 1 ? std::vector<index_t>(std::size_t(config.dims), config.modes[0]) : config.modes;
    nn::check_modes_fit_grid(modes, train.inputs.shape().tail(2).dims(), "-fno_modes",
                             "the training grid (after -fno_stride " + std::to_string(stride) + ")");

    // 3.-4. Model, optimizer, schedule, loss; normalizers fitted on the training split.
    operators::Fno<float> model(config);
    nn::AdamW<float> adam(model, {.lr = lr, .weight_decay = weight_decay});
    const index_t steps_per_epoch = (train.size() + topt.batch_size - 1) / topt.batch_size;
    std::unique_ptr<nn::LrScheduler<float>> scheduler;
    if (schedule == "onecycle") {
      // OneCycle needs at least two steps.
      scheduler =
          std::make_unique<nn::OneCycleLr<float>>(adam, lr, std::max<std::int64_t>(2, topt.epochs * steps_per_epoch));
      topt.scheduler_per_batch = true;
    } else if (schedule == "step") {
      scheduler = std::make_unique<nn::StepLr<float>>(adam, std::max<std::int64_t>(topt.epochs / 4, 1), 0.5);
    } else if (schedule == "cosine") {
      scheduler = std::make_unique<nn::CosineAnnealingLr<float>>(adam, topt.epochs);
    }
    std::unique_ptr<nn::Loss<float>> loss;
    if (loss_name == "l2")
      loss = std::make_unique<nn::LpLoss<float>>(config.dims);
    else if (loss_name == "h1")
      loss = std::make_unique<nn::H1Loss<float>>(config.dims, std::vector<bool>(config.dims, false));
    else
      loss = std::make_unique<nn::MseLoss<float>>();
    nn::Trainer<float> trainer(model, adam, scheduler.get(), *loss, topt);
    if (resume) {
      trainer.resume(checkpoint);
    } else {
      if (normalizer != "none")
        trainer.set_normalizers(nn::Normalizer<float>::unit_gaussian(train.inputs.view(), normalizer == "channel"),
                                nn::Normalizer<float>::unit_gaussian(train.targets.view(), normalizer == "channel"));
    }
    if (root)
      std::printf("FNO-%dd: %lld parameters; %lld training samples on %s, %lld validation, %lld test\n", config.dims,
                  (long long)model.parameter_count(), (long long)train.size(),
                  train.inputs.shape().tail(2).str().c_str(), (long long)validation.size(), (long long)test.size());
    trainer.fit(train, validation.size() ? &validation : nullptr);
    trainer.restore_best();

    // 5. Evaluation at the training resolution and zero-shot at full resolution.
    const nn::LpLoss<float> rel_l2(config.dims);
    const nn::H1Loss<float> rel_h1(config.dims, std::vector<bool>(config.dims, false));
    const double test_l2 = trainer.evaluate(test, rel_l2);
    const double test_h1 = trainer.evaluate(test, rel_h1);
    // Zero-shot only where the file's grid differs from the training grid (-fno_stride > 1).
    const bool zero_shot = test_full.inputs.shape().tail(2) != test.inputs.shape().tail(2);
    const double zero_shot_l2 = zero_shot ? trainer.evaluate(test_full, rel_l2) : test_l2;
    // The test split at the training resolution, with the error that best.h5 must reproduce.
    if (root) {
      test.save(fs::path(out) / "test_data.h5");
      auto f = io::H5File::open(fs::path(out) / "test_data.h5", io::FileMode::read_write);
      f.set_attr("/", "fno_relative_l2", test_l2);
      f.set_attr("/", "fno_checkpoint", std::string(validation.size() ? "best.h5" : "checkpoint.h5"));
    }

    // 6. Fields of the first test samples at full resolution: input, truth, prediction, error.
    // `written` names every file of this run in the output folder, for the results table.
    std::vector<std::string> written;
    if (topt.checkpoint_every > 0) written.push_back("checkpoint.h5");
    if (validation.size() && topt.save_best) written.push_back("best.h5");
    written.insert(written.end(), {"history.h5", "loss.csv", "test_data.h5", "predictions.h5"});
    if (root) {
      const index_t shown = std::min<index_t>(4, test_full.size());
      Tensor<float> inputs(test_full.inputs.slice(0, shown)), truth(test_full.targets.slice(0, shown));
      Tensor<float> prediction = trainer.predict(inputs);
      Tensor<float> error = prediction;
      error.vec() -= truth.vec();
      const fs::path h5 = fs::path(out) / "predictions.h5";
      {
        auto f = io::H5File::create(h5);
        f.write("/inputs", inputs);
        f.write("/truth", truth);
        f.write("/prediction", prediction);
        f.write("/error", error);
        f.set_attr("/", "source", data_path);
        f.set_attr("/", "test_rel_l2", test_l2);
        f.set_attr("/", "zero_shot_rel_l2", zero_shot_l2);
        f.commit();
      }
      if (config.dims == 2) {
        const auto grid_shape = truth.shape().tail(2).dims();
        std::vector<double> spacing;
        for (auto n : grid_shape) spacing.push_back(1.0 / double(std::max<index_t>(n - 1, 1)));
        const io::UniformGrid grid{grid_shape, {}, spacing};
        auto reader = io::H5File::open(h5);
        io::write_xdmf_series(fs::path(out) / "predictions.xdmf", h5, grid,
                              io::xdmf_sample_steps({io::xdmf_attribute(reader, "/inputs", "input", {0, 0}),
                                                     io::xdmf_attribute(reader, "/truth", "truth", {0, 0}),
                                                     io::xdmf_attribute(reader, "/prediction", "prediction", {0, 0}),
                                                     io::xdmf_attribute(reader, "/error", "error", {0, 0})}));
        const auto first = truth.sample(0);  // colour range of the sample shown
        const double lo = *std::min_element(first.begin(), first.end()),
                     hi = *std::max_element(first.begin(), first.end());
        io::write_png(fs::path(out) / "truth.png", truth.sample(0).reshaped(truth.shape().tail(2)),
                      {.vmin = lo, .vmax = hi});
        io::write_png(fs::path(out) / "prediction.png", prediction.sample(0).reshaped(truth.shape().tail(2)),
                      {.vmin = lo, .vmax = hi});
        io::write_png(fs::path(out) / "error.png", error.sample(0).reshaped(truth.shape().tail(2)),
                      {.colormap = io::Colormap::coolwarm});
        written.insert(written.end(),
                       {"predictions.xdmf", "predictions.xdmf.h5", "truth.png", "prediction.png", "error.png"});
      }

      // 7. Results.
      const auto& st = trainer.state();
      std::printf("\n%-34s %s\n", "result", "value");
      std::printf("%-34s %lld (best %lld)\n", "epochs", (long long)st.epoch, (long long)st.best_epoch);
      if (!st.train_loss.empty()) std::printf("%-34s %.4e\n", "final training loss", st.train_loss.back());
      if (st.best_step >= 0) std::printf("%-34s %.4e\n", "best validation rel. L2", st.best_metric);
      std::printf("%-34s %.4e\n", ("test rel. L2 at " + test.inputs.shape().tail(2).str()).c_str(), test_l2);
      std::printf("%-34s %.4e\n", ("test rel. H1 at " + test.inputs.shape().tail(2).str()).c_str(), test_h1);
      if (zero_shot)
        std::printf("%-34s %.4e\n", ("zero-shot rel. L2 at " + test_full.inputs.shape().tail(2).str()).c_str(),
                    zero_shot_l2);
      std::printf("%-34s %s\n", "time", format_duration(wall.seconds()).c_str());
      std::printf("%-34s %s/{%s}\n", "outputs", out.c_str(), join(written, ", ").c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fno_train: error: %s\n", e.what());
    return 1;
  }
}
