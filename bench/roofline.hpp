#pragma once
// Every benchmark against the machine's limit, with its peer measured in alternating rounds.
//
// The limit is the rate of a dense square GEMM through Eigen in the same process, at the same OpenMP
// thread count, in float32 and float64: the best a library reaches on these cores, measured while the
// machine is in the same state as the benchmark. A row's achieved rate is its analytic FLOP count
// (counted by each benchmark, conventions below) divided by neurops' median time.
//
// FLOP conventions shared by every benchmark: a real multiply-add is 2 flops (a GEMM is 2mnk), a
// complex multiply-add 8; a complex FFT of N points is 5 N log2 N, a real one (either direction)
// 2.5 N log2 N; element-wise work (bias, activation, norms, optimizer updates) is left out unless it is
// the work being measured. A training step is forward + backward, where backward costs two products
// (input and weight gradient) for every forward product and one transform for every forward transform,
// less the input gradients of the products that read the model's input (the peers, whose inputs do not
// require gradients, skip them; neurops returns them, so its rate is a slight underestimate there).
//
// The peer's time on a shared machine moves by tens of percent from run to run, so one pair of medians
// is not a measurement: `alternate_rounds` runs neurops, then the peer, then neurops, ... and each
// row's ratio is the median over the rounds of peer / neurops, printed with its min-max spread.
// `Report` prints the human table and one machine-readable line per row,
//   summary<TAB>bench<TAB>row<TAB>neurops_ms<TAB>peer_ms<TAB>ratio<TAB>spread<TAB>pct_gemm
// which scripts/bench.sh gathers into the closing summary table.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "neurops/core/progress.hpp"
#include "torch_peer.hpp"

namespace neurops::bench {

/// Rate in GFLOP/s of `flops` done in `ms` milliseconds.
inline double gflops(double flops, double ms) { return flops / (ms * 1e6); }

/// 2.5 N log2 N: one real FFT of N points (forward or inverse), N the product of the transform's extents
/// (half the 5 N log2 N of a complex one).
inline double real_fft_flops(double points) { return 2.5 * points * std::log2(points); }

/// Eigen's GEMM rate in GFLOP/s for m x m x m products of scalar T: the median of `runs` products
/// after a warm-up, at the current OpenMP thread count.
template <class T>
double eigen_gemm_gflops(int m, int runs) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Matrix a = Matrix::Random(m, m), b = Matrix::Random(m, m);
  Matrix c(m, m);
  return gflops(2.0 * m * double(m) * m, median_ms([&] { c.noalias() = a * b; }, runs));  // warm-up inside
}

/// float32 and float64 GEMM rates of this process (sizes 1024 or, for smoke runs, 256: larger than
/// the caches, small enough to take a fraction of a second). Each is the larger of Eigen's threaded
/// GEMM and `threads` times its one-thread rate: Eigen's threads busy-wait on each other, so on a
/// machine where another job takes a core for a moment the threaded product loses whole time slices,
/// while the one-thread rate times the threads is the limit the cores offer.
struct GemmPeak {
  double f32 = NAN, f64 = NAN;
  static GemmPeak measure(bool smoke) {
    const int m = smoke ? 256 : 1024, runs = smoke ? 2 : 5, threads = Eigen::nbThreads();
    GemmPeak p{eigen_gemm_gflops<float>(m, runs), eigen_gemm_gflops<double>(m, runs)};
    if (threads > 1) {
      Eigen::setNbThreads(1);
      p.f32 = std::max(p.f32, threads * eigen_gemm_gflops<float>(m, runs));
      p.f64 = std::max(p.f64, threads * eigen_gemm_gflops<double>(m, runs));
      Eigen::setNbThreads(0);  // back to OpenMP's thread count
    }
    return p;
  }
  double of(bool f64_row) const { return f64_row ? f64 : f32; }
};

/// Milliseconds per row key, one entry per round (a side that did not report a key has fewer), and
/// the GEMM rates measured at the start of every round.
struct RoundTimes {
  std::map<std::string, std::vector<double>> ours, peer;
  std::vector<GemmPeak> gemm;
  /// The best round's rates: the limit the machine reached during this run (a median could be the
  /// limit of the other jobs' load).
  GemmPeak peak() const {
    GemmPeak p{0, 0};
    for (const auto& g : gemm) p.f32 = std::max(p.f32, g.f32), p.f64 = std::max(p.f64, g.f64);
    return gemm.empty() ? GemmPeak{} : p;
  }
};

