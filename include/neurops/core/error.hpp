#pragma once
// neurops::Error: the one exception type of the library. It carries the source location where the
// problem was detected and a message saying what was expected and what was found.
#include <sstream>
#include <stdexcept>
#include <string>

namespace neurops {

class Error : public std::runtime_error {
 public:
  Error(const char* file, int line, const std::string& message);
  /// The message without the location prefix.
  const std::string& message() const noexcept { return message_; }
  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }

 private:
  std::string message_;
  std::string file_;
  int line_;
};

}  // namespace neurops

/// Throws neurops::Error with a streamed message: NEUROPS_THROW("expected " << a << ", found " << b).
#define NEUROPS_THROW(msg)                                         \
  do {                                                             \
    std::ostringstream neurops_os_;                                \
    neurops_os_ << msg;                                            \
    throw ::neurops::Error(__FILE__, __LINE__, neurops_os_.str()); \
  } while (0)

/// Always-on check for API boundaries: NEUROPS_CHECK(x.rank() == 4, "input: expected rank 4, found " << x.rank()).
#define NEUROPS_CHECK(cond, msg)     \
  do {                               \
    if (!(cond)) NEUROPS_THROW(msg); \
  } while (0)

/// Debug-only check for hot loops; compiled out when NDEBUG is defined.
#ifdef NDEBUG
#define NEUROPS_ASSERT(cond, msg) ((void)0)
#else
#define NEUROPS_ASSERT(cond, msg) NEUROPS_CHECK(cond, msg)
#endif
