// Benchmark: one FNO-2D training step (forward, relative-L2 loss, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/fno_train_step.py, run with
// Debian's /usr/bin/python3), float32, same thread count, in alternating rounds (bench/roofline.hpp).
// Prints both medians, the ratio with its spread over the rounds, neurops' GFLOP/s against Eigen's
// float32 GEMM rate, and the peak resident memory of each process.
//
// Default problem (the FNO baseline of the training issue): width 32, 12 modes, 4 layers, 64^2 grid,
// batch 16, 3 input channels, 1 output.
//
//   build/bench/fno_train_step                    # 5 rounds x 3 runs, 2 threads, with the PyTorch peer
//   build/bench/fno_train_step -rounds 9 -runs 10 -threads 2
//   build/bench/fno_train_step -bench_smoke           # seconds-long CTest version (label bench)
//   build/bench/fno_train_step -no_torch          # neurops only
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/operators/fno.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

namespace {

struct Flops {
  double dense, fft;  // one forward pass
  double input;       // the lifting: no gradient to the model's input is needed in training
};

/// One forward pass of the FNO on `batch` fields of grid^2 points (bench/roofline.hpp's conventions):
/// the 1x1 convolutions (lifting, W in each block, the two projections) at 2 flops per multiply-add,
/// each block's complex channel mixing over its 2 m x m kept modes at 8, and each block's rfft2 of
/// its input and irfft2 of its output at 2.5 P log2 P per channel.
/// Hand check at the defaults (batch 16, 64^2, width 32, 12 modes, 4 layers, 3 -> 128 -> 1): 1x1
/// products 2 * 65536 * (3*32 + 4*32*32 + 32*128 + 128) = 1.11 GFLOP, mixing 8 * 16 * 32^2 * 288 * 4
/// = 0.151 GFLOP, FFTs 4 * 2 * 512 * 2.5 * 4096 * 12 = 0.503 GFLOP: 1.76 GFLOP forward.
/// Independent count: torch.profiler (with_flops) on the peer's forward pass gives mm 0.5662 + conv2d
/// 0.5369 = 1.1031 GFLOP for the 1x1 products (as here) and bmm 0.0377 GFLOP for the mixing, which
/// it counts at 2 flops per complex multiply-add (x 4 = 0.151 as here); it does not count FFTs.
Flops fno_forward_flops(const operators::FnoConfig& c, index_t batch, index_t grid) {
  const double points = double(grid) * double(grid), w = double(c.width), samples = double(batch);
  const double pointwise = double(c.in_channels) * w + double(c.layers) * w * w + w * double(c.projection_channels) +
                           double(c.projection_channels) * double(c.out_channels);
  const double kept = 2.0 * double(c.modes[0]) * double(c.modes[0]);
  return {2 * samples * points * pointwise + 8 * samples * w * w * kept * double(c.layers),
          double(c.layers) * 2 * samples * w * real_fft_flops(points),
          2 * samples * points * double(c.in_channels) * w};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 3);
    const int rounds = arg_int(argc, argv, "-rounds", smoke ? 1 : 5);
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
    Rng rng(0);
    const auto x = Tensor<float>::randn({batch, in_channels, grid, grid}, rng);
    const auto y = Tensor<float>::randn({batch, 1, grid, grid}, rng);
    std::printf(
        "FNO-2D: width %lld, %lld modes, %lld layers, %lld^2, batch %lld, %lld->1 channels, float32, %d threads, "
        "%lld parameters, %d rounds x median of %d runs\n",
        (long long)width, (long long)modes, (long long)layers, (long long)grid, (long long)batch,
        (long long)in_channels, threads, (long long)fno.parameter_count(), rounds, runs);
    std::function<std::map<std::string, double>()> peer;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << width << " --modes " << modes << " --layers "
        << layers << " --in-channels " << in_channels << " --runs " << runs << " --threads " << threads;
      peer = torch_round(bench::peer_script("fno_train_step.py"), a.str(), threads);
    }
    const RoundTimes t = alternate_rounds(
        rounds, smoke,
        [&] {
          const StepTimes s = time_field_model(fno, x, y, runs);
          return std::map<std::string, double>{{"train", s.train_ms}, {"infer", s.infer_ms}};
        },
        peer);
    // Training: the products run three times (forward, input and weight gradients; no input gradient
    // of the lifting, which reads the model's input), the transforms twice.
    const Flops f = fno_forward_flops(c, batch, grid);
    const GemmPeak peak = t.peak();
    Report report("fno_train_step", peak, "pytorch");
    report.add("train step", t, "train", "torch_train_ms", 3 * f.dense - f.input + 2 * f.fft);
    report.add("inference", t, "infer", "torch_infer_ms", f.dense + f.fft);
    report.print();
    print_peak_memory(peak_rss_mb(), t.peer);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fno_train_step: error: %s\n", e.what());
    return 1;
  }
}
