// Benchmark: forward+backward of a 2-D SpectralConv (FNO Fourier layer) through neurops and through
// the same layer in PyTorch CPU (neuraloperator style: rfft2, einsum mixing on both corners,
// irfft2), float32, same thread count; plus one Adam step over ~1M parameters against
// torch.optim.Adam. Alternating rounds (neurops, PyTorch, ...; bench/roofline.hpp): medians of several
// runs per round, the ratio's median over the rounds with its spread, and neurops' GFLOP/s against
// Eigen's float32 GEMM rate measured in the same run.
//
// The PyTorch side is bench/spectral_conv.py, run with /usr/bin/python3 (Debian's python3-torch)
// and OMP_NUM_THREADS set to the same thread count. The first run also checks that both produce the
// same output and gradients from the same input, weights and output gradient.
//
//   build/bench/spectral_conv                 # batch 16, 32->32 channels, 64^2, 12 modes, 2 threads
//   build/bench/spectral_conv --runs 20 --threads 2 --rounds 7
//   build/bench/spectral_conv -bench_smoke       # seconds-long version registered as a CTest (label bench)
//   build/bench/spectral_conv --no-torch      # neurops only
//
// On a machine shared with other jobs, OMP_WAIT_POLICY=passive (inherited by the PyTorch peer) keeps
// both sides from losing whole time slices in spinning OpenMP barriers; the quoted ratios were taken
// that way: OMP_WAIT_POLICY=passive build/bench/spectral_conv --runs 20
#include <omp.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

#include "neurops/core/progress.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/spectral_conv.hpp"
#include "neurops/nn/transforms.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::nn;

namespace {

struct Config {
  index_t batch = 16, channels = 32, grid = 64, modes = 12, adam_params = 1 << 20;
  int runs = 10, threads = 2, rounds = 5;
  bool torch = true, smoke = false;
};

using bench::median_ms;  // warm-up call (plans, page faults), then the median of timed runs

/// A module holding one flat parameter, for timing the optimizer alone.
class FlatParameter : public ModuleImpl<FlatParameter, float> {
 public:
  explicit FlatParameter(index_t n) : p(Tensor<float>(Shape{n})) {
    Rng rng(1);
    for (auto& v : p.value) v = static_cast<float>(rng.normal());
    for (auto& v : p.grad) v = static_cast<float>(rng.normal());
  }
  Tensor<float> forward(const Tensor<float>& x) override { return x; }
  Tensor<float> backward(const Tensor<float>& dy) override { return dy; }
  std::string type_name() const override { return "FlatParameter"; }
  void for_each_parameter(const ParameterFn& fn) override { fn("p", p); }
  Parameter<float> p;
};

void write_raw(const std::filesystem::path& path, const Tensor<float>& t) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(sizeof(float) * t.numel()));
  NEUROPS_CHECK(out.good(), "cannot write " << path.string());
}

/// One run of the peer; with a non-empty `check_dir` it also compares its results with the files there.
std::map<std::string, double> run_peer(const Config& c, const std::filesystem::path& check_dir) {
  const std::filesystem::path script = bench::peer_script("spectral_conv.py");
  std::ostringstream cmd;
  cmd << "OMP_NUM_THREADS=" << c.threads << " /usr/bin/python3 " << script << " --batch " << c.batch << " --channels "
      << c.channels << " --grid " << c.grid << " --modes " << c.modes << " --runs " << c.runs << " --threads "
      << c.threads << " --adam-params " << c.adam_params;
  if (!check_dir.empty()) cmd << " --check " << check_dir;
  cmd << " 2>&1";
  std::map<std::string, double> values;
  FILE* pipe = popen(cmd.str().c_str(), "r");
  NEUROPS_CHECK(pipe, "cannot run " << cmd.str());
  char line[4096];
  std::string all;
  while (fgets(line, sizeof line, pipe)) {
    all += line;
    std::istringstream is(line);
    std::string key;
    double v;
    while (is >> key >> v) values[key] = v;
  }
  const int rc = pclose(pipe);
  NEUROPS_CHECK(rc == 0 && values.count("torch_spectral_conv_ms"), "PyTorch peer failed (" << cmd.str() << "):\n"
                                                                                           << all);
  return values;
}

bool torch_available() { return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0; }

}  // namespace

