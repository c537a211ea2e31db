// Benchmark: one SFNO training step (forward, relative-L2 loss, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/sfno_train_step.py: the
// reference's torch-cfd SFNO layers, run with Debian's /usr/bin/python3), float32, same thread count.
// Prints both medians, the ratio, the peak resident memory of each process, and the rate of the
// step's dense work (1x1 convolutions and per-mode channel mixing) against Eigen's float32 GEMM rate.
//
// Default problem (the Spectral-Refiner's Navier-Stokes setting): modes 12/12/5, width 20, 4 layers,
// 64^2 grid, 10 input frames -> 40 output frames, 10 latent frames, batch 4.
//
//   build/bench/sfno_train_step                 # 10 runs, 2 threads, with the PyTorch peer
//   build/bench/sfno_train_step -runs 5 -batch 8
//   build/bench/sfno_train_step -bench_smoke    # seconds-long CTest version (label bench)
//   build/bench/sfno_train_step -no_torch       # neurops only
#include <omp.h>

#include <Eigen/Dense>
#include <cstdio>
#include <sstream>

#include "neurops/operators/sfno.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

namespace {

/// float32 GEMM rate in GFLOP/s (median of `runs` products of m x m matrices).
double gemm_gflops(int m, int runs) {
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, m), b = Eigen::MatrixXf::Random(m, m), c(m, m);
  const double ms = median_ms([&] { c.noalias() = a * b; }, runs);
  return 2.0 * m * m * double(m) / (ms * 1e-3) / 1e9;
}

/// Flops of the dense products of one forward pass: the 1x1 convolutions (2 per multiply-add) and
/// the per-mode complex channel mixing (8 per complex multiply-add). The training step runs each
/// product three times (forward, input gradient, weight gradient).
double dense_forward_flops(const operators::SfnoConfig& c, index_t batch, index_t grid) {
  const double w = double(c.width), e = double(c.channel_expansion) * w;
  const double in_points = double(batch) * grid * grid * c.input_steps;
  const double latent_points = double(batch) * grid * grid * c.latent_steps;
  const double modes = 4.0 * c.modes_x * c.modes_y * c.modes_t;
  const double pointwise = 2 * (in_points * w * w + latent_points * (2 * w * e) * double(c.layers) +
                                latent_points * w * w * double(c.layers - 1) + latent_points * w);
  const double mixing = 8 * double(batch) * w * w * modes * double(c.layers) + 8 * double(batch) * modes;
  return pointwise + mixing;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 10);
    const index_t batch = arg_int(argc, argv, "-batch", smoke ? 2 : 4);
    const index_t grid = arg_int(argc, argv, "-grid", smoke ? 16 : 64);
    operators::SfnoConfig c;
    c.width = arg_int(argc, argv, "-width", smoke ? 6 : 20);
    c.modes_x = c.modes_y = arg_int(argc, argv, "-modes", smoke ? 4 : 12);
    c.modes_t = arg_int(argc, argv, "-modes_t", smoke ? 3 : 5);
    c.layers = arg_int(argc, argv, "-layers", smoke ? 2 : 4);
    c.input_steps = arg_int(argc, argv, "-input_steps", smoke ? 6 : 10);
    c.latent_steps = arg_int(argc, argv, "-latent_steps", smoke ? 6 : 10);
    c.output_steps = arg_int(argc, argv, "-output_steps", smoke ? 8 : 40);
    omp_set_num_threads(threads);

    operators::Sfno<float> sfno(c);
    Rng rng(0);
    const auto x = Tensor<float>::randn({batch, c.input_steps, grid, grid}, rng);
    const auto y = Tensor<float>::randn({batch, c.output_steps, grid, grid}, rng);
    const auto [ours_train, ours_infer] = time_field_model(sfno, x, y, runs);
    const double ours_rss = peak_rss_mb();
    const double gemm = gemm_gflops(smoke ? 256 : 1024, smoke ? 2 : 5);

    std::printf(
        "SFNO: width %lld, modes %lld/%lld/%lld, %lld layers, %lld^2, %lld -> %lld frames (latent %lld), batch %lld, "
        "float32, %d threads, %lld parameters, median of %d runs\n",
        (long long)c.width, (long long)c.modes_x, (long long)c.modes_y, (long long)c.modes_t, (long long)c.layers,
        (long long)grid, (long long)c.input_steps, (long long)c.output_steps, (long long)c.latent_steps,
        (long long)batch, threads, (long long)sfno.parameter_count(), runs);
    std::map<std::string, double> torch;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << c.width << " --modes " << c.modes_x
        << " --modes-t " << c.modes_t << " --layers " << c.layers << " --input-steps " << c.input_steps
        << " --latent-steps " << c.latent_steps << " --output-steps " << c.output_steps << " --runs " << runs
        << " --threads " << threads;
      torch = run_torch(bench::peer_script("sfno_train_step.py"), a.str(), threads);
      if (torch.count("torch_parameters") && torch["torch_parameters"] != double(sfno.parameter_count()))
        std::printf("  warning: the PyTorch peer has %.0f parameters, neurops %lld\n", torch["torch_parameters"],
                    (long long)sfno.parameter_count());
    }
    print_row("train step [ms]", ours_train, torch, "torch_train_ms");
    print_row("inference [ms]", ours_infer, torch, "torch_infer_ms");
    if (torch.count("torch_peak_rss_mb"))
      std::printf("  %-22s neurops %10.1f   pytorch %10.1f\n", "peak memory [MB]", ours_rss,
                  torch["torch_peak_rss_mb"]);
    else
      std::printf("  %-22s neurops %10.1f\n", "peak memory [MB]", ours_rss);
    const double dense = 3 * dense_forward_flops(c, batch, grid) / (ours_train * 1e-3) / 1e9;
    std::printf("  dense work of the train step %.1f GFLOP/s, Eigen float32 GEMM %.1f GFLOP/s: %.0f%% of GEMM\n", dense,
                gemm, 100.0 * dense / gemm);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sfno_train_step: error: %s\n", e.what());
    return 1;
  }
}
