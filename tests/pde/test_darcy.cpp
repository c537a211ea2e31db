// Darcy flow: second-order convergence on a manufactured solution, agreement with a direct solve,
// solver choices through the options database, and the errors for bad input.
#include <boost/test/unit_test.hpp>

#include <petscsys.h>

#include <cmath>
#include <numbers>

#include "neurops/pde/darcy.hpp"
#include "neurops/pde/grf.hpp"

using namespace neurops;
using namespace neurops::pde;

namespace {
constexpr double kPi = std::numbers::pi;

// u = sin(pi x) sin(pi y), a = 2 + x y, f = -div(a grad u).
double manufactured_error(index_t n, FaceAverage avg) {
  const double h = 1.0 / double(n - 1);
  Tensor<double> a({n, n}), f({n, n}), exact({n, n});
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i) {
      const double x = double(i) * h, y = double(j) * h;
      const double u = std::sin(kPi * x) * std::sin(kPi * y);
      a(j, i) = 2 + x * y;
      exact(j, i) = u;
      f(j, i) = (2 + x * y) * 2 * kPi * kPi * u - y * kPi * std::cos(kPi * x) * std::sin(kPi * y) -
                x * kPi * std::sin(kPi * x) * std::cos(kPi * y);
    }
  DarcySolver solver(n, {.face_average = avg, .rtol = 1e-12, .comm = PETSC_COMM_SELF});
  const Tensor<double> u = solver.solve(a, f);
  double err = 0;
  for (index_t p = 0; p < n * n; ++p) err = std::max(err, std::abs(u[p] - exact[p]));
  return err;
}

Tensor<double> fno_coefficient(index_t n, std::uint64_t seed) {
  DirichletGrf grf(n, {.alpha = 2.0, .tau = 3.0});
  Rng rng(seed);
  return threshold_coefficient(grf.sample(rng));
}

void set_option(const std::string& name, const std::string& value) {
  PetscOptionsSetValue(nullptr, name.c_str(), value.c_str());
}
}  // namespace

BOOST_AUTO_TEST_SUITE(darcy)

BOOST_AUTO_TEST_CASE(second_order_convergence) {
  for (FaceAverage avg : {FaceAverage::harmonic, FaceAverage::arithmetic}) {
    const double e1 = manufactured_error(17, avg), e2 = manufactured_error(33, avg), e3 = manufactured_error(65, avg);
    const double p1 = std::log2(e1 / e2), p2 = std::log2(e2 / e3);
    BOOST_TEST_MESSAGE((avg == FaceAverage::harmonic ? "harmonic" : "arithmetic")
                       << " errors " << e1 << " " << e2 << " " << e3 << ", orders " << p1 << " " << p2);
    BOOST_TEST(p1 > 1.9);
    BOOST_TEST(p2 > 1.9);
    BOOST_TEST(p2 < 2.1);
  }
}

BOOST_AUTO_TEST_CASE(gamg_matches_direct_solve) {
  const index_t n = 33;
  const Tensor<double> a = fno_coefficient(n, 7);
  DarcySolver iterative(n, {.rtol = 1e-12, .comm = PETSC_COMM_SELF});
  const Tensor<double> u = iterative.solve(a);
  BOOST_TEST(iterative.last_solve().ksp_type == "cg");
  BOOST_TEST(iterative.last_solve().pc_type == "gamg");
  BOOST_TEST_MESSAGE("CG+GAMG on the thresholded coefficient: " << iterative.last_solve().iterations << " iterations");
  BOOST_TEST(iterative.last_solve().iterations < 40);
  set_option("-darcy_lu_ksp_type", "preonly");
  set_option("-darcy_lu_pc_type", "lu");
  DarcySolver direct(n, {.options_prefix = "darcy_lu_", .comm = PETSC_COMM_SELF});
  const Tensor<double> ud = direct.solve(a);
  BOOST_TEST(direct.last_solve().pc_type == "lu");
  double diff = 0, umax = 0;
  for (index_t p = 0; p < n * n; ++p) {
    diff = std::max(diff, std::abs(u[p] - ud[p]));
    umax = std::max(umax, std::abs(ud[p]));
  }
  BOOST_TEST(diff < 1e-9 * umax);
  // The discrete equations hold: A u = f in the interior, u = 0 on the boundary, u > 0 inside (f = 1).
  const Tensor<double> Au = iterative.apply(a, u);
  for (index_t j = 1; j < n - 1; ++j)
    for (index_t i = 1; i < n - 1; ++i) {
      BOOST_TEST_REQUIRE(std::abs(Au(j, i) - 1.0) < 1e-8);
      BOOST_TEST_REQUIRE(u(j, i) > 0.0);
    }
  for (index_t i = 0; i < n; ++i) BOOST_TEST_REQUIRE(u(0, i) == 0.0);
}

