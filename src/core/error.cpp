#include "neurops/core/error.hpp"

#include <filesystem>

namespace neurops {

namespace {
std::string with_location(const char* file, int line, const std::string& message) {
  return std::filesystem::path(file).filename().string() + ":" + std::to_string(line) + ": " + message;
}
}  // namespace

Error::Error(const char* file, int line, const std::string& message)
    : std::runtime_error(with_location(file, line, message)), message_(message), file_(file), line_(line) {}

}  // namespace neurops
