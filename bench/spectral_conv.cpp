// Benchmark: forward+backward of a 2-D SpectralConv (FNO Fourier layer) through neurops and through
// the same layer in PyTorch CPU (neuraloperator style: rfft2, einsum mixing on both corners,
// irfft2), float32, same thread count; plus one Adam step over ~1M parameters against
// torch.optim.Adam. Medians of several runs, printed side by side with the ratio.
//
// The PyTorch side is bench/spectral_conv.py, run with /usr/bin/python3 (Debian's python3-torch)
// and OMP_NUM_THREADS set to the same thread count. The first run also checks that both produce the
// same output and gradients from the same input, weights and output gradient.
//
//   build/bench/spectral_conv                 # batch 16, 32->32 channels, 64^2, 12 modes, 2 threads
//   build/bench/spectral_conv --runs 20 --threads 2
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
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::nn;

namespace {

struct Config {
  index_t batch = 16, channels = 32, grid = 64, modes = 12, adam_params = 1 << 20;
  int runs = 10, threads = 2;
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

std::map<std::string, double> run_peer(const Config& c, const std::filesystem::path& check_dir) {
  const std::filesystem::path script = bench::peer_script("spectral_conv.py");
  std::ostringstream cmd;
  cmd << "OMP_NUM_THREADS=" << c.threads << " /usr/bin/python3 " << script << " --batch " << c.batch << " --channels "
      << c.channels << " --grid " << c.grid << " --modes " << c.modes << " --runs " << c.runs << " --threads "
      << c.threads << " --adam-params " << c.adam_params << " --check " << check_dir << " 2>&1";
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
        c.batch = 2, c.channels = 8, c.grid = 32, c.modes = 6, c.runs = 3, c.adam_params = 1 << 16;
      } else if (a == "--runs") {
        c.runs = std::stoi(next());
      } else if (a == "--threads") {
        c.threads = std::stoi(next());
      } else if (a == "--no-torch") {
        c.torch = false;
      } else if (a == "--help" || a == "-help") {
        std::cout << "usage: spectral_conv [-bench_smoke] [--runs N] [--threads T] [--no-torch]\n";
        return 0;
      } else {
        NEUROPS_THROW("unknown option '" << a << "' (try --help)");
      }
    }
    omp_set_num_threads(c.threads);
    std::cout << "SpectralConv2d forward+backward: batch " << c.batch << ", " << c.channels << "->" << c.channels
              << " channels, " << c.grid << "^2 grid, " << c.modes << " modes, float32, " << c.threads << " threads, "
              << c.runs << " runs (median)\n";

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
    std::map<std::string, double> ours;
    for (auto [name, effort] : {std::pair{"FFTW_ESTIMATE", FftPlannerEffort::estimate},
                                std::pair{"FFTW_MEASURE", FftPlannerEffort::measure}}) {
      set_fft_planner_effort(effort);
      ours[name] = median_ms(fwd_bwd, c.runs);
      std::printf("  neurops SpectralConv2d fwd+bwd, %-14s %8.2f ms\n", name, ours[name]);
    }
    set_fft_planner_effort(FftPlannerEffort::estimate);
    layer.eval();
    const double ours_fwd = median_ms([&]() { layer.forward(x); }, c.runs);
    layer.train();
    const double ours_best = std::min(ours["FFTW_ESTIMATE"], ours["FFTW_MEASURE"]);

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

    // 2. Adam step over ~1M parameters.
    FlatParameter flat(c.adam_params);
    Adam<float> adam(flat, {.lr = 1e-3});
    const double ours_adam = median_ms([&]() { adam.step(); }, std::max(c.runs, 20));

    // 3. PyTorch peer, with a cross-check of the forward pass on the same data.
    std::map<std::string, double> peer;
    if (c.torch && torch_available()) {
      const auto dir =
          std::filesystem::temp_directory_path() / ("neurops_bench_spectral_" + std::to_string(::getpid()));
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
      peer = run_peer(c, dir);
      std::filesystem::remove_all(dir);
    } else {
      std::cout << "  (PyTorch peer skipped: " << (c.torch ? "/usr/bin/python3 has no torch" : "--no-torch") << ")\n";
    }

    std::printf("\n%-38s %12s %12s %8s\n", "work", "neurops ms", "torch ms", "ratio");
    auto row = [&](const char* what, double mine, const char* key) {
      if (peer.count(key))
        std::printf("%-38s %12.2f %12.2f %7.2fx\n", what, mine, peer[key], peer[key] / mine);
      else
        std::printf("%-38s %12.2f %12s %8s\n", what, mine, "-", "-");
    };
    row("SpectralConv2d forward+backward", ours["FFTW_ESTIMATE"], "torch_spectral_conv_ms");
    row("SpectralConv2d fwd+bwd (best planner)", ours_best, "torch_spectral_conv_ms");
    row("SpectralConv2d forward (eval)", ours_fwd, "torch_spectral_forward_ms");
    row("Adam step", ours_adam, "torch_adam_ms");
    std::printf("(ratio = torch / neurops; > 1 means neurops is faster)\n");
    if (peer.count("check_relative_diff")) {
      const double rel = peer["check_relative_diff"];
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
