#define BOOST_TEST_MODULE neurops_solvers
#include <boost/test/unit_test.hpp>
#include <memory>

#include "fixture.hpp"
#include "neurops/core/petsc.hpp"
#include "neurops/solvers/petsc_types.hpp"

namespace {
struct PetscFixture {
  PetscFixture() {
    auto& m = boost::unit_test::framework::master_test_suite();
    session = std::make_unique<neurops::PetscSession>(&m.argc, &m.argv);
    neurops::solvers::register_petsc_types();
  }
  std::unique_ptr<neurops::PetscSession> session;
};
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace neurops::test {
double relative_difference(Vec x, Vec y) {
  PetscVec d;
  NEUROPS_PETSC(VecDuplicate(x, d.out()));
  NEUROPS_PETSC(VecWAXPY(d, -1.0, y, x));
  PetscReal nd = 0, ny = 0;
  NEUROPS_PETSC(VecNorm(d, NORM_2, &nd));
  NEUROPS_PETSC(VecNorm(y, NORM_2, &ny));
  return nd / ny;
}
}  // namespace neurops::test
