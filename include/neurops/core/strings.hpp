#pragma once
// Small text helpers shared by error messages, option help and file attributes.
#include <sstream>
#include <string>
#include <vector>

namespace neurops {

/// "a, b, c" from any range whose elements stream with <<.
template <class Range>
std::string join(const Range& items, const std::string& separator = ", ") {
  std::ostringstream os;
  bool first = true;
  for (const auto& item : items) {
    if (!first) os << separator;
    os << item;
    first = false;
  }
  return os.str();
}

/// "(a, b, c)" as Python prints a tuple ("(a,)" for one element): shapes and grids in messages.
template <class Range>
std::string format_tuple(const Range& items) {
  const std::string inner = join(items);
  const bool single = !inner.empty() && inner.find(", ") == std::string::npos;
  return "(" + inner + (single ? ",)" : ")");
}

}  // namespace neurops
