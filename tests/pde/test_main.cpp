#define BOOST_TEST_MODULE neurops_pde
#include <boost/test/unit_test.hpp>

#include <memory>

#include "neurops/core/petsc.hpp"

namespace {
struct PetscFixture {
  PetscFixture() {
    auto& m = boost::unit_test::framework::master_test_suite();
    session = std::make_unique<neurops::PetscSession>(&m.argc, &m.argv);
  }
  std::unique_ptr<neurops::PetscSession> session;
};
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);