BOOST_AUTO_TEST_CASE(hypre_and_geometric_multigrid_by_options) {
  const index_t n = 33;
  const Tensor<double> a =
      lognormal_coefficient(DirichletGrf(n, {.alpha = 2.0, .tau = 3.0}).sample(*std::make_unique<Rng>(3)));
  DarcySolver reference(n, {.rtol = 1e-12, .comm = PETSC_COMM_SELF});
  const Tensor<double> u_ref = reference.solve(a);
  set_option("-darcy_amg_pc_type", "hypre");
  set_option("-darcy_gmg_pc_type", "mg");
  set_option("-darcy_gmg_pc_mg_levels", "4");
  for (const char* prefix : {"darcy_amg_", "darcy_gmg_"}) {
    DarcySolver solver(n, {.rtol = 1e-12, .options_prefix = prefix, .comm = PETSC_COMM_SELF});
    const Tensor<double> u = solver.solve(a);
    BOOST_TEST_MESSAGE(prefix << ": " << solver.last_solve().pc_type << ", " << solver.last_solve().iterations
                              << " iterations");
    BOOST_TEST(solver.last_solve().iterations < 30);
    double diff = 0;
    for (index_t p = 0; p < n * n; ++p) diff = std::max(diff, std::abs(u[p] - u_ref[p]));
    BOOST_TEST(diff < 1e-9);
  }
}

BOOST_AUTO_TEST_CASE(bad_input_is_reported) {
  auto message_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  // Diverging solve: the KSP reason is named.
  const std::string diverged = message_of([] {
    DarcySolver s(33, {.rtol = 1e-12, .max_it = 2, .comm = PETSC_COMM_SELF});
    s.solve(fno_coefficient(33, 1));
  });
  BOOST_TEST_MESSAGE(diverged);
  BOOST_TEST(diverged.find("DIVERGED_ITS") != std::string::npos);
  // A grid the geometric multigrid cannot coarsen (n - 1 = 19 is not divisible by 2^3).
  set_option("-darcy_badmg_pc_type", "mg");
  set_option("-darcy_badmg_pc_mg_levels", "4");
  const std::string mg =
      message_of([] { DarcySolver s(20, {.options_prefix = "darcy_badmg_", .comm = PETSC_COMM_SELF}); });
  BOOST_TEST(mg.find("cannot coarsen") != std::string::npos);
  BOOST_TEST(mg.find("pc_mg_levels") != std::string::npos);
  // Tolerances <= 0, by code and by option.
  BOOST_TEST(message_of([] { DarcySolver s(9, {.rtol = 0.0, .comm = PETSC_COMM_SELF}); }).find("tolerance") !=
             std::string::npos);
  set_option("-darcy_neg_ksp_rtol", "-1");
  BOOST_TEST(message_of([] {
               DarcySolver s(9, {.options_prefix = "darcy_neg_", .comm = PETSC_COMM_SELF});
             }).find("ksp_rtol") != std::string::npos);
  // Too small a grid, wrong shapes, non-positive coefficients.
  BOOST_TEST(message_of([] { DarcySolver s(2, {.comm = PETSC_COMM_SELF}); }).find("at least 3") != std::string::npos);
  DarcySolver s(9, {.comm = PETSC_COMM_SELF});
  BOOST_TEST(message_of([&] { s.solve(Tensor<double>({8, 8}, 1.0)); }).find("(8, 8)") != std::string::npos);
  Tensor<double> a({9, 9}, 1.0);
  a(4, 4) = -1;
  BOOST_TEST(message_of([&] { s.solve(a); }).find("positive") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
