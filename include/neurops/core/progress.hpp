#pragma once
// Timers and a progress line with ETA for long loops.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace neurops {

/// Wall-clock stopwatch.
class Timer {
 public:
  Timer() : start_(clock::now()) {}
  void restart() { start_ = clock::now(); }
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point start_;
};

/// Median of a sample of timings (benchmarks quote medians).
double median(std::vector<double> values);

/// "12.3 s", "4 min 05 s", "1 h 02 min".
std::string format_duration(double seconds);

/// Progress line: on a terminal it redraws one line ("train  37/100 [####.....] 37% ETA 1 min 02 s
/// loss 3.1e-3"); otherwise (CI, pipes) it prints a plain line at most every `log_interval` seconds.
/// Only rank 0 of PETSC_COMM_WORLD prints when PETSc is initialised.
class Progress {
 public:
  Progress(std::int64_t total, std::string label, double log_interval_s = 10.0);
  /// Marks `done` of `total` steps complete; `status` is appended (loss, residual, ...).
  void update(std::int64_t done, const std::string& status = "");
  /// Prints the final line with the elapsed time.
  void finish(const std::string& status = "");
  double elapsed() const { return timer_.seconds(); }

 private:
  void print(std::int64_t done, const std::string& status, bool final);
  std::int64_t total_;
  std::string label_;
  double log_interval_;
  double last_print_ = -1e300;
  bool tty_;
  bool quiet_;
  bool finished_ = false;
  Timer timer_;
};

}  // namespace neurops
