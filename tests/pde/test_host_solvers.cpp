// Solvers a host code drives itself: DarcySolver's initial guess and its DM/Mat/KSP, and the Poisson
// problem of PETSc's ex45 (the training data of KSPGuess "neurops").
#include <boost/test/unit_test.hpp>

#include <petscdmda.h>

#include <cmath>

#include "neurops/pde/darcy.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/pde/poisson.hpp"
#include "neurops/solvers/dmda_bridge.hpp"

using namespace neurops;
using namespace neurops::pde;

namespace {

struct DarcyCase {
  index_t n = 33;
  Tensor<double> a, f;
  DarcyCase() : f(Shape{33, 33}, 1.0) {
    DirichletGrf grf(n, GrfSpectrum{.alpha = 2.0, .tau = 3.0});
    Rng rng(11);
    a = threshold_coefficient(grf.sample(rng));
  }
};

double max_abs(const Tensor<double>& x, const Tensor<double>& y) {
  double m = 0;
  for (index_t i = 0; i < x.numel(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(darcy_for_host_codes)

BOOST_AUTO_TEST_CASE(a_good_initial_guess_saves_iterations_and_gives_the_same_solution) {
  DarcyCase c;
  DarcySolver solver(c.n, DarcySettings{.rtol = 1e-8});
  const Tensor<double> u = solver.solve(c.a, c.f);
  const index_t from_zero = solver.last_solve().iterations;
  BOOST_TEST(from_zero > 2);
  // A guess with a 1 % error in the smooth modes (what a trained operator gives, roughly).
  Tensor<double> guess = u;
  for (index_t j = 0; j < c.n; ++j)
    for (index_t i = 0; i < c.n; ++i) guess(j, i) *= 1.0 + 0.01 * std::sin(0.2 * double(i + j));
  const Tensor<double> v = solver.solve(c.a, c.f, guess);
  BOOST_TEST(solver.last_solve().iterations < from_zero);
  double scale = 0;
  for (double x : u) scale = std::max(scale, std::abs(x));
  BOOST_TEST(max_abs(u, v) < 1e-6 * scale);
  // The exact solution as the guess: converged before the first iteration.
  solver.solve(c.a, c.f, u);
  BOOST_TEST(solver.last_solve().iterations <= 1);
}

BOOST_AUTO_TEST_CASE(a_host_solves_its_own_right_hand_side_with_the_exposed_dm_mat_and_ksp) {
  DarcyCase c;
  DarcySolver solver(c.n, DarcySettings{.rtol = 1e-10});
  solver.assemble(c.a, c.f);
  PetscInt mx = 0, dof = 0;
  NEUROPS_PETSC(DMDAGetInfo(solver.dm(), nullptr, &mx, nullptr, nullptr, nullptr, nullptr, nullptr, &dof, nullptr,
                            nullptr, nullptr, nullptr, nullptr));
  BOOST_TEST(mx == c.n);
  BOOST_TEST(dof == 1);
  KSPType type = nullptr;
  NEUROPS_PETSC(KSPGetType(solver.ksp(), &type));
  BOOST_TEST(std::string(type) == "cg");
  // The host's own b = A u for a known u, solved through the exposed objects.
  PetscVec known, b, x;
  NEUROPS_PETSC(DMCreateGlobalVector(solver.dm(), known.out()));
  NEUROPS_PETSC(VecDuplicate(known, b.out()));
  NEUROPS_PETSC(VecDuplicate(known, x.out()));
  NEUROPS_PETSC(VecSetRandom(known, nullptr));
  NEUROPS_PETSC(MatMult(solver.matrix(), known, b));
  solver.solve(b, x);
  NEUROPS_PETSC(VecAXPY(x, -1.0, known));
  PetscReal err = 0, size = 0;
  NEUROPS_PETSC(VecNorm(x, NORM_INFINITY, &err));
  NEUROPS_PETSC(VecNorm(known, NORM_INFINITY, &size));
  BOOST_TEST(err < 1e-6 * size);
  // The matrix is the operator apply() evaluates (interior rows scaled by h^2).
  const Tensor<double> u = solver.solve(c.a, c.f);
  Tensor<double> u4 = u;
  u4.reshape({1, 1, c.n, c.n});
  solvers::from_tensor(solver.dm(), u4, x);
  NEUROPS_PETSC(MatMult(solver.matrix(), x, b));
  const Tensor<double> Au = solvers::to_tensor<double>(solver.dm(), b);
  const Tensor<double> reference = solver.apply(c.a, u);
  const double h2 = 1.0 / double((c.n - 1) * (c.n - 1));
  BOOST_TEST(std::abs(Au(0, 0, 10, 12) - h2 * reference(10, 12)) < 1e-9);
}

BOOST_AUTO_TEST_CASE(solving_before_assembling_and_a_guess_of_the_wrong_shape_are_errors) {
  DarcyCase c;
  DarcySolver solver(c.n);
  PetscVec b, x;
  NEUROPS_PETSC(DMCreateGlobalVector(solver.dm(), b.out()));
  NEUROPS_PETSC(VecDuplicate(b, x.out()));
  BOOST_CHECK_EXCEPTION(solver.solve(b, x), Error, [](const Error& e) {
    return std::string(e.what()).find("before assemble()") != std::string::npos;
  });
  BOOST_CHECK_EXCEPTION(solver.solve(c.a, c.f, Tensor<double>(Shape{32, 33})), Error, [](const Error& e) {
    return std::string(e.what()).find("Darcy initial guess") != std::string::npos;
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(poisson_of_petsc_ex45)

BOOST_AUTO_TEST_CASE(the_discrete_solution_of_a_quadratic_is_exact_and_its_boundary_is_g) {
  // u = x^2 + y^2 + z^2: -Laplacian u = -6, and the 7-point stencil is exact on quadratics.
  for (int dim : {2, 3}) {
    const index_t n = 9;
    PoissonSolver solver(dim, n);
    const Shape shape = dim == 2 ? Shape{n, n} : Shape{n, n, n};
    Tensor<double> f(shape, -2.0 * dim), exact(shape);
    const double h = 1.0 / double(n - 1);
    const index_t nz = dim == 3 ? n : 1;
    for (index_t k = 0; k < nz; ++k)
      for (index_t j = 0; j < n; ++j)
        for (index_t i = 0; i < n; ++i)
          exact[(k * n + j) * n + i] = std::pow(i * h, 2) + std::pow(j * h, 2) + (dim == 3 ? std::pow(k * h, 2) : 0);
    const Tensor<double> u = solver.solve(solver.rhs(f, exact));
    BOOST_TEST(max_abs(u, exact) < 1e-7, "dim " << dim);
    BOOST_TEST(solver.last_iterations() > 0);
  }
}

BOOST_AUTO_TEST_CASE(samples_depend_on_seed_and_index_only) {
  PoissonSolver solver(2, 17);
  const auto first = poisson_sample(solver, 5, 3);
  poisson_sample(solver, 5, 0);
  const auto again = poisson_sample(solver, 5, 3);
  BOOST_TEST(max_abs(first[2], again[2]) == 0.0);
  BOOST_TEST(max_abs(first[3], again[3]) < 1e-12);
  const auto other = poisson_sample(solver, 6, 3);
  BOOST_TEST(max_abs(first[2], other[2]) > 0.0);
  const auto data = poisson_dataset(2, 17, 2, 5, 3);
  BOOST_TEST(data.inputs.shape() == (Shape{2, 1, 17, 17}));
  BOOST_TEST(std::abs(data.inputs[5] - float(first[2][5])) < 1e-6f);
}

BOOST_AUTO_TEST_SUITE_END()
