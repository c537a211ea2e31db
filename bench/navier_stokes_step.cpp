// One 2-D Navier-Stokes time step (pseudo-spectral, CN + Heun, 2/3 dealiasing, float64) through
// neurops and through the same scheme in PyTorch CPU (bench/navier_stokes_step.py, spawned with
// /usr/bin/python3), same thread count, in alternating rounds (bench/roofline.hpp): medians of several
// runs side by side, the ratio's median over the rounds with its spread, and neurops' GFLOP/s of the
// step's FFTs against Eigen's float64 GEMM rate measured in the same run.
//
//   ./navier_stokes_step                       # 256^2 and 512^2, 2 threads
//   ./navier_stokes_step -bench_sizes 256,512,1024 -bench_threads 2 -bench_repeats 9 -bench_rounds 3
//   ./navier_stokes_step -bench_smoke          # seconds-long check (CTest label bench)
// Both sides start from the same smooth field and report mean w^2 after the timed steps (checksum),
// which must agree: the two codes run the same scheme.
// Unless OMP_WAIT_POLICY is set, the program restarts itself with OMP_WAIT_POLICY=passive (inherited
// by the peer): on cores shared with other work, spinning OpenMP threads make both sides' timings
// swing by 10x from run to run.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numbers>
#include <sstream>
#include <string>

#include "neurops/neurops.hpp"
#include "neurops/pde/navier_stokes.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;

namespace {
Tensor<double> initial_vorticity(index_t n) {
  Tensor<double> w({n, n});
  const double two_pi = 2 * std::numbers::pi;
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i) {
      const double x = double(i) / double(n), y = double(j) / double(n);
      w(j, i) = std::sin(two_pi * x) * std::cos(2 * two_pi * y) + 0.5 * std::cos(3 * two_pi * x + two_pi * y);
    }
  return w;
}

/// One step's FFTs (bench/roofline.hpp: 2.5 N log2 N per real transform of N = n^2 points): two
/// advection evaluations (predictor and corrector), each 4 inverse transforms (u, v, w_x, w_y) and one
/// forward transform of the product. The element-wise spectral work is left out.
double step_flops(index_t n) { return 10 * bench::real_fft_flops(double(n) * double(n)); }

struct PeerResult {
  double step_s = NAN, checksum = NAN;
};

std::map<index_t, PeerResult> run_peer(const std::string& script, const std::string& sizes, int threads, int repeats,
                                       int steps) {
  std::map<index_t, PeerResult> out;
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) + " /usr/bin/python3 " + script + " --sizes " +
                          sizes + " --threads " + std::to_string(threads) + " --repeats " + std::to_string(repeats) +
                          " --steps " + std::to_string(steps);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return out;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    long long n = 0;
    double t = 0, c = 0;
    if (std::sscanf(line, "torch n=%lld median_step_s=%lf checksum=%lf", &n, &t, &c) == 3) out[n] = {t, c};
  }
  const int status = pclose(pipe);
  if (status != 0) std::fprintf(stderr, "warning: the PyTorch peer exited with status %d (%s)\n", status, cmd.c_str());
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  bench::use_passive_omp_wait(argv);
  try {
    PetscSession session(&argc, &argv);
    Options opt("Navier-Stokes step benchmark", "bench_");
    const bool smoke = opt.flag("smoke", false, "tiny sizes and few runs (CI)");
    auto sizes = opt.integers("sizes", {256, 512}, "grid sizes");
    const int threads = int(opt.integer("threads", 2, "OpenMP/FFTW threads (and torch.set_num_threads)"));
    int repeats = int(opt.integer("repeats", 5, "timed runs per size and round (the median is reported)"));
    int rounds = int(opt.integer("rounds", 5, "alternating neurops/PyTorch rounds"));
    int steps = int(opt.integer("steps", 10, "steps per timed run"));
    const bool peer = opt.flag("peer", true, "also run the PyTorch peer");
    const std::string script =
        opt.string("script", bench::peer_script("navier_stokes_step.py").string(), "PyTorch peer script");
    if (opt.help_requested()) return 0;
    if (smoke) {
      sizes = {64};
      repeats = 3;
      steps = 2;
      rounds = 1;
    }
    std::string size_list;
    for (auto n : sizes) size_list += (size_list.empty() ? "" : ",") + std::to_string(n);

    // One round: neurops at every size from the same initial field, then the peer at every size.
    std::map<index_t, double> checksums, peer_checksums;
    auto time_ours = [&] {
      std::map<std::string, double> ms;
      for (const index_t n : sizes) {
        pde::NavierStokes2d ns({.n = n, .viscosity = 1e-3, .dt = 1e-4, .threads = threads, .measure_plans = true});
        ns.set_vorticity(initial_vorticity(n));
        for (int s = 0; s < 3; ++s) ns.step();
        std::vector<double> times;
        for (int r = 0; r < repeats; ++r) {
          Timer t;
          for (int s = 0; s < steps; ++s) ns.step();
          times.push_back(t.seconds() / steps);
        }
        const Tensor<double> w = ns.vorticity();
        double checksum = 0;
        for (double v : w) checksum += v * v / double(w.numel());
        checksums[n] = checksum;
        ms[std::to_string(n)] = 1e3 * median(times);
      }
      return ms;
    };
    std::function<std::map<std::string, double>()> torch;
    if (peer)
      torch = [&] {
        std::map<std::string, double> ms;
        for (const auto& [n, p] : run_peer(script, size_list, threads, repeats, steps)) {
          ms[std::to_string(n)] = 1e3 * p.step_s;
          peer_checksums[n] = p.checksum;
        }
        return ms;
      };
    const bench::RoundTimes t = bench::alternate_rounds(rounds, smoke, time_ours, torch);

    std::printf(
        "\nNavier-Stokes step, float64, %d threads, OMP_WAIT_POLICY=%s, %d rounds x median of %d runs x %d steps\n",
        threads, std::getenv("OMP_WAIT_POLICY"), rounds, repeats, steps);
    std::printf("%-8s %20s %20s\n", "n", "checksum neurops", "checksum torch");
    bool consistent = true;
    bench::Report report("navier_stokes_step", t.peak(), "pytorch");
    for (const index_t n : sizes) {
      const double checksum = checksums[n], theirs = peer_checksums.count(n) ? peer_checksums[n] : NAN;
      std::printf("%-8lld %20.12e %20.12e\n", (long long)n, checksum, theirs);
      if (!std::isnan(theirs) && std::abs(theirs - checksum) > 1e-9 * std::abs(checksum)) consistent = false;
      report.add("step " + std::to_string(n) + "^2", t, std::to_string(n), std::to_string(n), step_flops(n), true);
    }
    report.print();
    if (!consistent) {
      std::fprintf(stderr, "navier_stokes_step: neurops and the PyTorch peer disagree on the checksum\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "navier_stokes_step: error: %s\n", e.what());
    return 1;
  }
}
