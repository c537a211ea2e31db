/* step-04 — a trained operator inside a PETSc program: the initial guess of a Krylov solve.
 *
 * What this step adds to step-03: the model leaves the training program. A simulation code that
 * already owns a DMDA, a matrix and a KSP loads a trained operator and starts its solve from the
 * operator's prediction instead of from zero. The program is written the way such a code is: it
 * creates its own DMDA and Vecs, and neurops only moves fields between the Vecs and the model.
 *
 *   1. the grid and the system: a 2-D DMDA and the Poisson matrix of PETSc's ex45 (pde/poisson.hpp
 *      assembles it; a host code has its own), a right-hand side from a source f and boundary values g;
 *   2. the model: neurops::load_model reads any trained operator with its normalizers; this one maps
 *      the right-hand side b to the solution u (made by `neurops_generate -gen_problem poisson` and
 *      `fno_train`, see the sample runs);
 *   3. the prediction: solvers::apply gathers b from the DMDA in natural order, runs the model on
 *      rank 0, scatters the prediction into x0 and puts the known boundary values in place — the
 *      network is only approximately right there, and the host knows them exactly;
 *   4. solves of the same system from zero, from the boundary values alone and from x0, with the
 *      iteration counts side by side.
 *
 * The same guess without changing a line of a PETSc program: KSPGuess "neurops",
 *   ./ex45 -dll_append libneurops.so -ksp_guess_type neurops -ksp_guess_neurops_model best.h5
 * (solvers/ksp_guess_neurops.hpp). This step shows what that type does, in code one can copy.
 *
 * Sample runs:
 *   ./neurops_generate -gen_problem poisson -poisson_n 33 -gen_samples 200 -gen_out poisson.h5
 *   ./fno_train -fno_data poisson.h5 -fno_normalizer pointwise -fno_epochs 30 -fno_out fno_poisson
 *   ./step-04_initial_guess_in_petsc -step_model fno_poisson/best.h5
 *   mpiexec -n 2 ./step-04_initial_guess_in_petsc -step_model fno_poisson/best.h5 -ksp_type cg -pc_type gamg
 */
#include <cstdio>

#include <petscdmda.h>
#include <neurops/neurops.hpp>

using namespace neurops;

class Step04 {
 public:
  void run() {
    if (!read_options()) return;
    make_grid_and_system();
    load_the_model();
    predict_the_solution();
    const PetscInt from_zero = solve(Start::zero);
    const PetscInt from_boundary = solve(Start::boundary_values);
    const PetscInt from_guess = solve(Start::prediction);
    PetscPrintf(PETSC_COMM_WORLD,
                "KSP iterations from zero: %d, from the boundary values alone: %d, from the prediction: %d\n",
                int(from_zero), int(from_boundary), int(from_guess));
  }

 private:
  bool read_options() {
    Options opt("step-04: a trained operator gives a KSP its initial guess", "step_");
    model_path_ = opt.string("model", "", "trained operator b -> u (HDF5 checkpoint, e.g. fno_poisson/best.h5)");
    n_ = opt.integer("n", 33, "grid nodes per side (the model's training grid)");
    seed_ = opt.integer("seed", 7, "seed of the source and boundary values");
    opt.solver_prefix("", "the KSP and PC of the three solves (default CG + Jacobi)");
    if (opt.help_requested()) return false;
    NEUROPS_CHECK(!model_path_.empty(), "option -step_model: give the trained operator (see the sample runs)");
    return true;
  }

