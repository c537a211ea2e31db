#pragma once
// How much memory one MPI rank may use for one sample's solve (neurops_generate): a sample that needs
// more is split across the ranks instead of being solved on one. The budget is the node's
// MemAvailable (/proc/meminfo) shared by the ranks on the node, or a size given on the command line.
#include <mpi.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "neurops/core/error.hpp"

namespace neurops::examples {

/// "64MB", "1.5GiB", "512kB", "4096" (bytes) as bytes; units are powers of 1024 (kB = KiB, ...).
/// Anything else is an Error naming `option`.
inline std::int64_t parse_bytes(const std::string& text, const std::string& option) {
  std::istringstream in(text);
  double value = 0;
  in >> value;
  std::string unit;
  in >> unit;
  std::string rest;
  in >> rest;
  for (auto& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "kb" || unit == "kib" || unit == "k")
    scale = 1024.0;
  else if (unit == "mb" || unit == "mib" || unit == "m")
    scale = 1024.0 * 1024.0;
  else if (unit == "gb" || unit == "gib" || unit == "g")
    scale = 1024.0 * 1024.0 * 1024.0;
  NEUROPS_CHECK(!in.bad() && rest.empty() && scale > 0 && std::isfinite(value) && value > 0 && value * scale < 9e18,
                "option " << option << ": expected a size such as 64MB, 2GB or 4096 (bytes), found '" << text << "'");
  return std::int64_t(value * scale);
}

inline std::string format_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %s", bytes, units[u]);
  return buf;
}

/// MemAvailable of this node divided by the ranks of `comm` on it, the smallest over all ranks so that
/// every rank takes the same decision (collective). 0 when /proc/meminfo cannot be read.
inline std::int64_t memory_per_rank(MPI_Comm comm) {
  std::int64_t available = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    std::int64_t kib = 0;
    std::string unit;
    meminfo >> kib >> unit;
    if (key == "MemAvailable:") {
      available = kib * 1024;
      break;
    }
  }
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int on_node = 1;
  MPI_Comm_size(node, &on_node);
  MPI_Comm_free(&node);
  std::int64_t share = available / on_node;
  MPI_Allreduce(MPI_IN_PLACE, &share, 1, MPI_INT64_T, MPI_MIN, comm);
  return share;
}

}  // namespace neurops::examples
