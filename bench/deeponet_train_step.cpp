// Benchmark: one DeepONet training step on triples (forward, MSE, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/deeponet_train_step.py,
// Debian's /usr/bin/python3), float32, same thread count; plus the Cartesian-product evaluation
// (shared query grid) that the triples form cannot exploit.
//
// Default problem (DeepXDE's antiderivative setup): [100, 40, 40] branch, [1, 40, 40] trunk, ReLU,
// batch 10,000 triples.
//
//   build/bench/deeponet_train_step                # 10 runs, 2 threads, with the PyTorch peer
//   build/bench/deeponet_train_step -batch 2000 -threads 2
//   build/bench/deeponet_train_step -bench_smoke       # seconds-long CTest version (label bench)
//   build/bench/deeponet_train_step -no_torch      # neurops only
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/operators/deeponet.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 10);
    const index_t batch = arg_int(argc, argv, "-batch", smoke ? 500 : 10000);
    const index_t sensors = arg_int(argc, argv, "-sensors", 100);
    const index_t width = arg_int(argc, argv, "-width", 40);
    omp_set_num_threads(threads);

    operators::DeepOnetConfig c;
    c.branch_layers = {sensors, width, width};
    c.trunk_layers = {1, width, width};
    operators::DeepOnet<float> model(c);
    nn::Adam<float> adam(model, {.lr = 1e-3});
    nn::MseLoss<float> loss;
    Rng rng(0);
    const auto u = Tensor<float>::randn({batch, sensors}, rng);
    Tensor<float> y({batch, 1});
    for (index_t i = 0; i < batch; ++i) y[i] = float(rng.uniform());
    const auto s = Tensor<float>::randn({batch, 1}, rng);
    Tensor<float> grad;
    auto train_step = [&] {
      model.train();
      const Tensor<float> out = model.forward({u, y});
      loss.evaluate(out, s, &grad);
      model.backward(grad);
      adam.step();
      adam.zero_grad();
    };
    auto infer = [&] {
      model.eval();
      (void)model.forward({u, y});
    };
    // The same number of outputs in the Cartesian form: batch/100 functions x 100 shared points.
    const index_t functions = std::max<index_t>(1, batch / 100);
    const Tensor<float> u_functions(u.slice(0, functions));
    Tensor<float> grid(y.slice(0, 100));
    grid.reshape({1, 100, 1});  // query points shared by every function
    auto cartesian = [&] {
      model.eval();
      (void)model.forward({u_functions, grid});
    };
    const double ours_train = median_ms(train_step, runs);
    const double ours_infer = median_ms(infer, runs);
    const double ours_cart = median_ms(cartesian, runs);
    const double ours_rss = peak_rss_mb();

    std::printf(
        "DeepONet: [%lld, %lld, %lld] branch, [1, %lld, %lld] trunk, ReLU, batch %lld triples, float32, %d threads, "
        "%lld parameters, median of %d runs\n",
        (long long)sensors, (long long)width, (long long)width, (long long)width, (long long)width, (long long)batch,
        threads, (long long)model.parameter_count(), runs);
    std::map<std::string, double> torch;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --sensors " << sensors << " --width " << width << " --runs " << runs
        << " --threads " << threads;
      torch = run_torch(bench::peer_script("deeponet_train_step.py"), a.str(), threads);
    }
    print_row("train step [ms]", ours_train, torch, "torch_train_ms");
    print_row("inference [ms]", ours_infer, torch, "torch_infer_ms");
    std::printf("  %-22s neurops %10.2f   (%lld functions x 100 shared points)\n", "Cartesian infer. [ms]", ours_cart,
                (long long)functions);
    if (torch.count("torch_peak_rss_mb"))
      std::printf("  %-22s neurops %10.1f   pytorch %10.1f\n", "peak memory [MB]", ours_rss,
                  torch["torch_peak_rss_mb"]);
    else
      std::printf("  %-22s neurops %10.1f\n", "peak memory [MB]", ours_rss);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deeponet_train_step: error: %s\n", e.what());
    return 1;
  }
}
