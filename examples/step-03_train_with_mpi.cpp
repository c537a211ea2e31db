/* step-03 — the same training on several MPI processes.
 *
 * What this step adds to step-02: data parallelism. Run it with
 *
 *   mpiexec -n 2 ./step-03_train_with_mpi
 *
 * and every rank takes its share of each global batch of 8 samples. After the backward pass, the
 * gradients of all ranks are summed with one MPI_Allreduce, and every rank takes the same optimizer
 * step, so all ranks hold the same model at all times. Compared with one process, the losses agree up
 * to rounding (the order of the sums changes), and the wall time of an epoch falls with the ranks as
 * long as each share is large enough to keep a core busy.
 *
 * The only changes from step-02:
 *   1. the Trainer gets the communicator (TrainerOptions::comm);
 *   2. data generation gives each rank its own samples and gathers them (a sample is one small PETSc
 *      solve on PETSC_COMM_SELF, so the solves need no communication);
 *   3. rank 0 alone writes files and prints — neurops' Trainer does this by itself, and the program
 *      does the same for its own output.
 *
 * Sample runs:
 *   mpiexec -n 2 ./step-03_train_with_mpi
 *   mpiexec -n 2 ./step-03_train_with_mpi -step_epochs 40 -step_out /tmp/run
 *   ./step-03_train_with_mpi                          # one rank works too
 */
#include <cstdio>
#include <filesystem>

#include <neurops/neurops.hpp>

using namespace neurops;
namespace fs = std::filesystem;

class Step03 {
 public:
  void run() {
    MPI_Comm_rank(PETSC_COMM_WORLD, &rank_);
    MPI_Comm_size(PETSC_COMM_WORLD, &size_);
    if (!read_options()) return;
    make_data();
    train();
    if (rank_ == 0) use_the_saved_model();
  }

 private:
  bool read_options() {
    Options opt("step-03: data-parallel training under MPI", "step_");
    n_ = opt.integer("n", 32, "grid points per side");
    epochs_ = opt.integer("epochs", 10, "training epochs");
    out_ = opt.string("out", "step-03_output", "output folder (checkpoints, logs)");
    opt.solver_prefix("darcy_", "the Darcy data solver's KSP and PC");
    return !opt.help_requested();
  }

  // Rank r solves samples r, r + P, r + 2P, ...; one allgather puts every sample on every rank in
  // the order of a one-rank run, so the training data do not depend on the number of ranks.
  nn::FieldDataset<float> distributed_darcy(index_t count, std::uint64_t seed) const {
    nn::FieldDataset<float> all(Tensor<float>({count, 1, n_, n_}), Tensor<float>({count, 1, n_, n_}));
    const index_t per = n_ * n_;
    for (index_t s = rank_; s < count; s += size_) {
      const auto one = pde::darcy_dataset(n_, 1, seed, "", nullptr, /*first=*/s, PETSC_COMM_SELF);
      std::copy(one.inputs.begin(), one.inputs.end(), all.inputs.data() + s * per);
      std::copy(one.targets.begin(), one.targets.end(), all.targets.data() + s * per);
    }
    // Each sample is non-zero on exactly one rank: a sum over ranks gathers them.
    MPI_Allreduce(MPI_IN_PLACE, all.inputs.data(), int(all.inputs.numel()), MPI_FLOAT, MPI_SUM, PETSC_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, all.targets.data(), int(all.targets.numel()), MPI_FLOAT, MPI_SUM, PETSC_COMM_WORLD);
    return all;
  }

  void make_data() {
    train_ = distributed_darcy(160, 1);
    validation_ = distributed_darcy(20, 2);
    test_ = distributed_darcy(20, 3);
    if (rank_ == 0) std::printf("%lld training samples made on %d ranks\n", (long long)train_.size(), size_);
  }

  void train() {
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
    nn::Trainer<float> trainer(model, adam, &schedule, loss,
                               {.epochs = epochs_,
                                .batch_size = batch,  // the global batch, shared by the ranks
                                .scheduler_per_batch = true,
                                .output_dir = out_,
                                .comm = PETSC_COMM_WORLD});
    trainer.set_normalizers(nn::Normalizer<float>::unit_gaussian(train_.inputs.view(), false),
                            nn::Normalizer<float>::unit_gaussian(train_.targets.view(), false));
    Timer timer;
    trainer.fit(train_, &validation_);
    if (rank_ == 0)
      std::printf("%lld epochs on %d rank%s in %s\n", (long long)epochs_, size_, size_ > 1 ? "s" : "",
                  format_duration(timer.seconds()).c_str());
  }

  void use_the_saved_model() {
    auto model = load_model<float>(fs::path(out_) / "best.h5");
    const Tensor<float> u = model.predict(test_.inputs);
    std::printf("test relative L2 error of best.h5: %.4e\n", nn::LpLoss<float>(2).evaluate(u, test_.targets));
  }

  int rank_ = 0, size_ = 1;
  index_t n_ = 32;
  std::int64_t epochs_ = 10;
  std::string out_;
  nn::FieldDataset<float> train_, validation_, test_;
};

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv, "step-03: data-parallel training under MPI\n");
  try {
    Step03 step;
    step.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "step-03: error: %s\n", e.what());
    return 1;
  }
}
