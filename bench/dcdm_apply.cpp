// dcdm_apply — one application of the DCDM network (N=64 variant, float32) at n^3, neurops against
// the same network in PyTorch CPU (bench/dcdm_apply.py) at the same thread count, and the 3x3x3
// 16->16 convolution alone, in alternating rounds with ratios, spreads and neurops' GFLOP/s against
// the float32 GEMM rate of Eigen measured in the same run (bench/roofline.hpp).
//
// The convolution's useful work is 2 * 16 * 16 * 27 * n^3 flops; its rate divided by the GEMM rate
// (a 1024 x 1024 x 1024 Eigen product, the best dense kernel on this machine) says how close the
// direct kernel gets to the machine's float32 peak as a library reaches it.
//
//   OMP_NUM_THREADS=2 ./dcdm_apply                 # 64^3, 5 rounds x 5 runs
//   OMP_NUM_THREADS=2 ./dcdm_apply -n 32 -runs 3 -rounds 3
//   OMP_NUM_THREADS=2 ./dcdm_apply -n 16 -runs 1 -bench_smoke   # one round, no peer
#include <omp.h>

#include <cstdio>
#include <filesystem>

#include "neurops/nn/conv.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;

namespace {

/// One application of the network at n^3 (2 flops per multiply-add): the first 1 -> C convolution,
/// the C -> C 3x3x3 convolutions at full resolution (pre and post) and at half resolution (mid),
/// and the 1x1x1 head. At the N=64 variant: (8 * 13824 + 6 * 13824 / 8 + 864 + 32) n^3 = 121,856 n^3,
/// 31.9 GFLOP at 64^3 (a hand count; torch.profiler does not count conv3d).
double dcdm_flops(const operators::DcdmNetConfig& c, double n) {
  const double ch = double(c.channels), n3 = n * n * n, conv = 2 * 27 * ch * ch * n3;
  return conv * double(c.pre_convs + c.post_convs) + conv / 8 * double(c.mid_convs) + 2 * 27 * ch * n3 + 2 * ch * n3;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = bench::arg_int(argc, argv, "-n", 64);
  const int runs = bench::arg_int(argc, argv, "-runs", 5);
  const bool smoke = bench::arg_flag(argc, argv, "-bench_smoke");
  const int rounds = bench::arg_int(argc, argv, "-rounds", smoke ? 1 : 5);
  const int threads = omp_get_max_threads();
  try {
    const auto config = operators::DcdmNetConfig::variant(64);
    operators::DcdmNet<float> net(config);
    net.eval();
    Rng rng(0);
    const auto x = Tensor<float>::randn({1, 1, n, n, n}, rng);
    nn::ConvOptions same;
    same.padding = {1};
    nn::Conv<float> conv(3, 16, 16, {3}, rng, same);
    conv.eval();
    const auto h = Tensor<float>::randn({1, 16, n, n, n}, rng);

    std::printf("dcdm_apply: %d^3, float32, %d threads, %lld parameters, %d rounds x median of %d runs\n", n, threads,
                (long long)net.parameter_count(), rounds, runs);
    std::function<std::map<std::string, double>()> peer;
    if (!smoke)
      peer = bench::torch_round(bench::peer_script("dcdm_apply.py"), std::to_string(n) + " " + std::to_string(runs),
                                threads);
    const bench::RoundTimes t = bench::alternate_rounds(
        rounds, smoke,
        [&] {
          return std::map<std::string, double>{{"apply", bench::median_ms([&] { (void)net.forward(x); }, runs)},
                                               {"conv", bench::median_ms([&] { (void)conv.forward(h); }, runs)}};
        },
        peer);
    bench::Report report("dcdm_apply", t.peak(), "pytorch");
    report.add("network application", t, "apply", "torch_apply_ms", dcdm_flops(config, n));
    report.add("conv 3x3x3 16->16", t, "conv", "torch_conv_ms", 2.0 * 16 * 16 * 27 * double(n) * n * n);
    report.print();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcdm_apply: error: %s\n", e.what());
    return 1;
  }
}
