// dcdm_apply — one application of the DCDM network (N=64 variant, float32) at n^3, neurops against
// the same network in PyTorch CPU (bench/dcdm_apply.py) at the same thread count, and the 3x3x3
// 16->16 convolution alone against the float32 GEMM rate of Eigen measured in the same run.
//
// The convolution's useful work is 2 * 16 * 16 * 27 * n^3 flops; its rate divided by the GEMM rate
// (a 1024 x 1024 x 1024 Eigen product, the best dense kernel on this machine) says how close the
// direct kernel gets to the machine's float32 peak as a library reaches it.
//
//   OMP_NUM_THREADS=2 ./dcdm_apply                 # 64^3, 5 runs
//   OMP_NUM_THREADS=2 ./dcdm_apply -n 32 -runs 3 -bench_smoke
#include <omp.h>

#include <Eigen/Dense>
#include <cstdio>
#include <filesystem>

#include "neurops/nn/conv.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "torch_peer.hpp"

using namespace neurops;

namespace {

/// float32 GEMM rate in GFLOP/s (median of `runs` products of m x m matrices).
double gemm_gflops(int m, int runs) {
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, m), b = Eigen::MatrixXf::Random(m, m), c(m, m);
  const double ms = bench::median_ms([&] { c.noalias() = a * b; }, runs);
  return 2.0 * m * m * double(m) / (ms * 1e-3) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = bench::arg_int(argc, argv, "-n", 64);
  const int runs = bench::arg_int(argc, argv, "-runs", 5);
  const bool smoke = bench::arg_flag(argc, argv, "-bench_smoke");
  const int threads = omp_get_max_threads();
  try {
    operators::DcdmNet<float> net(operators::DcdmNetConfig::variant(64));
    net.eval();
    Rng rng(0);
    const auto x = Tensor<float>::randn({1, 1, n, n, n}, rng);
    const double apply_ms = bench::median_ms([&] { (void)net.forward(x); }, runs);

    nn::ConvOptions same;
    same.padding = {1};
    nn::Conv<float> conv(3, 16, 16, {3}, rng, same);
    conv.eval();
    const auto h = Tensor<float>::randn({1, 16, n, n, n}, rng);
    const double conv_ms = bench::median_ms([&] { (void)conv.forward(h); }, runs);
    const double conv_gflops = 2.0 * 16 * 16 * 27 * double(n) * n * n / (conv_ms * 1e-3) / 1e9;
    const double gemm = gemm_gflops(smoke ? 256 : 1024, runs);

    std::printf("dcdm_apply: %d^3, float32, %d threads, %lld parameters\n", n, threads,
                (long long)net.parameter_count());
    const auto script = bench::peer_script("dcdm_apply.py");
    auto torch = smoke ? std::map<std::string, double>{}
                       : bench::run_torch(script, std::to_string(n) + " " + std::to_string(runs), threads);
    std::printf("  times in ms (median of %d)\n", runs);
    bench::print_row("network application", apply_ms, torch, "torch_apply_ms");
    bench::print_row("conv 3x3x3 16->16", conv_ms, torch, "torch_conv_ms");
    std::printf("  conv rate %.1f GFLOP/s, Eigen float32 GEMM %.1f GFLOP/s: %.0f%% of GEMM\n", conv_gflops, gemm,
                100.0 * conv_gflops / gemm);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcdm_apply: error: %s\n", e.what());
    return 1;
  }
}
