// Darcy distributed over the ranks of PETSC_COMM_WORLD gives the single-rank solution.
#include <boost/test/unit_test.hpp>

#include <petscsys.h>

#include "neurops/pde/darcy.hpp"
#include "neurops/pde/grf.hpp"

using namespace neurops;
using namespace neurops::pde;

BOOST_AUTO_TEST_SUITE(darcy_mpi)

BOOST_AUTO_TEST_CASE(distributed_solve_matches_one_rank) {
  int size = 0;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  BOOST_TEST_REQUIRE(size == 2);
  const index_t n = 65;
  DirichletGrf grf(n, {.alpha = 2.0, .tau = 3.0});
  Rng rng(17);  // same seed on every rank: the same coefficient everywhere
  const Tensor<double> a = threshold_coefficient(grf.sample(rng));
  DarcySolver distributed(n, {.rtol = 1e-12, .comm = PETSC_COMM_WORLD});
  DarcySolver local(n, {.rtol = 1e-12, .comm = PETSC_COMM_SELF});
  const Tensor<double> u2 = distributed.solve(a);
  const Tensor<double> u1 = local.solve(a);
  double diff = 0, umax = 0;
  for (index_t p = 0; p < n * n; ++p) {
    diff = std::max(diff, std::abs(u2[p] - u1[p]));
    umax = std::max(umax, std::abs(u1[p]));
  }
  BOOST_TEST_MESSAGE("2 ranks: " << distributed.last_solve().iterations << " iterations, 1 rank: "
                                 << local.last_solve().iterations << ", max difference " << diff);
  BOOST_TEST(diff < 1e-9 * umax);
  // Every rank holds the whole solution.
  double sum = 0, sum0 = 0;
  for (double v : u2) sum += v;
  sum0 = sum;
  MPI_Bcast(&sum0, 1, MPI_DOUBLE, 0, PETSC_COMM_WORLD);
  BOOST_TEST(sum == sum0);
}

BOOST_AUTO_TEST_SUITE_END()
