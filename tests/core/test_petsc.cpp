#include <boost/test/unit_test.hpp>

#include "neurops/core/options.hpp"
#include "neurops/core/petsc.hpp"

using namespace neurops;

namespace {
struct PetscFixture {
  PetscFixture() {
    auto& m = boost::unit_test::framework::master_test_suite();
    session = std::make_unique<PetscSession>(&m.argc, &m.argv);
  }
  std::unique_ptr<PetscSession> session;
};
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

BOOST_AUTO_TEST_SUITE(petsc)

BOOST_AUTO_TEST_CASE(second_session_leaves_petsc_alone) {
  PetscSession inner;
  BOOST_TEST(!inner.owns_petsc());
  PetscBool init = PETSC_FALSE;
  PetscInitialized(&init);
  BOOST_TEST(bool(init));
}

BOOST_AUTO_TEST_CASE(error_carries_petsc_message) {
  PetscVec v;
  NEUROPS_PETSC(VecCreateSeq(PETSC_COMM_SELF, 4, v.out()));
  PetscVec w;
  NEUROPS_PETSC(VecCreateSeq(PETSC_COMM_SELF, 5, w.out()));
  try {
    NEUROPS_PETSC(VecAXPY(v, 1.0, w));  // size mismatch
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("VecAXPY") != std::string::npos);
    BOOST_TEST(m.find("4") != std::string::npos);
    BOOST_TEST(m.find("5") != std::string::npos);
  }
  // The handler is popped again: a later good call works.
  PetscScalar norm = 0;
  NEUROPS_PETSC(VecSet(v, 2.0));
  NEUROPS_PETSC(VecSum(v, &norm));
  BOOST_TEST(PetscRealPart(norm) == 8.0);
}

BOOST_AUTO_TEST_CASE(handles_destroy_and_borrow) {
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  PC raw = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &raw));
  PetscPC pc = PetscPC::borrow(raw);
  PetscInt refs = 0;
  NEUROPS_PETSC(PetscObjectGetReference(reinterpret_cast<PetscObject>(raw), &refs));
  BOOST_TEST(refs == 2);
  ksp.reset();  // the PC survives: the borrowed handle holds a reference
  NEUROPS_PETSC(PetscObjectGetReference(reinterpret_cast<PetscObject>(raw), &refs));
  BOOST_TEST(refs == 1);
  NEUROPS_PETSC(PCSetType(pc, PCJACOBI));
  PetscPC moved = std::move(pc);
  BOOST_TEST(!pc);
  BOOST_TEST(bool(moved));
}

BOOST_AUTO_TEST_CASE(options_read_the_database) {
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-t_width", "24"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-t_lr", "5e-4"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-t_levels", "1,2,3"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-t_pad", "wrong"));
  Options opt("test", "t_");
  BOOST_TEST(opt.integer("width", 8, "channels") == 24);
  BOOST_TEST(opt.integer("depth", 4, "layers") == 4);
  BOOST_TEST(opt.real("lr", 1e-3, "learning rate") == 5e-4);
  BOOST_TEST((opt.integers("levels", {}, "levels") == std::vector<std::int64_t>{1, 2, 3}));
  try {
    opt.choice("pad", "zeros", {"zeros", "circular"}, "padding");
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("-t_pad") != std::string::npos);
    BOOST_TEST(m.find("zeros,circular") != std::string::npos);
    BOOST_TEST(m.find("wrong") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
