// Benchmark: one DeepONet training step on triples (forward, MSE, backward, Adam) and one inference
// pass through neurops and through the same model in PyTorch CPU (bench/deeponet_train_step.py,
// Debian's /usr/bin/python3), float32, same thread count; plus the Cartesian-product evaluation
// (shared query grid) that the triples form cannot exploit. Alternating rounds, ratios with their
// spread and neurops' GFLOP/s against Eigen's float32 GEMM rate as in bench/roofline.hpp.
//
// Default problem (DeepXDE's antiderivative setup): [100, 40, 40] branch, [1, 40, 40] trunk, ReLU,
// batch 10,000 triples.
//
//   build/bench/deeponet_train_step                # 5 rounds x 5 runs, 2 threads, with the PyTorch peer
//   build/bench/deeponet_train_step -batch 2000 -threads 2
//   build/bench/deeponet_train_step -bench_smoke       # seconds-long CTest version (label bench)
//   build/bench/deeponet_train_step -no_torch      # neurops only
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/operators/deeponet.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::bench;

namespace {

/// 2 flops per multiply-add of the two-layer MLPs' products and of the branch-trunk dot products,
/// for `functions` branch inputs and `points` trunk inputs and `outputs` dot products (bench/roofline.hpp).
/// Hand check at the defaults (10,000 triples, [100, 40, 40], [1, 40, 40]): 2 * 10^4 * (4000 + 1600
/// + 40 + 1600 + 40) = 0.1456 GFLOP forward; the step adds the weight gradients (0.1456) and the input
/// gradients of the second layers and the dot product (2 * 10^4 * 3280 = 0.0656): 0.357 GFLOP.
/// Independent count: torch.profiler (with_flops) on the peer's forward pass gives addmm 0.1448 +
/// bmm 0.0008 = 0.1456 GFLOP.
double deeponet_flops(index_t sensors, index_t width, double functions, double points, double outputs) {
  const double w = double(width);
  return 2 * functions * (double(sensors) * w + w * w) + 2 * points * (w + w * w) + 2 * outputs * w;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", smoke ? 2 : 5);
    const int rounds = arg_int(argc, argv, "-rounds", smoke ? 1 : 5);
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
    std::printf(
        "DeepONet: [%lld, %lld, %lld] branch, [1, %lld, %lld] trunk, ReLU, batch %lld triples, float32, %d threads, "
        "%lld parameters, %d rounds x median of %d runs\n",
        (long long)sensors, (long long)width, (long long)width, (long long)width, (long long)width, (long long)batch,
        threads, (long long)model.parameter_count(), rounds, runs);
    std::function<std::map<std::string, double>()> peer;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --sensors " << sensors << " --width " << width << " --runs " << runs
        << " --threads " << threads;
      peer = torch_round(bench::peer_script("deeponet_train_step.py"), a.str(), threads);
    }
    const RoundTimes t = alternate_rounds(
        rounds, smoke,
        [&] {
          return std::map<std::string, double>{{"train", median_ms(train_step, runs)},
                                               {"infer", median_ms(infer, runs)},
                                               {"cartesian", median_ms(cartesian, runs)}};
        },
        peer);
    // Training: forward, the weight gradients (the same products again), and the input gradients of
    // every product but the first layers', which read the model's inputs.
    const double b = double(batch), w = double(width);
    const double forward = deeponet_flops(sensors, width, b, b, b);
    const double input_gradients = 2 * b * (w * w + w * w + 2 * w);
    const GemmPeak peak = t.peak();
    Report report("deeponet_train_step", peak, "pytorch");
    report.add("train step", t, "train", "torch_train_ms", 2 * forward + input_gradients);
    report.add("inference", t, "infer", "torch_infer_ms", forward);
    report.add("Cartesian inference", t, "cartesian", "",
               deeponet_flops(sensors, width, double(functions), 100, double(functions) * 100));
    report.print();
    std::printf("  (Cartesian inference: %lld functions x 100 shared points, neurops only)\n", (long long)functions);
    print_peak_memory(peak_rss_mb(), t.peer);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deeponet_train_step: error: %s\n", e.what());
    return 1;
  }
}