  // 1. A host code creates its grid and assembles its system; here ex45's 2-D Poisson matrix and
  //    b = A u for a smooth source f and boundary values g.
  void make_grid_and_system() {
    dm_ = pde::poisson_grid(PETSC_COMM_WORLD, 2, PetscInt(n_));
    A_ = pde::assemble_poisson(dm_);
    pde::PoissonSolver fields(2, n_, {.comm = PETSC_COMM_SELF});  // only for rhs(): b from f and g
    Rng rng{static_cast<std::uint64_t>(seed_)};
    Tensor<double> f = pde::smooth_random_field(2, n_, rng), g = pde::smooth_random_field(2, n_, rng);
    Tensor<double> b = fields.rhs(f, g);
    b.reshape({1, 1, n_, n_});
    g.reshape({1, 1, n_, n_});
    NEUROPS_PETSC(DMCreateGlobalVector(dm_, b_.out()));
    NEUROPS_PETSC(VecDuplicate(b_, g_.out()));
    NEUROPS_PETSC(VecDuplicate(b_, x0_.out()));
    NEUROPS_PETSC(VecDuplicate(b_, x_.out()));
    solvers::from_tensor(dm_, b, b_);  // every rank has the whole field and keeps its own part
    solvers::from_tensor(dm_, g, g_);
  }

  // 2. One call: the model type, its configuration, weights and normalizers come from the file.
  void load_the_model() {
    model_ = std::make_unique<TrainedModel<float>>(load_model<float>(model_path_));
    PetscPrintf(PETSC_COMM_WORLD, "loaded %s from %s: %lld -> %lld channels, trained on a %s grid\n",
                model_->type().c_str(), model_path_.c_str(), (long long)model_->in_channels(),
                (long long)model_->out_channels(), format_tuple(model_->grid()).c_str());
  }

  // 3. x0 = model(b) with the Dirichlet nodes (the box faces) set to g. A DMDA that does not fit the
  //    model (grid, channels) is an error naming the file and both shapes.
  void predict_the_solution() { solvers::apply(*model_, dm_, b_, x0_, solvers::DirichletNodes::box(g_)); }

  // 4. The host's own KSP (CG + Jacobi unless -ksp_type, -pc_type, -ksp_rtol ... say otherwise), from
  //    zero, from the boundary values alone (0 inside: what the known Dirichlet data save without any
  //    model — ex45's matrix is not symmetric, and CG from a start with wrong boundary values pays for
  //    it), and from the prediction. The honest measure of the model is the last against the second.
  enum class Start { zero, boundary_values, prediction };
  PetscInt solve(Start start) {
    PetscKSP ksp;
    NEUROPS_PETSC(KSPCreate(PETSC_COMM_WORLD, ksp.out()));
    NEUROPS_PETSC(KSPSetOperators(ksp, A_, A_));
    NEUROPS_PETSC(KSPSetType(ksp, KSPCG));
    PC pc = nullptr;
    NEUROPS_PETSC(KSPGetPC(ksp, &pc));
    NEUROPS_PETSC(PCSetType(pc, PCJACOBI));
    NEUROPS_PETSC(KSPSetTolerances(ksp, 1e-8, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
    NEUROPS_PETSC(KSPSetFromOptions(ksp));
    NEUROPS_PETSC(VecSet(x_, 0.0));
    if (start == Start::boundary_values) solvers::impose_dirichlet(dm_, solvers::DirichletNodes::box(g_), x_);
    if (start == Start::prediction) NEUROPS_PETSC(VecCopy(x0_, x_));
    NEUROPS_PETSC(KSPSetInitialGuessNonzero(ksp, start == Start::zero ? PETSC_FALSE : PETSC_TRUE));
    NEUROPS_PETSC(KSPSolve(ksp, b_, x_));
    KSPConvergedReason reason;
    PetscInt its = 0;
    NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
    NEUROPS_PETSC(KSPGetIterationNumber(ksp, &its));
    NEUROPS_CHECK(reason > 0, "the KSP did not converge: " << KSPConvergedReasons[reason]);
    return its;
  }

  std::string model_path_;
  index_t n_ = 33;
  std::int64_t seed_ = 7;
  PetscDM dm_;
  PetscMat A_;
  PetscVec b_, g_, x0_, x_;
  std::unique_ptr<TrainedModel<float>> model_;
};

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv, "step-04: a trained operator as the initial guess of a KSP\n");
  try {
    Step04 step;
    step.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "step-04: error: %s\n", e.what());
    return 1;
  }
}
