// Benchmark: one T1 training step (forward, RelativeL2DCT loss, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/t1_train_step.py, DCT through
// the FFT as the reference computes it, run with Debian's /usr/bin/python3), float32, same thread
// count; then the neurops FNO of the reference baseline (24 modes, width 32, 6 layers, grid appended)
// on the same batch, the model T1 is compared with per epoch. Prints medians, ratios and the peak
// resident memory of each process.
//
// Default problem (the T1 Navier-Stokes config): 24^2 modes, width 48, 8 blocks, 64^2, batch 64, 1 -> 1.
//
//   build/bench/t1_train_step                  # 10 runs, 2 threads, PyTorch peer and FNO
//   build/bench/t1_train_step -runs 5 -batch 32
//   build/bench/t1_train_step -bench_smoke     # seconds-long CTest version (label bench)
//   build/bench/t1_train_step -no_torch -no_fno
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/nn/dct_loss.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/t1.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

namespace {

/// Medians of a training step with `loss` and of an inference pass (as time_field_model, any loss).
StepTimes time_with_loss(nn::Model<float>& model, const nn::Loss<float>& loss, const Tensor<float>& x,
                         const Tensor<float>& y, int runs) {
  nn::Adam<float> adam(model, {.lr = 1e-3});
  Tensor<float> grad;
  auto train_step = [&] {
    model.train();
    const Tensor<float> out = model.forward(x);
    loss.evaluate(out, y, &grad);
    model.backward(grad);
    adam.step();
    adam.zero_grad();
  };
  auto infer = [&] {
    model.eval();
    (void)model.forward(x);
  };
  const double train_ms = median_ms(train_step, runs);
  return {train_ms, median_ms(infer, runs)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 10);
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
    const auto ours = time_with_loss(t1, loss, x, y, runs);
    const double ours_rss = peak_rss_mb();

    std::printf(
        "T1-2D: width %lld, %lld^2 modes, %lld blocks, %lld^2, batch %lld, 1->1 channels, float32, %d threads, "
        "%lld parameters, median of %d runs\n",
        (long long)width, (long long)modes, (long long)layers, (long long)grid, (long long)batch, threads,
        (long long)t1.parameter_count(), runs);
    std::map<std::string, double> torch;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << width << " --modes " << modes << " --layers "
        << layers << " --runs " << runs << " --threads " << threads;
      torch = run_torch(std::filesystem::path(__FILE__).replace_extension(".py"), a.str(), threads);
    }
    print_row("train step [ms]", ours.train_ms, torch, "torch_train_ms");
    print_row("inference [ms]", ours.infer_ms, torch, "torch_infer_ms");
    if (torch.count("torch_peak_rss_mb"))
      std::printf("  %-22s neurops %10.1f   pytorch %10.1f\n", "peak memory [MB]", ours_rss,
                  torch["torch_peak_rss_mb"]);
    else
      std::printf("  %-22s neurops %10.1f\n", "peak memory [MB]", ours_rss);

    if (!arg_flag(argc, argv, "-no_fno")) {
      operators::FnoConfig f;
      f.width = smoke ? 8 : 32;
      f.modes = {smoke ? 6 : 24};
      f.layers = smoke ? 2 : 6;
      f.append_grid = true;
      operators::Fno<float> fno(f);
      const auto theirs = time_with_loss(fno, nn::LpLoss<float>(2), x, y, runs);
      std::printf("neurops FNO-2D (width %lld, %lld modes, %lld layers, %lld parameters), same batch:\n",
                  (long long)f.width, (long long)f.modes[0], (long long)f.layers, (long long)fno.parameter_count());
      std::printf("  %-22s T1 %10.2f   FNO %10.2f   FNO / T1 %6.2fx\n", "train step [ms]", ours.train_ms,
                  theirs.train_ms, theirs.train_ms / ours.train_ms);
      std::printf("  %-22s T1 %10.2f   FNO %10.2f   FNO / T1 %6.2fx\n", "inference [ms]", ours.infer_ms,
                  theirs.infer_ms, theirs.infer_ms / ours.infer_ms);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "t1_train_step: error: %s\n", e.what());
    return 1;
  }
}
