// predict_latency — batch-1 latency of trained operators as a simulation code calls them: one field
// per call, `predict` of a model saved with save_model and read back with load_model (Gaussian
// normalizers included), against the same architecture in PyTorch (bench/predict_latency.py) under
// torch.inference_mode() with the same normalization, at the same thread count, float32.
//
// Rows: FNO-2D and MgNO (the default configurations, one input channel) on an n x n field; DeepONet
// (branch 100-40-40, trunk 2-40-40) on one function evaluated at the n x n grid points; and the DCDM
// network (N=64 variant) at 64^3, which is not a load_model type and is read through its own loader
// (operators::load_dcdm_net) and applied without normalizers. Rounds alternate neurops and PyTorch
// (bench/roofline.hpp); each side reports the median of `runs` calls after a warm-up call.
//
//   OMP_NUM_THREADS=2 ./predict_latency                   # 64^2 and 128^2 (64^3 DCDM), 5 rounds x 20 runs
//   OMP_NUM_THREADS=1 ./predict_latency -grids 64 -rounds 3
//   OMP_NUM_THREADS=2 ./predict_latency -bench_smoke      # 32^2 and 8^3, one round, no peer
//   OMP_NUM_THREADS=2 ./predict_latency -grids 64 -models fno,mgno -rounds 1 -runs 200 -no_peer   # to profile
#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "neurops/nn/checkpoint.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/mgno.hpp"
#include "neurops/operators/model_io.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;
namespace fs = std::filesystem;

