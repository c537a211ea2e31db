// dcdm_poisson — the Deep Conjugate Direction Method on the 7-point Dirichlet Poisson problem.
//
// What it shows:
//   1. training data as the reference builds it (approximate eigenvectors of the training matrix,
//      c_j ~ N(0,1), the lowest m/2 + theta modes weighted 9x, unit norm), here from the exact sine
//      modes of the box through a 3-D DST (FFTW), written to a resumable HDF5 file
//   2. the DCDM CNN (the reference's N=64 or N=128 variant) trained with the unsupervised,
//      scale-invariant loss ||b - alpha A q||^2 on the sparse PETSc matrix (Adam, batch 10, best
//      epoch kept), saved as a standard neurops checkpoint
//   3. the trained network inside PETSc as KSP "dcdm", against CG, CG+ICC(0), CG+GAMG and
//      CG+BoomerAMG on larger grids (the network is fully convolutional), random and smooth
//      right-hand sides, optionally with a solid sphere in the domain: all to ||r|| < rtol ||b||
//   4. a table of iterations and time, residual histories as CSV and PNG
//
// Sample runs:
//   ./dcdm_poisson                                             # train at 32^3, compare at 64^3
//   ./dcdm_poisson -dcdm_model ../models/dcdm_poisson.h5 -dcdm_test_n 64,128   # no training
//   ./dcdm_poisson -dcdm_n 16 -dcdm_samples 40 -dcdm_epochs 1 -dcdm_test_n 16  # seconds
//   ./dcdm_poisson -dcdm_obstacle 0.2 -dcdm_rhs random,smooth
//   ./dcdm_poisson -help
#include <petscdmda.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "neurops/neurops.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/dcdm.hpp"
#include "neurops/solvers/dcdm_training.hpp"
#include "neurops/solvers/petsc_types.hpp"
#include "neurops/solvers/solver_comparison.hpp"

namespace fs = std::filesystem;
using namespace neurops;