int main(int argc, char** argv) {
  try {
    Config c;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        NEUROPS_CHECK(i + 1 < argc, "option " << a << " needs a value");
        return argv[++i];
      };
      if (a == "-bench_smoke") {
        c.smoke = true;
        c.batch = 2, c.channels = 8, c.grid = 32, c.modes = 6, c.runs = 3, c.rounds = 1, c.adam_params = 1 << 16;
      } else if (a == "--runs") {
        c.runs = std::stoi(next());
      } else if (a == "--rounds") {
        c.rounds = std::stoi(next());
      } else if (a == "--threads") {
        c.threads = std::stoi(next());
      } else if (a == "--no-torch") {
        c.torch = false;
      } else if (a == "--help" || a == "-help") {
        std::cout << "usage: spectral_conv [-bench_smoke] [--runs N] [--rounds R] [--threads T] [--no-torch]\n";
        return 0;
      } else {
        NEUROPS_THROW("unknown option '" << a << "' (try --help)");
      }
    }
    omp_set_num_threads(c.threads);
    std::cout << "SpectralConv2d forward+backward: batch " << c.batch << ", " << c.channels << "->" << c.channels
              << " channels, " << c.grid << "^2 grid, " << c.modes << " modes, float32, " << c.threads << " threads, "
              << c.rounds << " rounds x " << c.runs << " runs (median)\n";

    // 1. neurops layer with both planner efforts (the layer parallelises over signals itself).
    SpectralConv<float> layer(c.channels, c.channels, {c.modes, c.modes}, false, 0);
    Rng rng(3);
    const auto x = Tensor<float>::randn(Shape{c.batch, c.channels, c.grid, c.grid}, rng);
    const auto dy = Tensor<float>::randn(x.shape(), rng);
    auto fwd_bwd = [&]() {
      layer.zero_grad();
      layer.forward(x);
      layer.backward(dy);
    };
    FlatParameter flat(c.adam_params);
    Adam<float> adam(flat, {.lr = 1e-3});
    auto time_ours = [&] {
      std::map<std::string, double> ours;
      for (auto [name, effort] :
           {std::pair{"estimate", FftPlannerEffort::estimate}, std::pair{"measure", FftPlannerEffort::measure}}) {
        set_fft_planner_effort(effort);
        ours[name] = median_ms(fwd_bwd, c.runs);
      }
      set_fft_planner_effort(FftPlannerEffort::estimate);
      ours["best"] = std::min(ours["estimate"], ours["measure"]);
      layer.eval();
      ours["forward"] = median_ms([&]() { layer.forward(x); }, c.runs);
      layer.train();
      ours["adam"] = median_ms([&]() { adam.step(); }, std::max(c.runs, 20));  // 2. Adam over ~1M parameters
      return ours;
    };

    // Threading strategies of the plain transforms: a 2-D rFFT layer (forward + backward) of the
    // same tensor with the batch x channel loop split over OpenMP threads, or FFTW's own threads.
    Rfft<float> rfft(2);
    const auto spectrum_grad = Tensor<float>::randn(rfft.forward(x).shape(), rng);
    for (auto [name, threading] : {std::pair{"OpenMP split", FftThreading::openmp_split},
                                   std::pair{"FFTW threads", FftThreading::fftw_threads}}) {
      set_fft_threading(threading);
      const double t = median_ms(
          [&]() {
            rfft.forward(x);
            rfft.backward(spectrum_grad);
          },
          c.runs);
      std::printf("  neurops Rfft 2-D fwd+bwd, %-14s %8.2f ms\n", name, t);
    }
    set_fft_threading(FftThreading::openmp_split);

    // 3. PyTorch peer in alternating rounds; its first run also checks the forward pass and gradients
    //    against neurops' on the same data.
    std::function<std::map<std::string, double>()> peer;
    std::map<std::string, double> check;
    const auto dir = std::filesystem::temp_directory_path() / ("neurops_bench_spectral_" + std::to_string(::getpid()));
    if (c.torch && torch_available()) {
      std::filesystem::create_directories(dir);
      { std::ofstream(dir / "sizes.txt") << c.batch << " " << c.channels << " " << c.grid << " " << c.modes << "\n"; }
      write_raw(dir / "x.bin", x);
      write_raw(dir / "weight0.bin", layer.weight(0).value);
      write_raw(dir / "weight1.bin", layer.weight(1).value);
      layer.zero_grad();
      write_raw(dir / "y.bin", layer.forward(x));
      write_raw(dir / "dy.bin", dy);
      write_raw(dir / "dx.bin", layer.backward(dy));
      write_raw(dir / "dweight0.bin", layer.weight(0).grad);
      write_raw(dir / "dweight1.bin", layer.weight(1).grad);
      peer = [&] {
        auto values = run_peer(c, check.empty() ? dir : std::filesystem::path());
        if (check.empty()) check = values;
        return values;
      };
    } else {
      std::cout << "  (PyTorch peer skipped: " << (c.torch ? "/usr/bin/python3 has no torch" : "--no-torch") << ")\n";
    }
    const bench::RoundTimes times = bench::alternate_rounds(c.rounds, c.smoke, time_ours, peer);
    std::filesystem::remove_all(dir);

    // Forward: rfft2 of every input channel, the complex mixing over 2 m x m modes, irfft2 of every
    // output channel; backward: the same for the input gradient plus the weight gradient's mixing.
    const double points = double(c.grid) * double(c.grid), signals = double(c.batch) * double(c.channels);
    const double fft = 2 * signals * bench::real_fft_flops(points);
    const double mixing = 8 * double(c.batch) * double(c.channels) * double(c.channels) * 2 * double(c.modes * c.modes);
    bench::Report report("spectral_conv", times.peak(), "pytorch");
    report.add("SpectralConv2d fwd+bwd", times, "estimate", "torch_spectral_conv_ms", 2 * fft + 3 * mixing);
    report.add("SpectralConv2d fwd+bwd (best plan)", times, "best", "torch_spectral_conv_ms", 2 * fft + 3 * mixing);
    report.add("SpectralConv2d forward (eval)", times, "forward", "torch_spectral_forward_ms", fft + mixing);
    report.add({"Adam step", times.ours.at("adam"),
                times.peer.count("torch_adam_ms") ? times.peer.at("torch_adam_ms") : std::vector<double>{}, NAN, false,
                "memory-bound: no GEMM share"});
    report.print();
    std::printf("  FFTW planner: FFTW_ESTIMATE %.2f ms, FFTW_MEASURE %.2f ms (fwd+bwd, median over rounds)\n",
                median(times.ours.at("estimate")), median(times.ours.at("measure")));
    if (check.count("check_relative_diff")) {
      const double rel = check["check_relative_diff"];
      std::printf(
          "agreement with PyTorch autograd on the same input, weights and output gradient\n"
          "(forward, input gradient, both weight gradients): max |diff| / max |value| = %.2e\n",
          rel);
      NEUROPS_CHECK(rel < 1e-4, "neurops and PyTorch disagree: relative difference " << rel);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "spectral_conv: " << e.what() << "\n";
    return 1;
  }
}
