/* step-02 — checkpoints, resuming, and loading a trained model in one call.
 *
 * What this step adds to step-01: training that survives an interruption, and a trained model that
 * another program can use without knowing how it was built.
 *
 *   1. train for half the epochs with an output folder: the Trainer writes checkpoint.h5 (model,
 *      optimizer, schedule, normalizers, training state), best.h5 (the epoch with the lowest
 *      validation error), loss.csv and history.h5;
 *   2. "restart the program": a fresh model and Trainer resume from checkpoint.h5 and finish the
 *      remaining epochs. The result is bit for bit the one an uninterrupted run gives;
 *   3. forget everything about the model and load best.h5 with neurops::load_model: one call gives
 *      an object that knows its type, its channels, its training grid and its normalizers, and
 *      predict() takes fields in physical units.
 *
 * Sample runs:
 *   ./step-02_checkpoint_and_load                    # 32 x 32, 10 + 10 epochs, output in step-02_output/
 *   ./step-02_checkpoint_and_load -step_epochs 40 -step_out /tmp/run
 *   ./step-02_checkpoint_and_load -help
 */
#include <cstdio>
#include <filesystem>

#include <neurops/neurops.hpp>

using namespace neurops;
namespace fs = std::filesystem;

class Step02 {
 public:
  void run() {
    if (!read_options()) return;
    make_data();
    train(epochs_ / 2, /*resume=*/false);  // the first half, then the program "stops"
    train(epochs_, /*resume=*/true);       // a new process would do exactly this
    use_the_saved_model();
  }

 private:
  bool read_options() {
    Options opt("step-02: checkpoint, resume and load_model", "step_");
    n_ = opt.integer("n", 32, "grid points per side");
    epochs_ = opt.integer("epochs", 20, "training epochs in total (half before the restart)");
    out_ = opt.string("out", "step-02_output", "output folder (checkpoints, logs)");
    opt.solver_prefix("darcy_", "the Darcy data solver's KSP and PC");
    return !opt.help_requested();
  }

  void make_data() {
    train_ = pde::darcy_dataset(n_, 160, 1, "train data");
    validation_ = pde::darcy_dataset(n_, 20, 2, "validation data");
    test_ = pde::darcy_dataset(n_, 20, 3, "test data");
  }

  // Everything that defines the run is rebuilt the same way in both halves; only the state (weights,
  // optimizer moments, schedule position, normalizers, history) comes from the checkpoint.
  void train(std::int64_t epochs, bool resume) {
    operators::MgnoConfig config;
    config.width = 12;
    config.layers = 3;
    config.pre_smoothing = {1, 1, 2};
    config.post_smoothing = {0, 0, 0};
    operators::Mgno<float> model(config);
    nn::Adam<float> adam(model, {.lr = 2e-3, .weight_decay = 1e-4});
    const index_t batch = 8, steps = epochs_ * ((train_.size() + batch - 1) / batch);
    nn::OneCycleLr<float> schedule(adam, 2e-3, std::max<index_t>(steps, 2));
    nn::H1Loss<float> loss(2, {false, false});
    nn::Trainer<float> trainer(
        model, adam, &schedule, loss,
        {.epochs = epochs, .batch_size = batch, .scheduler_per_batch = true, .output_dir = out_});
    if (resume) {
      trainer.resume(fs::path(out_) / "checkpoint.h5");
      std::printf("resumed after epoch %lld (best so far: epoch %lld)\n", (long long)trainer.state().epoch,
                  (long long)trainer.state().best_epoch);
    } else {
      trainer.set_normalizers(nn::Normalizer<float>::unit_gaussian(train_.inputs.view(), false),
                              nn::Normalizer<float>::unit_gaussian(train_.targets.view(), false));
    }
    trainer.fit(train_, &validation_);
  }

  // The program that uses the model needs nothing but the file.
  void use_the_saved_model() {
    auto model = load_model<float>(fs::path(out_) / "best.h5");
    std::printf("loaded %s: %lld -> %lld channels, trained on a %s grid\n", model.type().c_str(),
                (long long)model.in_channels(), (long long)model.out_channels(), format_tuple(model.grid()).c_str());
    const Tensor<float> u = model.predict(test_.inputs);
    std::printf("test relative L2 error of best.h5: %.4e\n", nn::LpLoss<float>(2).evaluate(u, test_.targets));
  }

  index_t n_ = 32;
  std::int64_t epochs_ = 20;
  std::string out_;
  nn::FieldDataset<float> train_, validation_, test_;
};

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv, "step-02: checkpoints, resume, load_model\n");
  try {
    Step02 step;
    step.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "step-02: error: %s\n", e.what());
    return 1;
  }
}
