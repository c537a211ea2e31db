// The Spectral-Refiner's residual loss (pde::NsResidual: value, and value + gradient with respect to
// the trajectory) through neurops and through the reference's formulas in PyTorch CPU with autograd
// (bench/ns_residual.py, spawned with /usr/bin/python3), float64, same thread count, in alternating
// rounds (bench/roofline.hpp): medians side by side, the ratio's median over the rounds with its
// spread, and neurops' GFLOP/s of its FFTs against Eigen's float64 GEMM rate measured in the run.
//
//   ./ns_residual                                   # 256^2 x 40 frames (the fine-tuning size), 2 threads
//   ./ns_residual -bench_sizes 64,256 -bench_frames 40 -bench_threads 2 -bench_repeats 5 -bench_rounds 3
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
#include "roofline.hpp"
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

/// Real 2-D FFTs of n^2 points per frame as pde/ns_residual.cpp computes the loss (its work; the
/// element-wise spectral products are left out, bench/roofline.hpp). With the reference's IMEX rate a
/// frame's value takes the transform of w and two convection terms (4 inverse + 1 forward each): 11;
/// the gradient adds the value again, two convection adjoints (1 inverse + 4 forward each) and the
/// inverse of the gradient: 33. From the frames: the value 1 + 5, the gradient 6 + 12 = 18.
double transforms_per_frame(bool from_frames, bool gradient) {
  if (from_frames) return gradient ? 18 : 6;
  return gradient ? 33 : 11;
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
    int repeats = int(opt.integer("repeats", 3, "timed runs per size and round (the median is reported)", 1, 1000));
    int rounds = int(opt.integer("rounds", 5, "alternating neurops/PyTorch rounds", 1, 1000));
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
      rounds = 1;
    }
    std::string size_list;
    for (auto n : sizes) size_list += (size_list.empty() ? "" : ",") + std::to_string(n);
    const bool from_frames = time_derivative == "frames";
    NEUROPS_CHECK(!from_frames || frames >= 3,
                  "ns_residual: -bench_time_derivative frames needs -bench_frames >= 3, found " << frames);

    // One round: neurops at every size, then the peer at every size.
    std::map<index_t, double> losses;
    auto time_ours = [&] {
      std::map<std::string, double> ms;
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
        losses[n] = value;
        ms["value " + std::to_string(n)] = 1e3 * median(value_times);
        ms["gradient " + std::to_string(n)] = 1e3 * median(gradient_times);
      }
      return ms;
    };
    std::map<index_t, double> peer_losses;
    std::function<std::map<std::string, double>()> torch;
    if (peer)
      torch = [&] {
        std::map<std::string, double> ms;
        for (const auto& [n, p] : run_peer(script, size_list, frames, threads, repeats, time_derivative)) {
          ms["value " + std::to_string(n)] = 1e3 * p.value_s;
          ms["gradient " + std::to_string(n)] = 1e3 * p.gradient_s;
          peer_losses[n] = p.checksum;
        }
        return ms;
      };
    const bench::RoundTimes t = bench::alternate_rounds(rounds, smoke, time_ours, torch);

    std::printf(
        "\nNsResidual (%s), float64, %lld frames, %d threads, OMP_WAIT_POLICY=%s, %d rounds x median of %d runs\n",
        time_derivative.c_str(), (long long)frames, threads, std::getenv("OMP_WAIT_POLICY"), rounds, repeats);
    std::printf("%-6s %20s %20s\n", "n", "loss neurops", "loss torch");
    bool consistent = true;
    bench::Report report("ns_residual", t.peak(), "pytorch");
    for (const index_t n : sizes) {
      const double value = losses[n], checksum = peer_losses.count(n) ? peer_losses[n] : NAN;
      std::printf("%-6lld %20.12e %20.12e\n", (long long)n, value, checksum);
      if (!std::isnan(checksum) && std::abs(checksum - value) > 1e-8 * std::abs(value)) consistent = false;
      const double frame_fft = double(frames) * bench::real_fft_flops(double(n) * double(n));
      const std::string v = "value " + std::to_string(n), g = "gradient " + std::to_string(n);
      report.add(v, t, v, v, transforms_per_frame(from_frames, false) * frame_fft, true);
      report.add("value+grad " + std::to_string(n), t, g, g, transforms_per_frame(from_frames, true) * frame_fft, true);
    }
    report.print();
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