namespace {

/// One forward pass of the FNO at batch 1 on n x n: lifting, per layer the 1x1 path, the kept-mode
/// mixing (complex, 8 flops per multiply-add) and one real FFT each way of every channel, projection.
double fno_flops(const operators::FnoConfig& c, double n) {
  const double points = n * n, w = double(c.width), p = double(c.projection_channels);
  const double pointwise = double(c.in_channels) * w + double(c.layers) * w * w + w * p + p * double(c.out_channels);
  const double kept = 2.0 * double(c.modes[0]) * double(c.modes[0]);
  return 2 * points * pointwise + double(c.layers) * (8 * w * w * kept + 2 * w * bench::real_fft_flops(points));
}

/// MgNO's convolutions at batch 1 (the count of bench/mgno_train_step.cpp: S, A, R, Pi and P per
/// level, the 1x1 path per layer, the head).
double mgno_flops(const operators::MgnoConfig& c, double n) {
  const double u = double(c.width);
  double flops = 0;
  for (index_t layer = 0; layer < c.layers; ++layer) {
    const double f = layer == 0 ? double(c.in_channels) : u;
    for (index_t l = 0; l < c.levels(); ++l) {
      const double points = std::pow(n / double(index_t(1) << l), 2);
      const double pre = double(c.pre_smoothing[l]), post = double(c.post_smoothing[l]);
      double per_point = (pre + post) * 9 * f * u + (pre + post - (l == 0 ? 1 : 0)) * 9 * u * f;
      if (l > 0) per_point += 9 * f * f + 9 * u * u + 16 * u * u;
      flops += 2 * points * per_point;
    }
    flops += 2 * n * n * f * u;
  }
  return flops + 2 * n * n * u * double(c.out_channels);
}

/// DeepONet on one function at P points: the branch MLP once, the trunk MLP at every point, the
/// P x p by p product.
double deeponet_flops(const operators::DeepOnetConfig& c, double points) {
  auto mlp = [](const std::vector<index_t>& w) {
    double f = 0;
    for (std::size_t i = 0; i + 1 < w.size(); ++i) f += 2.0 * double(w[i]) * double(w[i + 1]);
    return f;
  };
  return mlp(c.branch_layers) + points * (mlp(c.trunk_layers) + 2.0 * double(c.basis()));
}

/// The DCDM network's convolutions at n^3 (the count of bench/dcdm_apply.cpp).
double dcdm_flops(const operators::DcdmNetConfig& c, double n) {
  const double ch = double(c.channels), n3 = n * n * n, conv = 2 * 27 * ch * ch * n3;
  return conv * double(c.pre_convs + c.post_convs) + conv / 8 * double(c.mid_convs) + 2 * 27 * ch * n3 + 2 * ch * n3;
}

/// Saves `model` with Gaussian normalizers fitted on random inputs and outputs of the given shapes
/// (pointwise for fields, as the drivers fit them) and loads it back as a user would.
TrainedModel<float> saved_and_loaded(nn::Model<float>& model, const Shape& in, const Shape& out, const fs::path& path) {
  Rng rng(11);
  const auto xs = Tensor<float>::randn(in.with(0, 8), rng), ys = Tensor<float>::randn(out.with(0, 8), rng);
  save_model(path, model, nn::Normalizer<float>::unit_gaussian(xs.view(), false),
             nn::Normalizer<float>::unit_gaussian(ys.view(), false));
  return load_model<float>(path);
}

/// A batch-1 call and its FLOP count, timed under `key`.
struct Case {
  std::string key, name;
  double flops;
  std::function<void()> call;
};

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = bench::arg_flag(argc, argv, "-bench_smoke");
  const int runs = bench::arg_int(argc, argv, "-runs", smoke ? 2 : 20);
  const int rounds = bench::arg_int(argc, argv, "-rounds", smoke ? 1 : 5);
  const std::string grids_arg = bench::arg_string(argc, argv, "-grids", smoke ? "32" : "64,128");
  const int cube = bench::arg_int(argc, argv, "-dcdm_n", smoke ? 8 : 64);
  const std::string models_arg = bench::arg_string(argc, argv, "-models", "fno,mgno,deeponet,dcdm");
  const bool no_peer = smoke || bench::arg_flag(argc, argv, "-no_peer");
  const int threads = omp_get_max_threads();
  const fs::path dir = fs::temp_directory_path() / ("neurops_predict_latency_" + std::to_string(getpid()));
  try {
    fs::create_directories(dir);
    std::vector<index_t> grids;
    std::stringstream ss(grids_arg);
    for (std::string g; std::getline(ss, g, ',');) grids.push_back(std::stoll(g));

    Rng rng(0);
    const operators::FnoConfig fno_config;
    const operators::MgnoConfig mgno_config;
    operators::DeepOnetConfig deeponet_config;
    deeponet_config.trunk_layers = {2, 40, 40};
    operators::Fno<float> fno(fno_config);
    operators::Mgno<float> mgno(mgno_config);
    operators::DeepOnet<float> deeponet(deeponet_config);

    // Models, inputs and calls live as long as the cases that time them.
    std::vector<std::unique_ptr<TrainedModel<float>>> models;
    std::vector<std::unique_ptr<Tensor<float>>> inputs;
    auto keep = [&](Tensor<float> t) -> const Tensor<float>& {
      inputs.push_back(std::make_unique<Tensor<float>>(std::move(t)));
      return *inputs.back();
    };
    std::vector<Case> cases;
    const auto wanted = [&](const std::string& model) {
      return ("," + models_arg + ",").find("," + model + ",") != std::string::npos;
    };
    for (const index_t n : grids) {
      const std::string at = " " + std::to_string(n) + "^2";
      const Shape field{1, 1, n, n};
      models.push_back(std::make_unique<TrainedModel<float>>(
          saved_and_loaded(fno, field, field, dir / ("fno_" + std::to_string(n) + ".h5"))));
      TrainedModel<float>* m = models.back().get();
      const Tensor<float>* x = &keep(Tensor<float>::randn(field, rng));
      cases.push_back(
          {"fno_" + std::to_string(n), "FNO" + at, fno_flops(fno_config, double(n)), [m, x] { (void)m->predict(*x); }});

      models.push_back(std::make_unique<TrainedModel<float>>(
          saved_and_loaded(mgno, field, field, dir / ("mgno_" + std::to_string(n) + ".h5"))));
      m = models.back().get();
      cases.push_back({"mgno_" + std::to_string(n), "MgNO" + at, mgno_flops(mgno_config, double(n)),
                       [m, x] { (void)m->predict(*x); }});

      const index_t points = n * n;
      models.push_back(std::make_unique<TrainedModel<float>>(saved_and_loaded(
          deeponet, {1, deeponet_config.sensors()}, {1, points}, dir / ("deeponet_" + std::to_string(n) + ".h5"))));
      m = models.back().get();
      const Tensor<float>* u = &keep(Tensor<float>::randn({1, deeponet_config.sensors()}, rng));
      const Tensor<float>* y = &keep(Tensor<float>::rand({1, points, 2}, rng));
      cases.push_back({"deeponet_" + std::to_string(n), "DeepONet 1 function" + at,
                       deeponet_flops(deeponet_config, double(points)), [m, u, y] {
                         (void)m->predict({*u, *y});
                       }});
    }
    const auto dcdm_config = operators::DcdmNetConfig::variant(64);
    {
      operators::DcdmNet<float> net(dcdm_config);
      nn::CheckpointContents<float> contents;
      contents.model = &net;
      nn::save_checkpoint(dir / "dcdm.h5", contents);
    }
    auto dcdm = operators::load_dcdm_net<float>((dir / "dcdm.h5").string());
    dcdm.eval();
    const Tensor<float>* b = &keep(Tensor<float>::randn({1, 1, cube, cube, cube}, rng));
    cases.push_back({"dcdm_" + std::to_string(cube), "DCDM network " + std::to_string(cube) + "^3",
                     dcdm_flops(dcdm_config, double(cube)), [&dcdm, b] { (void)dcdm.forward(*b); }});

    std::erase_if(cases, [&](const Case& c) { return !wanted(c.key.substr(0, c.key.find('_'))); });
    std::printf("predict_latency: batch 1, float32, %d threads, grids %s, DCDM %d^3, %d rounds x median of %d runs\n",
                threads, grids_arg.c_str(), cube, rounds, runs);
    std::function<std::map<std::string, double>()> peer;
    if (!no_peer)
      peer = bench::torch_round(bench::peer_script("predict_latency.py"),
                                grids_arg + " " + std::to_string(cube) + " " + std::to_string(runs), threads);
    const bench::RoundTimes t = bench::alternate_rounds(
        rounds, smoke,
        [&] {
          std::map<std::string, double> ms;
          for (const auto& c : cases) ms[c.key] = bench::median_ms(c.call, runs);
          return ms;
        },
        peer);
    bench::Report report("predict_latency", t.peak(), "pytorch");
    for (const auto& c : cases) report.add(c.name, t, c.key, "torch_" + c.key + "_ms", c.flops);
    report.print();
    fs::remove_all(dir);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict_latency: error: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
}