namespace {

/// Solid flags of a sphere of radius `fraction` n centred in the box (natural x-fastest order).
std::vector<std::uint8_t> sphere(index_t n, double fraction) {
  std::vector<std::uint8_t> solid(std::size_t(n * n * n), 0);
  if (fraction <= 0) return solid;
  const double c = 0.5 * double(n - 1), r = fraction * double(n);
  for (index_t k = 0; k < n; ++k)
    for (index_t j = 0; j < n; ++j)
      for (index_t i = 0; i < n; ++i)
        solid[std::size_t((k * n + j) * n + i)] =
            (i - c) * (i - c) + (j - c) * (j - c) + (k - c) * (k - c) <= r * r ? 1 : 0;
  return solid;
}

/// Right-hand side in natural order: "random" N(0,1) entries or a "smooth" Gaussian bump, zero in solids.
PetscVec make_rhs(DM dm, index_t n, const std::string& kind, const std::vector<std::uint8_t>& solid,
                  std::uint64_t seed) {
  PetscVec natural, b;
  NEUROPS_PETSC(DMDACreateNaturalVector(dm, natural.out()));
  NEUROPS_PETSC(DMCreateGlobalVector(dm, b.out()));
  PetscInt lo = 0, hi = 0;
  NEUROPS_PETSC(VecGetOwnershipRange(natural, &lo, &hi));
  Rng rng = Rng::stream(seed, 0);
  PetscScalar* a = nullptr;
  NEUROPS_PETSC(VecGetArray(natural, &a));
  for (index_t id = 0; id < n * n * n; ++id) {  // every rank draws the whole stream: the same b on any split
    const double noise = rng.normal();
    if (id < lo || id >= hi) continue;
    const double x = double(id % n) / n, y = double(id / n % n) / n, z = double(id / (n * n)) / n;
    const double bump = std::exp(-40 * ((x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6) + (z - 0.5) * (z - 0.5)));
    a[id - lo] = solid[std::size_t(id)] ? 0.0 : (kind == "random" ? noise : bump);
  }
  NEUROPS_PETSC(VecRestoreArray(natural, &a));
  NEUROPS_PETSC(DMDANaturalToGlobalBegin(dm, natural, INSERT_VALUES, b));
  NEUROPS_PETSC(DMDANaturalToGlobalEnd(dm, natural, INSERT_VALUES, b));
  return b;
}

struct Case {
  index_t n;
  std::string rhs;
  double obstacle;
  std::vector<solvers::SolverResult> results;
};

/// Step 3: every solver on one grid / right-hand side / domain.
Case compare(index_t n, const std::string& rhs, double obstacle, const std::string& model, double rtol, PetscInt max_it,
             bool baselines) {
  PetscDM dm = pde::dirichlet_grid_3d(PETSC_COMM_WORLD, n, n, n);
  const auto solid = sphere(n, obstacle);
  PetscMat A = pde::assemble_laplacian(dm, solid);
  PetscVec b = make_rhs(dm, n, rhs, solid, 11);
  std::vector<solvers::SolverSpec> specs = {{"DCDM", "dcdm", "none", {{"ksp_dcdm_model", model}}, "cmp_dcdm_"}};
  if (baselines)
    for (auto& s : solvers::poisson_baselines()) specs.push_back(s);
  Case c{n, rhs, obstacle, {}};
  for (const auto& s : specs) c.results.push_back(solvers::run_solver(s, A, dm, b, rtol, max_it));
  return c;
}

std::string case_name(const Case& c) {
  std::ostringstream os;
  os << "n" << c.n << "_" << c.rhs << (c.obstacle > 0 ? "_sphere" : "");
  return os.str();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    // 1. Options (the driver's own first in -help, then the network's under -dcdm_net_).
    PetscSession session(&argc, &argv, "DCDM on the 7-point Dirichlet Poisson problem\n");
    solvers::register_petsc_types();
    Options opt("DCDM Poisson driver", "dcdm_");
    const std::string model_in = opt.string("model", "", "trained model to use (skips data and training)");
    solvers::DcdmDataConfig data;
    data.n = opt.integer("n", 32, "training grid: interior points per side (even)");
    data.samples = opt.integer("samples", 400, "training right-hand sides (10% held out)");
    data.modes = opt.integer("modes", 0, "sine modes m (0: min(10000, n^3/4))");
    data.theta = opt.integer("theta", -1, "the lowest m/2 + theta modes are weighted (-1: m/20)");
    solvers::DcdmTrainConfig train;
    train.epochs = opt.integer("epochs", 10, "training epochs");
    train.batch = opt.integer("batch", 10, "batch size (the reference's 10)");
    train.lr = opt.real("lr", 1e-4, "Adam learning rate (the reference's 1e-4)");
    const auto seed = std::uint64_t(opt.integer("seed", 0, "seed of data, weights and batches"));
    const auto test_n = opt.integers("test_n", {64}, "solve grids (interior points per side, even)");
    const auto rhs_kinds = opt.string("rhs", "random,smooth", "right-hand sides: random, smooth, or both");
    const double obstacle = opt.real("obstacle", 0.0, "also solve with a solid sphere of this radius / n (0: no)");
    const double rtol = opt.real("rtol", 1e-8, "relative tolerance on ||b - Ax|| / ||b|| for every solver");
    const PetscInt max_it = PetscInt(opt.integer("max_it", 2000, "iteration cap"));
    const bool baselines = !opt.flag("no_baselines", false, "run DCDM only");
    const std::string out = opt.string("out", "dcdm_poisson_output", "output folder");
    opt.solver_prefix("cmp_dcdm_", "KSP dcdm of the comparison");
    for (const char* p : {"cmp_cg_", "cmp_icc_", "cmp_gamg_", "cmp_hypre_"})
      opt.solver_prefix(p, "a baseline of the comparison (CG, CG+ICC(0), CG+GAMG, CG+BoomerAMG)");
    const auto net_config = operators::DcdmNetConfig::from_options("dcdm_net_", operators::DcdmNetConfig::variant(64));
    if (opt.help_requested()) return 0;
    fs::create_directories(out);
    data.seed = train.seed = seed;
    train.work_dir = fs::path(out) / "training";

    // 2. Data and training (unless a model is given): resumable data file, then the Trainer.
    std::string model = model_in;
    if (model.empty()) {
      solvers::generate_dcdm_box_data(fs::path(out) / "data.h5", data);
      operators::DcdmNetConfig nc = net_config;
      nc.seed = seed;
      operators::DcdmNet<float> net(nc);
      std::printf("DCDM network: %lld parameters; training at %lld^3 on %lld samples, %lld epochs\n",
                  (long long)net.parameter_count(), (long long)data.n, (long long)data.samples,
                  (long long)train.epochs);
      model = (fs::path(out) / "model.h5").string();
      const auto r = solvers::train_dcdm(net, fs::path(out) / "data.h5", train, model);
      std::printf("trained in %s, best validation loss %.4e at epoch %lld; model: %s\n",
                  format_duration(r.seconds).c_str(), r.best_validation_loss, (long long)r.best_epoch, model.c_str());
    }

    // 3. DCDM against the baselines on every grid and right-hand side.
    std::vector<Case> cases;
    std::vector<double> domains = {0.0};  // the box, and the box with a sphere when asked
    if (obstacle > 0) domains.push_back(obstacle);
    for (const auto n : test_n)
      for (const std::string kind : {"random", "smooth"}) {
        if (rhs_kinds.find(kind) == std::string::npos) continue;
        for (const double obs : domains) {
          cases.push_back(compare(n, kind, obs, model, rtol, max_it, baselines));
          const Case& c = cases.back();
          // 4. Table, residual histories as CSV and PNG.
          std::printf("\n%lld^3, %s right-hand side%s, rtol %g:\n%s", (long long)n, kind.c_str(),
                      obs > 0 ? ", solid sphere" : "", rtol, solvers::results_table(c.results).c_str());
          if (session.rank() == 0) {
            solvers::write_histories_csv(fs::path(out) / (case_name(c) + ".csv"), c.results);
            solvers::write_histories_png(fs::path(out) / (case_name(c) + ".png"), c.results, case_name(c));
          }
        }
      }
    std::printf("\nresidual histories: %s/<case>.csv and .png\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcdm_poisson: error: %s\n", e.what());
    return 1;
  }
}
