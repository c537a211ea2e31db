// Benchmark: one SFNO training step (forward, relative-L2 loss, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/sfno_train_step.py: the
// reference's torch-cfd SFNO layers, run with Debian's /usr/bin/python3), float32, same thread count.
// Alternating rounds (bench/roofline.hpp): prints both medians, the ratio with its spread, neurops'
// GFLOP/s (1x1 convolutions, per-mode channel mixing, FFTs) against Eigen's float32 GEMM rate, the
// dense work's share alone, and the peak resident memory of each process.
//
// Default problem (the Spectral-Refiner's Navier-Stokes setting): modes 12/12/5, width 20, 4 layers,
// 64^2 grid, 10 input frames -> 40 output frames, 10 latent frames, batch 4.
//
//   build/bench/sfno_train_step                 # 5 rounds x 2 runs, 2 threads, with the PyTorch peer
//   build/bench/sfno_train_step -rounds 9 -runs 5 -batch 8
//   build/bench/sfno_train_step -bench_smoke    # seconds-long CTest version (label bench)
//   build/bench/sfno_train_step -no_torch       # neurops only
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/operators/sfno.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

namespace {

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

/// Flops of the real 3-D FFTs of one forward pass (2.5 N log2 N each): the lifting's transform of the
/// input frames and inverse to the latent frames, both transforms of the latent frames in each later
/// layer (width channels), and the output layer's pair on one channel, whose input (the last input
/// frame and the latent frames) is zero-padded to twice its length and whose output has
/// output_steps + 1 + that padding frames.
double fft_forward_flops(const operators::SfnoConfig& c, index_t batch, index_t grid) {
  const double plane = double(grid) * double(grid), w = double(c.width), b = double(batch);
  const double pad = double(c.latent_steps + 1);
  return b * w * (real_fft_flops(plane * double(c.input_steps)) + real_fft_flops(plane * double(c.latent_steps))) +
         b * w * 2 * double(c.layers - 1) * real_fft_flops(plane * double(c.latent_steps)) +
         b * (real_fft_flops(plane * 2 * pad) + real_fft_flops(plane * (double(c.output_steps + 1) + pad)));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", 2);
    const int rounds = arg_int(argc, argv, "-rounds", smoke ? 1 : 5);
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
    std::printf(
        "SFNO: width %lld, modes %lld/%lld/%lld, %lld layers, %lld^2, %lld -> %lld frames (latent %lld), batch %lld, "
        "float32, %d threads, %lld parameters, %d rounds x median of %d runs\n",
        (long long)c.width, (long long)c.modes_x, (long long)c.modes_y, (long long)c.modes_t, (long long)c.layers,
        (long long)grid, (long long)c.input_steps, (long long)c.output_steps, (long long)c.latent_steps,
        (long long)batch, threads, (long long)sfno.parameter_count(), rounds, runs);
    std::function<std::map<std::string, double>()> peer;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << c.width << " --modes " << c.modes_x
        << " --modes-t " << c.modes_t << " --layers " << c.layers << " --input-steps " << c.input_steps
        << " --latent-steps " << c.latent_steps << " --output-steps " << c.output_steps << " --runs " << runs
        << " --threads " << threads;
      peer = torch_round(bench::peer_script("sfno_train_step.py"), a.str(), threads);
    }
    const RoundTimes t = alternate_rounds(
        rounds, smoke,
        [&] {
          const StepTimes s = time_field_model(sfno, x, y, runs);
          return std::map<std::string, double>{{"train", s.train_ms}, {"infer", s.infer_ms}};
        },
        peer);
    if (t.peer.count("torch_parameters") && t.peer.at("torch_parameters")[0] != double(sfno.parameter_count()))
      std::printf("  warning: the PyTorch peer has %.0f parameters, neurops %lld\n", t.peer.at("torch_parameters")[0],
                  (long long)sfno.parameter_count());
    // Training: the products three times (forward, input and weight gradients), the transforms twice.
    const double dense = dense_forward_flops(c, batch, grid), fft = fft_forward_flops(c, batch, grid);
    const GemmPeak peak = t.peak();
    Report report("sfno_train_step", peak, "pytorch");
    report.add("train step", t, "train", "torch_train_ms", 3 * dense + 2 * fft);
    report.add("inference", t, "infer", "torch_infer_ms", dense + fft);
    report.print();
    print_peak_memory(peak_rss_mb(), t.peer);
    const double dense_rate = gflops(3 * dense, median(t.ours.at("train")));
    std::printf("  dense work of the train step alone %.1f GFLOP/s: %.0f%% of GEMM\n", dense_rate,
                100.0 * dense_rate / peak.f32);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sfno_train_step: error: %s\n", e.what());
    return 1;
  }
}
