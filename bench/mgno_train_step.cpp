// Benchmark: one MgNO training step (forward, relative-L2 loss, backward, Adam) and one inference pass
// through neurops and through the same model in PyTorch CPU (bench/mgno_train_step.py, Debian's
// /usr/bin/python3), float32, same thread count, in alternating rounds (bench/roofline.hpp). Prints
// both medians, the ratio with its spread, neurops' GFLOP/s against Eigen's float32 GEMM rate, and
// peak memory.
//
// Default problem: width 24, 4 layers, 4 levels with pre-smoothing [1, 1, 1, 2], 64^2 grid, batch 16,
// one input channel (Darcy's coefficient), one output.
//
//   build/bench/mgno_train_step                    # 5 rounds x 2 runs, 2 threads, with the PyTorch peer
//   build/bench/mgno_train_step -rounds 9 -runs 5 -threads 2
//   build/bench/mgno_train_step -bench_smoke           # seconds-long CTest version (label bench)
//   build/bench/mgno_train_step -no_torch          # neurops only
#include <omp.h>

#include <cstdio>
#include <sstream>

#include "neurops/operators/mgno.hpp"
#include "roofline.hpp"
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

/// One forward pass of the MgNO on `batch` fields of grid^2 points, at 2 flops per multiply-add of
/// its convolutions (bench/roofline.hpp): per layer, level l (grid / 2^l points per axis) runs R and
/// Pi (3x3, stride 2) into it when l > 0, one S (f -> u channels) per pre-smoothing step and one A
/// (u -> f) per step after level 0's first; each transposed 4x4 stride-2 P scatters 16 taps from
/// every coarse point; post-smoothing steps add an A and an S; then the 1x1 path and, once, the head.
/// Cross-check at the defaults: torch.profiler (with_flops) counts 5.2815 GFLOP of conv2d in one
/// PyTorch forward pass; this count without the transposed convolutions (which the profiler does not
/// count) gives the same 5.2815 GFLOP, and 6.8669 GFLOP with them.
double mgno_forward_flops(const operators::MgnoConfig& c, index_t batch, index_t grid) {
  const double u = double(c.width), b = double(batch);
  double flops = 0;
  for (index_t layer = 0; layer < c.layers; ++layer) {
    const double f = layer == 0 ? double(c.in_channels) : u;
    for (index_t l = 0; l < c.levels(); ++l) {
      const double points = b * std::pow(double(grid) / double(index_t(1) << l), 2);
      const double pre = double(c.pre_smoothing[l]), post = double(c.post_smoothing[l]);
      double per_point = (pre + post) * 9 * f * u + (pre + post - (l == 0 ? 1 : 0)) * 9 * u * f;
      if (l > 0) per_point += 9 * f * f + 9 * u * u + 16 * u * u;  // R, Pi into l; P out of l
      flops += 2 * points * per_point;
    }
    flops += 2 * b * double(grid) * double(grid) * f * u;  // 1x1 path
  }
  return flops + 2 * b * double(grid) * double(grid) * u * double(c.out_channels);
}

/// The products of the forward pass that read the model's input directly (level 0's first S, the
/// first restriction R and the first 1x1 path): a training step needs no gradient through them to
/// the input, which neurops returns but PyTorch (input without requires_grad) does not compute.
double mgno_input_products(const operators::MgnoConfig& c, index_t batch, index_t grid) {
  const double points = double(batch) * double(grid) * double(grid), in = double(c.in_channels);
  const double u = double(c.width);
  return 2 * points * (9 * in * u + in * u) + (c.levels() > 1 ? 2 * points / 4 * 9 * in * in : 0);
}
}  // namespace

int main(int argc, char** argv) {
  try {
    const bool smoke = arg_flag(argc, argv, "-bench_smoke");
    const int threads = arg_int(argc, argv, "-threads", 2);
    const int runs = arg_int(argc, argv, "-runs", 2);
    const int rounds = arg_int(argc, argv, "-rounds", smoke ? 1 : 5);
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
    std::printf(
        "MgNO: width %lld, %lld layers, pre [%s] post [%s], %lld^2, batch %lld, float32, %d threads, "
        "%lld parameters, %d rounds x median of %d runs\n",
        (long long)width, (long long)layers, pre.c_str(), post.c_str(), (long long)grid, (long long)batch, threads,
        (long long)model.parameter_count(), rounds, runs);
    std::function<std::map<std::string, double>()> peer;
    if (!arg_flag(argc, argv, "-no_torch")) {
      std::ostringstream a;
      a << "--batch " << batch << " --grid " << grid << " --width " << width << " --layers " << layers << " --pre "
        << pre << " --post " << post << " --runs " << runs << " --threads " << threads;
      peer = torch_round(bench::peer_script("mgno_train_step.py"), a.str(), threads);
    }
    const RoundTimes t = alternate_rounds(
        rounds, smoke,
        [&] {
          const StepTimes s = time_field_model(model, x, y, runs);
          return std::map<std::string, double>{{"train", s.train_ms}, {"infer", s.infer_ms}};
        },
        peer);
    if (t.peer.count("torch_parameters") && index_t(t.peer.at("torch_parameters")[0]) != model.parameter_count())
      std::printf("  WARNING: PyTorch model has %lld parameters\n", (long long)t.peer.at("torch_parameters")[0]);
    // Training: every convolution runs three times (forward, input and weight gradients), less the
    // input gradients of those that read the model's input.
    const double forward = mgno_forward_flops(c, batch, grid);
    const GemmPeak peak = t.peak();
    Report report("mgno_train_step", peak, "pytorch");
    report.add("train step", t, "train", "torch_train_ms", 3 * forward - mgno_input_products(c, batch, grid));
    report.add("inference", t, "infer", "torch_infer_ms", forward);
    report.print();
    print_peak_memory(peak_rss_mb(), t.peer);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mgno_train_step: error: %s\n", e.what());
    return 1;
  }
}