/// `rounds` rounds of { GEMM rates; ours(); peer(); }. Each call times its own work (a median of its
/// runs) and returns row key -> milliseconds; a peer that could not run returns an empty map. The GEMM
/// is measured in every round because on a shared machine one measurement may fall in a slow phase.
inline RoundTimes alternate_rounds(int rounds, bool smoke, const std::function<std::map<std::string, double>()>& ours,
                                   const std::function<std::map<std::string, double>()>& peer) {
  RoundTimes t;
  for (int r = 0; r < rounds; ++r) {
    t.gemm.push_back(GemmPeak::measure(smoke));
    for (const auto& [key, ms] : ours()) t.ours[key].push_back(ms);
    if (!peer) continue;
    for (const auto& [key, ms] : peer()) t.peer[key].push_back(ms);
  }
  return t;
}

/// One row of a benchmark's table: neurops' and the peer's times over the rounds (the i-th entries
/// of both taken in the same round) and the FLOPs of neurops' work (NAN: not counted, `note` says why).
struct RoofRow {
  std::string name;
  std::vector<double> ours_ms, peer_ms;
  double flops = NAN;
  bool f64 = false;
  std::string note;
};

/// The table of one benchmark: times, ratio with its spread, GFLOP/s and the share of the GEMM rate.
class Report {
 public:
  Report(std::string bench, GemmPeak peak, std::string peer_name = "peer")
      : bench_(std::move(bench)), peak_(peak), peer_name_(std::move(peer_name)) {}

  void add(RoofRow row) { rows_.push_back(std::move(row)); }
  /// Adds the row `name` from round times stored under `ours_key` / `peer_key`.
  void add(const std::string& name, const RoundTimes& t, const std::string& ours_key, const std::string& peer_key,
           double flops, bool f64 = false) {
    add({name, lookup(t.ours, ours_key), lookup(t.peer, peer_key), flops, f64, {}});
  }

  /// The human table, the GEMM rates it is measured against, then the machine-readable lines.
  void print() const {
    std::printf("\n  %-36s %11s %12s %8s %15s %9s %7s\n", "", "neurops ms", (peer_name_ + " ms").c_str(), "ratio",
                "[min-max]", "GFLOP/s", "% GEMM");
    for (const auto& r : rows_) {
      const Figures f = figures(r);
      std::printf("  %-36s %11.3f %12s %8s %15s %9s %7s%s%s\n", r.name.c_str(), f.ours, number(f.peer, "%.3f").c_str(),
                  number(f.ratio, "%.2fx").c_str(), f.spread.c_str(), number(f.rate, "%.2f").c_str(),
                  number(f.pct, "%.1f").c_str(), r.note.empty() ? "" : "  ", r.note.c_str());
    }
    std::printf(
        "  (ratio = %s / neurops per round, median over %zu round(s); Eigen GEMM %.1f GFLOP/s float32, %.1f "
        "float64)\n",
        peer_name_.c_str(), rounds(), peak_.f32, peak_.f64);
    for (const auto& r : rows_) {
      const Figures f = figures(r);
      std::printf("summary\t%s\t%s\t%.3f\t%s\t%s\t%s\t%s\n", bench_.c_str(), r.name.c_str(), f.ours,
                  number(f.peer, "%.3f").c_str(), number(f.ratio, "%.2f").c_str(), f.spread.c_str(),
                  number(f.pct, "%.1f").c_str());
    }
  }

 private:
  struct Figures {
    double ours = NAN, peer = NAN, ratio = NAN, rate = NAN, pct = NAN;
    std::string spread = "n/a";
  };

  static std::vector<double> lookup(const std::map<std::string, std::vector<double>>& m, const std::string& key) {
    const auto it = m.find(key);
    return it == m.end() ? std::vector<double>{} : it->second;
  }
  static std::string number(double v, const char* format) {
    if (!std::isfinite(v)) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
  }

  Figures figures(const RoofRow& r) const {
    Figures f;
    if (r.ours_ms.empty()) return f;
    f.ours = median(r.ours_ms);
    f.rate = gflops(r.flops, f.ours);
    f.pct = 100.0 * f.rate / peak_.of(r.f64);
    if (r.peer_ms.empty()) return f;
    f.peer = median(r.peer_ms);
    // Ratios of the same round: a slow phase of the machine weighs on both sides of one ratio.
    std::vector<double> ratios;
    for (std::size_t i = 0; i < std::min(r.ours_ms.size(), r.peer_ms.size()); ++i)
      ratios.push_back(r.peer_ms[i] / r.ours_ms[i]);
    f.ratio = median(ratios);
    f.spread = number(*std::min_element(ratios.begin(), ratios.end()), "%.2f") + "-" +
               number(*std::max_element(ratios.begin(), ratios.end()), "%.2f");
    return f;
  }
  std::size_t rounds() const {
    std::size_t n = 0;
    for (const auto& r : rows_) n = std::max(n, r.ours_ms.size());
    return n;
  }

  std::string bench_;
  GemmPeak peak_;
  std::string peer_name_;
  std::vector<RoofRow> rows_;
};

}  // namespace neurops::bench
