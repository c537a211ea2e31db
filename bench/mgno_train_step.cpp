// Benchmark: one MgNO training step (forward, relative-L2 loss, backward, Adam) and one inference pass
// through neurops and through the same model in PyTorch CPU (bench/mgno_train_step.py, Debian's
// /usr/bin/python3), float32, same thread count. Prints both medians, the ratio and peak memory.
//
// Default problem: width 24, 4 layers, 4 levels with pre-smoothing [1, 1, 1, 2], 64^2 grid, batch 16,
// one input channel (Darcy's coefficient), one output.
//
//   build/bench/mgno_train_step                    # 5 runs, 2 threads, with the PyTorch peer
//   build/bench/mgno_train_step -runs 10 -threads 2
//   build/bench/mgno_train_step -bench_smoke           # seconds-long CTest version (label bench)
//   build/bench/mgno_train_step -no_torch          # neurops only
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/operators/mgno.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

namespace {
std::vector<index_t> parse_list(const std::string& s) {
  std::vector<index_t> v;
  std::istringstream is(s);
  std::string item;
  while (std::getline(is, item, ',')) v.push_back(std::stoll(item));
  return v;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 5);
    const index_t batch = arg_int(argc, argv, "-batch", smoke ? 2 : 16);
    const index_t grid = arg_int(argc, argv, "-grid", smoke ? 32 : 64);
    const index_t width = arg_int(argc, argv, "-width", smoke ? 8 : 24);
    const index_t layers = arg_int(argc, argv, "-layers", smoke ? 2 : 4);
    const std::string pre = arg_string(argc, argv, "-pre", "1,1,1,2");
    const std::string post = arg_string(argc, argv, "-post", "0,0,0,0");
    omp_set_num_threads(threads);

    operators::MgnoConfig c;
    c.width = width;
    c.layers = layers;
    c.pre_smoothing = parse_list(pre);
    c.post_smoothing = parse_list(post);
    operators::Mgno<float> model(c);
    Rng rng(0);
    const auto x = Tensor<float>::randn({batch, 1, grid, grid}, rng);
    const auto y = Tensor<float>::randn({batch, 1, grid, grid}, rng);
    const auto [ours_train, ours_infer] = time_field_model(model, x, y, runs);
    const double ours_rss = peak_rss_mb();

    std::printf(
        "MgNO: width %lld, %lld layers, pre [%s] post [%s], %lld^2, batch %lld, float32, %d threads, "
        "%lld parameters, median of %d runs\n",
        (long long)width, (long long)layers, pre.c_str(), post.c_str(), (long long)grid, (long long)batch, threads,
        (long long)model.parameter_count(), runs);
    std::map<std::string, double> torch;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << width << " --layers " << layers << " --pre "
        << pre << " --post " << post << " --runs " << runs << " --threads " << threads;
      torch = run_torch(bench::peer_script("mgno_train_step.py"), a.str(), threads);
      if (torch.count("torch_parameters") && index_t(torch["torch_parameters"]) != model.parameter_count())
        std::printf("  WARNING: PyTorch model has %lld parameters\n", (long long)torch["torch_parameters"]);
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
    std::fprintf(stderr, "mgno_train_step: error: %s\n", e.what());
    return 1;
  }
}
