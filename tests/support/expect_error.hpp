#pragma once
// expect_error(f, parts): f() must throw neurops::Error whose message contains every part.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "neurops/core/error.hpp"

template <class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    BOOST_FAIL("no error");
  } catch (const neurops::Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    for (const auto& p : parts) BOOST_TEST(m.find(p) != std::string::npos, "'" << p << "' not in: " << m);
  }
}
