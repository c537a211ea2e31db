#include <neurops/neurops.hpp>

using namespace neurops;

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv);  // initialises PETSc/MPI unless the host already did
  solvers::register_petsc_types();     // PC sorbandit, KSP/PC dcdm, KSPGuess neurops
  try {
    auto model = load_model<float>(argc > 1 ? argv[1] : "best.h5");  // type, weights, normalizers
    const index_t n = model.grid().at(0);
    Rng rng(1);
    Tensor<double> a = pde::threshold_coefficient(pde::DirichletGrf(n).sample(rng));
    // 3. Darcy for host codes: assemble, then use the solver's own DM, Mat and KSP.
    pde::DarcySolver darcy(n);
    darcy.assemble(a, Tensor<double>({n, n}, 1.0));
    PetscVec coefficient, x;
    NEUROPS_PETSC(DMCreateGlobalVector(darcy.dm(), coefficient.out()));
    NEUROPS_PETSC(VecDuplicate(coefficient, x.out()));
    // 1. Bridge: a Tensor into a DMDA Vec, the model on the Vec, u = 0 on the box faces.
    a.reshape({1, 1, n, n});
    solvers::from_tensor(darcy.dm(), a, coefficient);
    solvers::apply(model, darcy.dm(), coefficient, x, solvers::DirichletNodes::box());
    darcy.solve(darcy.rhs(), x, /*nonzero_guess=*/true);
    const index_t from_prediction = darcy.last_solve().iterations;
    NEUROPS_PETSC(VecZeroEntries(x));
    darcy.solve(darcy.rhs(), x);
    PetscPrintf(PETSC_COMM_WORLD, "iterations: %d from zero, %d from the prediction\n",
                int(darcy.last_solve().iterations), int(from_prediction));
    // 2. KSPGuess: any KSP with a DMDA takes x0 = model(b) from an operator b -> u through the options
    //    database: -ksp_guess_type neurops -ksp_guess_neurops_model b_to_u.h5 (a prefix as the KSP's)
  } catch (const std::exception& e) {
    PetscPrintf(PETSC_COMM_WORLD, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
