// One Spectral-Refiner fine-tuning iteration (operators::SpectralRefiner: the fine-tuning output layer
// on the cached latent, the residual loss and its gradient, an Adam step with the notebook's two
// groups) through neurops and through PyTorch CPU (bench/sfno_finetune_step.py, our implementation of
// finetune.py / losses.py semantics), float64 as the notebook, same thread count, in alternating rounds
// (bench/roofline.hpp): medians, the ratio with its spread over the rounds, and neurops' GFLOP/s of
// the iteration's transforms against Eigen's float64 GEMM rate measured in the same run.
//
//   ./sfno_finetune_step                        # 256^2, 40 frames, modes (64, 64, 6), 2 threads
//   ./sfno_finetune_step -bench_runs 7 -bench_rounds 3 -bench_threads 1
//   ./sfno_finetune_step -bench_smoke           # seconds-long check (CTest label bench)
// Both sides use dt = frame_dt = 1e-2 in the residual (bench/ns_residual.py's constants); the cost
// does not depend on dt. Unless OMP_WAIT_POLICY is set, the program restarts itself with
// OMP_WAIT_POLICY=passive (see bench/navier_stokes_step.cpp).
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "neurops/neurops.hpp"
#include "neurops/operators/sfno.hpp"
#include "neurops/operators/sfno_finetune.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;

namespace {

/// The real FFTs of one fine-tuning iteration (2.5 N log2 N each, bench/roofline.hpp), which carry its
/// work: the output layer's 3-D transform of its input (the last input frame and the latent frames,
/// zero-padded to twice their length) and inverse to frames + 1 + that padding frames, the
/// transform of the output gradient in backward, and the residual loss's value and gradient at
/// `transforms_per_frame` 2-D transforms of n^2 points per output frame. The 1-channel mode mixing
/// and element-wise work are left out.
double finetune_flops(index_t n, index_t frames, index_t latent_steps, double transforms_per_frame) {
  const double plane = double(n) * double(n), pad = double(latent_steps + 1);
  const double out = plane * (double(frames + 1) + pad);
  return bench::real_fft_flops(plane * 2 * pad) + 2 * bench::real_fft_flops(out) +
         double(frames) * transforms_per_frame * bench::real_fft_flops(plane);
}

}  // namespace

int main(int argc, char** argv) {
  bench::use_passive_omp_wait(argv);
  try {
    PetscSession session(&argc, &argv);
    Options opt("Spectral-Refiner fine-tuning iteration benchmark", "bench_");
    const bool smoke = opt.flag("smoke", false, "32^2, 4 frames, modes (16, 16, 6), 2 runs (CI)");
    index_t n = opt.integer("n", 256, "fine grid points per side");
    index_t frames = opt.integer("frames", 40, "output frames");
    std::vector<std::int64_t> modes = opt.integers("modes", {64, 64, 6}, "modes of the fine-tuning layer");
    const int threads = int(opt.integer("threads", 2, "OpenMP threads (and torch.set_num_threads)", 1, 1024));
    int runs = int(opt.integer("runs", 3, "timed iterations per round (the median is reported)", 1, 1000));
    int rounds = int(opt.integer("rounds", 5, "alternating neurops/PyTorch rounds", 1, 1000));
    const std::string derivative =
        opt.choice("time_derivative", "reference_imex", {"reference_imex", "frames"}, "w_t of the residual loss");
    const bool peer = opt.flag("peer", true, "also run the PyTorch peer");
    const std::string script =
        opt.string("script", bench::peer_script("sfno_finetune_step.py").string(), "PyTorch peer script");
    if (opt.help_requested()) return 0;
    if (smoke) {
      n = 32;
      frames = 4;
      modes = {16, 16, 6};
      runs = 2;
      rounds = 1;
    }
    omp_set_num_threads(threads);
    operators::SfnoConfig c;  // the reference configuration: modes 12/12/5, width 20, 4 layers, 10 frames in
    c.output_steps = frames;
    operators::Sfno<double> model(c);
    Rng rng(0);
    const Tensor<double> x = Tensor<double>::randn({1, c.input_steps, n, n}, rng);
    operators::SpectralRefinerSettings s;
    s.modes.assign(modes.begin(), modes.end());
    s.residual.time_derivative =
        derivative == "frames" ? pde::NsTimeDerivative::frames : pde::NsTimeDerivative::reference_imex;
    s.residual.dt = s.residual.frame_dt = 1e-2;
    s.residual.threads = threads;
    operators::SpectralRefiner refiner(model, x, s);
    const std::vector<nn::ParamGroupSpec> groups{
        {"spectral_bias", [](const std::string& p) { return p.find("spectral_bias") != std::string::npos; }, 2e-1, {}},
        {"weight", [](const std::string& p) { return p.find("spectral_bias") == std::string::npos; }, 1e-4, {}}};
    nn::Adam<double> adam(refiner.layer(), {.lr = 1e-4}, groups);
    double loss = 0;
    auto iteration = [&] {
      adam.zero_grad();
      loss = refiner.loss_and_gradient();
      adam.step();
    };
    std::function<std::map<std::string, double>()> torch;
    if (peer) {
      const std::string args = "--n " + std::to_string(n) + " --frames " + std::to_string(frames) + " --modes " +
                               std::to_string(modes[0]) + " " + std::to_string(modes[1]) + " " +
                               std::to_string(modes[2]) + " --threads " + std::to_string(threads) + " --runs " +
                               std::to_string(runs) + " --time-derivative " + derivative;
      torch = bench::torch_round(script, args, threads);
    }
    const bench::RoundTimes t = bench::alternate_rounds(
        rounds, smoke,
        [&] {
          return std::map<std::string, double>{{"finetune", bench::median_ms(iteration, runs)}};
        },
        torch);
    const double rss = bench::peak_rss_mb();
    std::printf(
        "\nSpectral-Refiner fine-tuning iteration: %lld^2, %lld frames, modes (%lld, %lld, %lld), float64, "
        "%d threads, residual w_t %s, OMP_WAIT_POLICY=%s, %d rounds x median of %d runs\n",
        (long long)n, (long long)frames, (long long)modes[0], (long long)modes[1], (long long)modes[2], threads,
        derivative.c_str(), std::getenv("OMP_WAIT_POLICY"), rounds, runs);
    // The residual's 2-D transforms per frame for value + gradient, as pde/ns_residual.cpp computes
    // them: 33 with the reference's IMEX rate, 18 with differences between frames.
    const double per_frame = derivative == "frames" ? 18 : 33;
    bench::Report report("sfno_finetune_step", t.peak(), "pytorch");
    report.add("fine-tuning iteration", t, "finetune", "torch_finetune_ms",
               finetune_flops(n, frames, c.latent_steps, per_frame), true);
    report.print();
    bench::print_peak_memory(rss, t.peer);
    NEUROPS_CHECK(std::isfinite(loss), "sfno_finetune_step: the loss is not finite");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sfno_finetune_step: error: %s\n", e.what());
    return 1;
  }
}
