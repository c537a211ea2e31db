#include "neurops/core/progress.hpp"

#include <petscsys.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace neurops {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string format_duration(double s) {
  char buf[64];
  if (!std::isfinite(s)) return "?";
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%d min %02d s", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%d h %02d min", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

Progress::Progress(std::int64_t total, std::string label, double log_interval_s)
    : total_(std::max<std::int64_t>(total, 1)), label_(std::move(label)), log_interval_(log_interval_s) {
  tty_ = isatty(fileno(stderr)) != 0;
  PetscBool init = PETSC_FALSE;
  PetscInitialized(&init);
  int rank = 0;
  if (init) MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  quiet_ = rank != 0;
}

void Progress::update(std::int64_t done, const std::string& status) {
  const double now = timer_.seconds();
  const double interval = tty_ ? 0.2 : log_interval_;
  if (done < total_ && now - last_print_ < interval) return;
  last_print_ = now;
  print(done, status, false);
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  print(total_, status, true);
}

void Progress::print(std::int64_t done, const std::string& status, bool final) {
  if (quiet_) return;
  const double t = timer_.seconds();
  const double frac = std::clamp(double(done) / double(total_), 0.0, 1.0);
  const double eta = done > 0 ? t * (1.0 - frac) / frac : NAN;
  char head[160];
  std::snprintf(head, sizeof head, "%s %lld/%lld %3.0f%%", label_.c_str(), (long long)done, (long long)total_,
                100 * frac);
  std::string line = head;
  if (tty_) {
    const int width = 24, filled = int(std::lround(frac * width));
    line += " [" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  }
  line += final ? " in " + format_duration(t) : " ETA " + format_duration(eta);
  if (!status.empty()) line += "  " + status;
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace neurops
