// The Spectral-Refiner's residual loss (pde::NsResidual: value, and value + gradient with respect to
// the trajectory) through neurops and through the reference's formulas in PyTorch CPU with autograd
// (bench/ns_residual.py, spawned with /usr/bin/python3), float64, same thread count, medians printed
// side by side with the ratio.
//
//   ./ns_residual                                   # 256^2 x 40 frames (the fine-tuning size), 2 threads
//   ./ns_residual -bench_sizes 64,256 -bench_frames 40 -bench_threads 2 -bench_repeats 5
//   ./ns_residual -bench_smoke                      # seconds-long check (CTest label bench)
//   ./ns_residual -bench_time_derivative frames     # w_t from the frames (both sides), frame_dt = 1e-2
// Both sides evaluate the same smooth trajectory with dt = 1e-2 (where the reference's difference
// quotient keeps its digits) and print the loss (checksum), which must agree to 1e-8.
// Unless OMP_WAIT_POLICY is set, the program restarts itself with OMP_WAIT_POLICY=passive (see
// bench/navier_stokes_step.cpp).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numbers>
#include <string>

#include "neurops/neurops.hpp"
#include "neurops/pde/ns_residual.hpp"
#include "torch_peer.hpp"

using namespace neurops;

namespace {
/// The peer's trajectory (bench/ns_residual.py), (1, frames, n, n), rows along y.
Tensor<double> trajectory(index_t n, index_t frames) {
  Tensor<double> w({1, frames, n, n});
  const double two_pi = 2 * std::numbers::pi;
  for (index_t k = 0; k < frames; ++k)
    for (index_t j = 0; j < n; ++j)
      for (index_t i = 0; i < n; ++i) {
        const double x = double(i) / double(n), y = double(j) / double(n), s = 1.0 + 0.01 * double(k);
        w(0, k, j, i) = s * std::sin(two_pi * x) * std::cos(2 * two_pi * y) +
                        0.5 * std::cos(3 * two_pi * x + two_pi * y + 0.1 * double(k)) +
                        0.05 * std::sin(two_pi * (7 * x + 5 * y));
      }
  return w;
}

struct PeerResult {
  double value_s = NAN, gradient_s = NAN, checksum = NAN;
};

std::map<index_t, PeerResult> run_peer(const std::string& script, const std::string& sizes, index_t frames, int threads,
                                       int repeats, const std::string& time_derivative) {
  std::map<index_t, PeerResult> out;
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) + " /usr/bin/python3 " + script + " --sizes " +
                          sizes + " --frames " + std::to_string(frames) + " --threads " + std::to_string(threads) +
                          " --repeats " + std::to_string(repeats) + " --time-derivative " + time_derivative;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return out;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    long long n = 0;
    PeerResult r;
    if (std::sscanf(line, "torch n=%lld median_value_s=%lf median_gradient_s=%lf checksum=%lf", &n, &r.value_s,
                    &r.gradient_s, &r.checksum) == 4)
      out[n] = r;
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
    Options opt("Spectral-Refiner residual loss benchmark", "bench_");
    const bool smoke = opt.flag("smoke", false, "tiny sizes and few runs (CI)");
    auto sizes = opt.integers("sizes", {256}, "grid sizes");
    index_t frames = opt.integer("frames", 40, "frames of the trajectory (the SFNO output horizon)", 1, 1 << 16);
    const int threads = int(opt.integer("threads", 2, "OpenMP threads (and torch.set_num_threads)", 1, 1024));
    int repeats = int(opt.integer("repeats", 5, "timed runs per size (the median is reported)", 1, 1000));
    const std::string time_derivative = opt.choice("time_derivative", "reference_imex", {"reference_imex", "frames"},
                                                   "w_t: the reference's IMEX rate, or differences between frames");
    const bool peer = opt.flag("peer", true, "also run the PyTorch peer");
    const std::string script =
        opt.string("script", bench::peer_script("ns_residual.py").string(), "PyTorch peer script");
    if (opt.help_requested()) return 0;
    if (smoke) {
      sizes = {32};
      frames = 4;
      repeats = 2;
    }
    std::string size_list;
    for (auto n : sizes) size_list += (size_list.empty() ? "" : ",") + std::to_string(n);
    std::map<index_t, PeerResult> torch;
    if (peer) torch = run_peer(script, size_list, frames, threads, repeats, time_derivative);
    const bool from_frames = time_derivative == "frames";
    NEUROPS_CHECK(!from_frames || frames >= 3,
                  "ns_residual: -bench_time_derivative frames needs -bench_frames >= 3, found " << frames);

    std::printf("\nNsResidual (%s), float64, %lld frames, %d threads, OMP_WAIT_POLICY=%s, median of %d runs\n",
                time_derivative.c_str(), (long long)frames, threads, std::getenv("OMP_WAIT_POLICY"), repeats);
    std::printf("%-6s %12s %12s %7s %14s %14s %7s %20s %20s\n", "n", "value [ms]", "torch [ms]", "ratio",
                "value+grad [ms]", "torch [ms]", "ratio", "loss neurops", "loss torch");
    bool consistent = true;
    for (const index_t n : sizes) {
      pde::NsResidual est(
          n, {.time_derivative = from_frames ? pde::NsTimeDerivative::frames : pde::NsTimeDerivative::reference_imex,
              .frame_dt = 1e-2,
              .dt = 1e-2,
              .threads = threads});
      const Tensor<double> w = trajectory(n, frames);
      Tensor<double> g;
      double value = est.value_and_gradient(w, g);  // warm-up
      std::vector<double> value_times, gradient_times;
      for (int r = 0; r < repeats; ++r) {
        Timer t;
        value = est.norms(w).total;
        value_times.push_back(t.seconds());
        Timer t2;
        est.value_and_gradient(w, g);
        gradient_times.push_back(t2.seconds());
      }
      const double v = median(value_times), vg = median(gradient_times);
      const PeerResult p = torch.count(n) ? torch[n] : PeerResult{};
      std::printf("%-6lld %12.2f %12.2f %7.2f %14.2f %14.2f %7.2f %20.12e %20.12e\n", (long long)n, 1e3 * v,
                  1e3 * p.value_s, p.value_s / v, 1e3 * vg, 1e3 * p.gradient_s, p.gradient_s / vg, value, p.checksum);
      if (!std::isnan(p.checksum) && std::abs(p.checksum - value) > 1e-8 * std::abs(value)) consistent = false;
    }
    if (!consistent) {
      std::fprintf(stderr, "ns_residual: neurops and the PyTorch peer disagree on the loss\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ns_residual: error: %s\n", e.what());
    return 1;
  }
}
