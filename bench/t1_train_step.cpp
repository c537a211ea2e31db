// Benchmark: one T1 training step (forward, RelativeL2DCT loss, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/t1_train_step.py, DCT through
// the FFT as the reference computes it, run with Debian's /usr/bin/python3), float32, same thread
// count, in alternating rounds with ratios, spreads and neurops' GFLOP/s against Eigen's float32 GEMM
// rate (bench/roofline.hpp); then the neurops FNO of the reference baseline (24 modes, width 32, 6 layers, grid
// appended) on the same batch, the model T1 is compared with per epoch. Prints medians, ratios and the peak resident
// memory of each process.
//
// Default problem (the T1 Navier-Stokes config): 24^2 modes, width 48, 8 blocks, 64^2, batch 64, 1 -> 1.
//
//   build/bench/t1_train_step                  # 5 rounds x 1 run, 2 threads, PyTorch peer and FNO
//   build/bench/t1_train_step -runs 5 -batch 32
//   build/bench/t1_train_step -bench_smoke     # seconds-long CTest version (label bench)
//   build/bench/t1_train_step -no_torch -no_fno
#include <omp.h>

#include <cstdio>
#include <functional>
#include <sstream>
#include <utility>
#include <vector>

#include "neurops/nn/dct_loss.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/t1.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

namespace {

/// A training step with `loss` (forward, loss, backward, Adam) and an inference pass of one model.
struct Steps {
  std::function<void()> train, infer;
};

Steps make_steps(nn::Model<float>& model, nn::Adam<float>& adam, const nn::Loss<float>& loss, const Tensor<float>& x,
                 const Tensor<float>& y, Tensor<float>& grad) {
  Steps s;
  s.train = [&model, &adam, &loss, &x, &y, &grad] {
    model.train();
    const Tensor<float> out = model.forward(x);
    loss.evaluate(out, y, &grad);
    model.backward(grad);
    adam.step();
    adam.zero_grad();
  };
  s.infer = [&model, &x] {
    model.eval();
    (void)model.forward(x);
  };
  return s;
}

struct T1Flops {
  double dense, lift, dct;  // one forward pass: all products, the lift's share, one DCT of one channel
};

/// One forward pass of T1 as neurops computes it (bench/roofline.hpp's conventions): the orthonormal
/// 2-D DCT-II of the input and grid channels at 2.5 P log2 P each (a real transform of P points),
/// the lift of the kept m^2 modes, per block the per-mode width x width channel mixing and the two
/// per-channel frequency mixings (m x m along each axis), and the per-mode head width -> 128 -> 1.
/// Hand check at the defaults (batch 64, 64^2, width 48, 24 modes, 8 blocks): per sample lift 2 * 3
/// * 48 * 576 = 0.166 MFLOP, blocks 8 * 2 * (48^2 * 576 + 2 * 48 * 24^3) = 26.5 MFLOP, head 2 * 576 *
/// (48 * 128 + 128) = 7.23 MFLOP, DCTs 3 * 2.5 * 4096 * 12 = 0.369 MFLOP: 34.2 MFLOP, x 64 = 2.19 GFLOP.
T1Flops t1_forward_flops(const operators::T1Config& c, index_t batch) {
  const double b = double(batch), w = double(c.width), m1 = double(c.modes[0]);
  const double m2 = double(c.modes.size() > 1 ? c.modes[1] : c.modes[0]), kept = m1 * m2;
  const double points = double(c.grid[0]) * double(c.grid[1]), in = double(c.in_channels + 2);
  const double lift = 2 * b * in * w * kept;
  const double blocks = double(c.layers) * 2 * b * (w * w * kept + w * m1 * m1 * m2 + w * m2 * m2 * m1);
  const double head = 2 * b * kept * double(c.head_channels) * (w + double(c.out_channels));
  const double dct = b * real_fft_flops(points);  // one channel
  return {lift + blocks + head, lift, dct};
}

/// Medians of a and b timed alternately (a, b, a, b, ... after one warm-up each), so that a load
/// that changes during the run (a shared machine) weighs on both alike.
std::pair<double, double> alternating_medians(const std::function<void()>& a, const std::function<void()>& b,
                                              int runs) {
  a();
  b();
  std::vector<double> ta, tb;
  for (int i = 0; i < runs; ++i) {
    Timer timer;
    a();
    ta.push_back(timer.seconds() * 1e3);
    Timer timer_b;
    b();
    tb.push_back(timer_b.seconds() * 1e3);
  }
  return {median(ta), median(tb)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 1);
    const int rounds = arg_int(argc, argv, "-rounds", smoke ? 1 : 5);
    const index_t batch = arg_int(argc, argv, "-batch", smoke ? 2 : 64);
    const index_t grid = arg_int(argc, argv, "-grid", smoke ? 32 : 64);
    const index_t width = arg_int(argc, argv, "-width", smoke ? 8 : 48);
    const index_t modes = arg_int(argc, argv, "-modes", smoke ? 6 : 24);
    const index_t layers = arg_int(argc, argv, "-layers", smoke ? 2 : 8);
    omp_set_num_threads(threads);

    operators::T1Config c;
    c.width = width;
    c.modes = {modes};
    c.layers = layers;
    c.grid = {grid, grid};
    operators::T1<float> t1(c);
    Rng rng(0);
    const auto x = Tensor<float>::randn({batch, 1, grid, grid}, rng);
    const auto y = Tensor<float>::randn({batch, 1, grid, grid}, rng);
    const nn::RelativeL2DctLoss<float> loss(2);
    nn::Adam<float> adam(t1, {.lr = 1e-3});
    Tensor<float> grad;
    const Steps t1_steps = make_steps(t1, adam, loss, x, y, grad);
    std::printf(
        "T1-2D: width %lld, %lld^2 modes, %lld blocks, %lld^2, batch %lld, 1->1 channels, float32, %d threads, "
        "%lld parameters, %d rounds x median of %d runs\n",
        (long long)width, (long long)modes, (long long)layers, (long long)grid, (long long)batch, threads,
        (long long)t1.parameter_count(), rounds, runs);
    std::function<std::map<std::string, double>()> peer;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << width << " --modes " << modes << " --layers "
        << layers << " --runs " << runs << " --threads " << threads;
      peer = torch_round(bench::peer_script("t1_train_step.py"), a.str(), threads);
    }
    const RoundTimes t = alternate_rounds(
        rounds, smoke,
        [&] {
          return std::map<std::string, double>{{"train", median_ms(t1_steps.train, runs)},
                                               {"infer", median_ms(t1_steps.infer, runs)}};
        },
        peer);
    // Training: the products three times (forward, input and weight gradients) but no input gradient of
    // the lift; the DCT of the input and grid channels (no gradient needed) and the loss's DCT of the target.
    const T1Flops f = t1_forward_flops(c, batch);
    const GemmPeak peak = t.peak();
    Report report("t1_train_step", peak, "pytorch");
    report.add("train step", t, "train", "torch_train_ms", 3 * f.dense - f.lift + (double(c.in_channels) + 3) * f.dct);
    report.add("inference", t, "infer", "torch_infer_ms", f.dense + (double(c.in_channels) + 2) * f.dct);
    report.print();
    print_peak_memory(peak_rss_mb(), t.peer);

