// Benchmark: one FNO-2D training step (forward, relative-L2 loss, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/fno_train_step.py, run with
// Debian's /usr/bin/python3), float32, same thread count. Prints both medians, the ratio, and the
// peak resident memory of each process.
//
// Default problem (the FNO baseline of the training issue): width 32, 12 modes, 4 layers, 64^2 grid,
// batch 16, 3 input channels, 1 output.
//
//   build/bench/fno_train_step                    # 10 runs, 2 threads, with the PyTorch peer
//   build/bench/fno_train_step -runs 20 -threads 2
//   build/bench/fno_train_step -smoke             # seconds-long CTest version (label bench)
//   build/bench/fno_train_step -no_torch          # neurops only
#include <omp.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "neurops/core/progress.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/operators/fno.hpp"

using namespace neurops;

namespace {

template <class F>
double median_ms(F&& f, int runs) {
  f();  // warm-up: FFTW plans, workspaces, page faults
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    Timer timer;
    f();
    t.push_back(timer.seconds() * 1e3);
  }
  return median(t);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

std::map<std::string, double> run_torch(const std::string& args, int threads) {
  const std::filesystem::path script = std::filesystem::path(__FILE__).replace_extension(".py");
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) + " MKL_NUM_THREADS=" + std::to_string(threads) +
                          " /usr/bin/python3 " + script.string() + " " + args + " 2>&1";
  std::map<std::string, double> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::istringstream is(line);
    std::string key;
    double v;
    if (is >> key >> v && key.rfind("torch_", 0) == 0) out[key] = v;
    else std::fputs(line, stderr);
  }
  pclose(p);
  return out;
}

int arg_int(int argc, char** argv, const std::string& name, int def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return def;
}
bool arg_flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == name) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 10);
    const index_t batch = arg_int(argc, argv, "-batch", smoke ? 2 : 16);
    const index_t grid = arg_int(argc, argv, "-grid", smoke ? 32 : 64);
    const index_t width = arg_int(argc, argv, "-width", smoke ? 8 : 32);
    const index_t modes = arg_int(argc, argv, "-modes", smoke ? 6 : 12);
    const index_t layers = arg_int(argc, argv, "-layers", 4);
    const index_t in_channels = 3;
    omp_set_num_threads(threads);

    operators::FnoConfig c;
    c.in_channels = in_channels;
    c.width = width;
    c.modes = {modes};
    c.layers = layers;
    operators::Fno<float> fno(c);
    nn::Adam<float> adam(fno, {.lr = 1e-3});
    nn::LpLoss<float> loss(2);
    Rng rng(0);
    const auto x = Tensor<float>::randn({batch, in_channels, grid, grid}, rng);
    const auto y = Tensor<float>::randn({batch, 1, grid, grid}, rng);
    Tensor<float> grad;
    auto train_step = [&] {
      fno.train();
      const Tensor<float> out = fno.forward(x);
      loss.evaluate(out, y, &grad);
      fno.backward(grad);
      adam.step();
      adam.zero_grad();
    };
    auto infer = [&] {
      fno.eval();
      (void)fno.forward(x);
    };
    const double ours_train = median_ms(train_step, runs);
    const double ours_infer = median_ms(infer, runs);
    const double ours_rss = peak_rss_mb();

    std::printf("FNO-2D: width %lld, %lld modes, %lld layers, %lld^2, batch %lld, %lld->1 channels, float32, %d threads, "
                "%lld parameters, median of %d runs\n",
                (long long)width, (long long)modes, (long long)layers, (long long)grid, (long long)batch,
                (long long)in_channels, threads, (long long)fno.parameter_count(), runs);
    std::map<std::string, double> torch;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << width << " --modes " << modes << " --layers "
        << layers << " --in-channels " << in_channels << " --runs " << runs << " --threads " << threads;
      torch = run_torch(a.str(), threads);
    }
    auto row = [&](const char* what, double ours, const char* key) {
      if (torch.count(key))
        std::printf("  %-22s neurops %10.2f   pytorch %10.2f   ratio %6.2fx\n", what, ours, torch[key], torch[key] / ours);
      else
        std::printf("  %-22s neurops %10.2f   pytorch        n/a\n", what, ours);
    };
    row("train step [ms]", ours_train, "torch_train_ms");
    row("inference [ms]", ours_infer, "torch_infer_ms");
    if (torch.count("torch_peak_rss_mb"))
      std::printf("  %-22s neurops %10.1f   pytorch %10.1f\n", "peak memory [MB]", ours_rss, torch["torch_peak_rss_mb"]);
    else
      std::printf("  %-22s neurops %10.1f\n", "peak memory [MB]", ours_rss);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fno_train_step: error: %s\n", e.what());
    return 1;
  }
}
