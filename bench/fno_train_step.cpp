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
//   build/bench/fno_train_step -bench_smoke           # seconds-long CTest version (label bench)
//   build/bench/fno_train_step -no_torch          # neurops only
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/operators/fno.hpp"
#include "torch_peer.hpp"

using namespace neurops;

using namespace neurops::bench;

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
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
    Rng rng(0);
    const auto x = Tensor<float>::randn({batch, in_channels, grid, grid}, rng);
    const auto y = Tensor<float>::randn({batch, 1, grid, grid}, rng);
    const auto [ours_train, ours_infer] = time_field_model(fno, x, y, runs);
    const double ours_rss = peak_rss_mb();

    std::printf(
        "FNO-2D: width %lld, %lld modes, %lld layers, %lld^2, batch %lld, %lld->1 channels, float32, %d threads, "
        "%lld parameters, median of %d runs\n",
        (long long)width, (long long)modes, (long long)layers, (long long)grid, (long long)batch,
        (long long)in_channels, threads, (long long)fno.parameter_count(), runs);
    std::map<std::string, double> torch;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << width << " --modes " << modes << " --layers "
        << layers << " --in-channels " << in_channels << " --runs " << runs << " --threads " << threads;
      torch = run_torch(bench::peer_script("fno_train_step.py"), a.str(), threads);
    }
    print_row("train step [ms]", ours_train, torch, "torch_train_ms");
    print_row("inference [ms]", ours_infer, torch, "torch_infer_ms");
    if (torch.count("torch_peak_rss_mb"))
      std::printf("  %-22s neurops %10.1f   pytorch %10.1f\n", "peak memory [MB]", ours_rss,
                  torch["torch_peak_rss_mb"]);
    else
      std::printf("  %-22s neurops %10.1f\n", "peak memory [MB]", ours_rss);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fno_train_step: error: %s\n", e.what());
    return 1;
  }
}
