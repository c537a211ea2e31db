#include <boost/test/unit_test.hpp>
#include <functional>

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

namespace {
/// The message of the Error that `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return e.what();
  }
  return "";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_CASE(integer_options_are_64_bit_and_range_checked) {
  // PetscOptionsGetInt read "-samples 4294967298" as 2 (a 32-bit PetscInt).
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-r_samples", "4294967298"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-r_huge", "99999999999999999999"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-r_negative", "-3"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-r_text", "12abc"));
  Options opt("test", "r_");
  BOOST_TEST(opt.integer("samples", 1, "samples") == 4294967298LL);
  std::string m = error_of([&] { opt.integer("huge", 1, "n"); });
  BOOST_TEST((contains(m, "-r_huge") && contains(m, "64-bit")));
  m = error_of([&] { opt.integer("negative", 1, "n", 0, 10); });
  BOOST_TEST((contains(m, "-r_negative") && contains(m, "between 0 and 10") && contains(m, "-3")));
  m = error_of([&] { opt.integer("text", 1, "n"); });
  BOOST_TEST((contains(m, "-r_text") && contains(m, "12abc")));
  BOOST_TEST(opt.integer("absent", 7, "n", 10, 20) == 7);  // the default is the caller's business
}

BOOST_AUTO_TEST_CASE(an_option_without_a_value_is_an_error_naming_it) {
  // "-train_epochs" alone used to keep the default silently.
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-v_epochs", nullptr));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-v_lr", nullptr));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-v_out", nullptr));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-v_levels", nullptr));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-v_resume", nullptr));
  Options opt("test", "v_");
  for (const auto& [name, read] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"-v_epochs", [&] { opt.integer("epochs", 3, "epochs"); }},
           {"-v_lr", [&] { opt.real("lr", 1e-3, "lr"); }},
           {"-v_out", [&] { opt.string("out", "x.h5", "out"); }},
           {"-v_levels", [&] { opt.integers("levels", {1}, "levels"); }}}) {
    const std::string m = error_of(read);
    BOOST_TEST_INFO(name);
    BOOST_TEST((contains(m, name) && contains(m, "without a value")));
  }
  BOOST_TEST(opt.flag("resume", false, "a flag alone means true"));
}

BOOST_AUTO_TEST_CASE(parse_errors_name_the_option) {
  // PETSc's own message named the C++ expression "key(name).c_str()", not the option.
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-p_lr", "fast"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-p_times", "1,x,3"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-p_view", "maybe"));
  Options opt("test", "p_");
  for (const auto& [name, read] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"-p_lr", [&] { opt.real("lr", 1e-3, "lr"); }},
           {"-p_times", [&] { opt.reals("times", {1.0}, "times"); }},
           {"-p_view", [&] { opt.flag("view", false, "view"); }}}) {
    const std::string m = error_of(read);
    BOOST_TEST_INFO(name);
    BOOST_TEST((contains(m, name) && !contains(m, "c_str")));
  }
}

BOOST_AUTO_TEST_SUITE_END()
