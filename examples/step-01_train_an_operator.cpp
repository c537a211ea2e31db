/* step-01 — train a neural operator on data from a PDE solver.
 *
 * The first tutorial step. It shows the shortest complete path through neurops' public API:
 *
 *   1. make data with a real solver: Darcy flow -div(a grad u) = 1 on the unit square, u = 0 on the
 *      boundary, for random piecewise-constant coefficients a (pde::darcy_dataset, PETSc CG + GAMG);
 *   2. build a model: an MgNO, whose layers are multigrid V-cycles (operators::Mgno);
 *   3. train it with the one training loop of the library (nn::Trainer): normalizers fitted on the
 *      training set, the relative H1 loss, Adam with a OneCycle schedule;
 *   4. measure the relative L2 error on coefficients the model has never seen.
 *
 * Everything is seeded: the same options give the same numbers on the same build.
 *
 * Sample runs:
 *   ./step-01_train_an_operator                      # 32 x 32 grid, 200 samples, 20 epochs, ~1 minute
 *   ./step-01_train_an_operator -step_n 64 -step_epochs 40
 *   ./step-01_train_an_operator -help
 */
#include <cstdio>

#include <neurops/neurops.hpp>

using namespace neurops;

class Step01 {
 public:
  void run() {
    if (!read_options()) return;  // -help: the options are listed, nothing else runs
    make_data();
    setup_model();
    train();
    evaluate();
  }

 private:
  // The options database is neurops' one configuration mechanism: every value below can be changed
  // from the command line (-step_epochs 40) and -help lists them with their defaults.
  bool read_options() {
    Options opt("step-01: train an MgNO on Darcy flow", "step_");
    n_ = opt.integer("n", 32, "grid points per side");
    samples_ = opt.integer("samples", 200, "training samples");
    epochs_ = opt.integer("epochs", 20, "training epochs");
    opt.solver_prefix("darcy_", "the Darcy data solver's KSP and PC");
    return !opt.help_requested();
  }

  // Training and test sets come from disjoint seed streams, so the test coefficients are unseen.
  void make_data() {
    train_ = pde::darcy_dataset(n_, samples_, /*seed=*/1, "train data");
    test_ = pde::darcy_dataset(n_, 20, /*seed=*/2, "test data");
  }

  // Three multigrid levels (32 -> 16 -> 8), zero padding in the convolutions = Dirichlet data.
  void setup_model() {
    config_.width = 12;
    config_.layers = 3;
    config_.pre_smoothing = {1, 1, 2};
    config_.post_smoothing = {0, 0, 0};
    model_ = std::make_unique<operators::Mgno<float>>(config_);
    std::printf("MgNO with %lld parameters\n", (long long)model_->parameter_count());
  }

  // The Trainer runs epochs of shuffled mini-batches, shows progress with an ETA and applies the
  // normalizers: the model sees standardised fields, the loss sees physical units.
  void train() {
    nn::Adam<float> adam(*model_, {.lr = 2e-3, .weight_decay = 1e-4});
    const index_t batch = 8, steps = epochs_ * ((samples_ + batch - 1) / batch);
    nn::OneCycleLr<float> schedule(adam, 2e-3, std::max<index_t>(steps, 2));
    nn::H1Loss<float> loss(2, {false, false});  // non-periodic differences: Dirichlet data
    trainer_ = std::make_unique<nn::Trainer<float>>(
        *model_, adam, &schedule, loss,
        nn::TrainerOptions{.epochs = epochs_, .batch_size = batch, .scheduler_per_batch = true});
    trainer_->set_normalizers(nn::Normalizer<float>::unit_gaussian(train_.inputs.view(), false),
                              nn::Normalizer<float>::unit_gaussian(train_.targets.view(), false));
    trainer_->fit(train_, nullptr);
  }

  void evaluate() {
    const double error = trainer_->evaluate(test_, nn::LpLoss<float>(2));
    std::printf("test relative L2 error after %lld epochs: %.4e\n", (long long)epochs_, error);
  }

 private:
  index_t n_ = 32, samples_ = 200, epochs_ = 20;
  nn::FieldDataset<float> train_, test_;
  operators::MgnoConfig config_;
  std::unique_ptr<operators::Mgno<float>> model_;
  std::unique_ptr<nn::Trainer<float>> trainer_;
};

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv, "step-01: train a neural operator\n");
  try {
    Step01 step;
    step.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "step-01: error: %s\n", e.what());
    return 1;
  }
}
