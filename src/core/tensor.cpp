#include "neurops/core/tensor.hpp"

namespace neurops {

std::string shape_pattern(const std::vector<index_t>& expected) {
  std::string s = "(";
  for (std::size_t i = 0; i < expected.size(); ++i)
    s += (i ? ", " : "") + (expected[i] < 0 ? std::string("*") : std::to_string(expected[i]));
  return s + (expected.size() == 1 ? ",)" : ")");
}

void check_shape(const Shape& shape, const std::vector<index_t>& expected, const std::string& what) {
  bool ok = shape.rank() == static_cast<int>(expected.size());
  for (int i = 0; ok && i < shape.rank(); ++i)
    ok = expected[static_cast<std::size_t>(i)] < 0 || shape[i] == expected[static_cast<std::size_t>(i)];
  NEUROPS_CHECK(ok, what << ": expected shape " << shape_pattern(expected) << ", found " << shape);
}

}  // namespace neurops