    if (!arg_flag(argc, argv, "-no_fno")) {
      operators::FnoConfig f;
      f.width = smoke ? 8 : 32;
      f.modes = {smoke ? 6 : 24};
      f.layers = smoke ? 2 : 6;
      f.append_grid = true;
      operators::Fno<float> fno(f);
      nn::Adam<float> fno_adam(fno, {.lr = 1e-3});
      const nn::LpLoss<float> fno_loss(2);
      Tensor<float> fno_grad;
      const Steps fno_steps = make_steps(fno, fno_adam, fno_loss, x, y, fno_grad);
      // T1 is timed again here, alternating with the FNO, for the ratio.
      const auto train = alternating_medians(t1_steps.train, fno_steps.train, runs);
      const auto infer = alternating_medians(t1_steps.infer, fno_steps.infer, runs);
      std::printf("neurops FNO-2D (width %lld, %lld modes, %lld layers, %lld parameters), same batch:\n",
                  (long long)f.width, (long long)f.modes[0], (long long)f.layers, (long long)fno.parameter_count());
      std::printf("  %-22s T1 %10.2f   FNO %10.2f   FNO / T1 %6.2fx   (alternating)\n", "train step [ms]", train.first,
                  train.second, train.second / train.first);
      std::printf("  %-22s T1 %10.2f   FNO %10.2f   FNO / T1 %6.2fx   (alternating)\n", "inference [ms]", infer.first,
                  infer.second, infer.second / infer.first);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "t1_train_step: error: %s\n", e.what());
    return 1;
  }
}
