// conv_layers — forward + backward of 3x3 convolutions through neurops and PyTorch CPU, side by side.
//
// What it measures: one training step of a convolution (forward, then backward giving the input,
// weight and bias gradients) at the same thread count and dtype in both libraries, in alternating
// rounds (neurops, PyTorch, neurops, ...) so that both see the same background load; the table gives
// medians over all runs and the best run, then (bench/roofline.hpp) the ratio of each round's medians
// with its median and spread over the rounds, and neurops' GFLOP/s against Eigen's GEMM rate:
//   conv2d: batch 16, 24 -> 24 channels, 64^2 grid, 3x3 kernel, zero padding 1
//   conv3d: batch 1, 16 -> 16 channels, 64^3 grid, 3x3x3 kernel, zero padding 1
// The PyTorch peer is bench/conv_layers.py, run with Debian's /usr/bin/python3 (python3-torch).
// Before timing, both libraries also run small layers (convolutions in every padding mode and with
// stride 2, transposed convolutions, up-sampling, pooling, LayerNorm, GroupNorm, Linear, GELU) on the
// same data, exchanged through HDF5; the largest relative differences of y, dx and the parameter
// gradients are printed, and the program fails if they exceed float precision.
//
// Sample runs:
//   ./conv_layers                                  # full sizes, 2 threads, float32, 5 rounds x 5 runs
//   ./conv_layers -bench_rounds 5 -bench_threads 1
//   ./conv_layers -bench_dtype double
//   ./conv_layers -bench_smoke                     # seconds-long version (a CTest with label bench)
//   ./conv_layers -bench_torch false               # neurops only
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "neurops/core/options.hpp"
#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/conv_transpose.hpp"
#include "neurops/nn/linear.hpp"
#include "neurops/nn/norm.hpp"
#include "neurops/nn/pooling.hpp"
#include "roofline.hpp"
#include "torch_peer.hpp"

using namespace neurops;
using namespace neurops::nn;
namespace fs = std::filesystem;

namespace {

struct Case {
  std::string name;
  int dims;
  index_t batch, channels, extent;
};

std::vector<Case> timing_cases(bool smoke) {
  if (smoke) return {{"conv2d", 2, 2, 8, 16}, {"conv3d", 3, 1, 4, 8}};
  return {{"conv2d", 2, 16, 24, 64}, {"conv3d", 3, 1, 16, 64}};
}

Shape grid_shape(const Case& c) {
  std::vector<index_t> s = {c.batch, c.channels};
  for (int a = 0; a < c.dims; ++a) s.push_back(c.extent);
  return Shape(s);
}

struct Runs {
  std::vector<double> forward, backward;  // milliseconds, one entry per run
  std::vector<double> total() const {
    std::vector<double> t;
    for (std::size_t i = 0; i < forward.size(); ++i) t.push_back(forward[i] + backward[i]);
    return t;
  }
};

template <class T>
void time_neurops(const Case& c, int runs, Runs& out) {
  Rng rng(1);
  Conv<T> conv(c.dims, c.channels, c.channels, {3}, rng, {.padding = {1}});
  const auto x = Tensor<T>::randn(grid_shape(c), rng);
  const auto dy = Tensor<T>::randn(grid_shape(c), rng);
  for (int r = 0; r <= runs; ++r) {  // the first run warms up (workspaces, pages)
    conv.zero_grad();
    Timer t;
    const auto y = conv.forward(x);
    const double tf = t.seconds();
    const auto dx = conv.backward(dy);
    const double tt = t.seconds();
    if (r > 0) {
      out.forward.push_back(tf * 1e3);
      out.backward.push_back((tt - tf) * 1e3);
    }
  }
}

/// 2 flops per multiply-add of the 3^d-tap convolution (bench/roofline.hpp); forward + backward runs
/// it three times (output, input gradient, weight gradient).
double conv_forward_flops(const Case& c) {
  return 2 * double(c.batch) * double(c.channels) * double(c.channels) * std::pow(3.0, c.dims) *
         std::pow(double(c.extent), c.dims);
}

/// Medians of each round's `runs` consecutive entries of `v`.
std::vector<double> round_medians(const std::vector<double>& v, int runs) {
  std::vector<double> out;
  for (std::size_t i = 0; i + std::size_t(runs) <= v.size(); i += std::size_t(runs))
    out.push_back(median(std::vector<double>(v.begin() + std::ptrdiff_t(i), v.begin() + std::ptrdiff_t(i + runs))));
  return out;
}

std::vector<double> parse_list(const std::string& s) {
  std::vector<double> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stod(item));
  return v;
}

// Small layers on the same data in both libraries (convolutions in every padding mode, transposed
// convolutions, resampling, normalisation, linear, activations), exchanged through HDF5.
struct CheckCase {
  std::string name, layer;  // the layer kind tells the peer which torch function to apply
  std::map<std::string, std::int64_t> ints;
  std::string text;  // padding mode, upsampling mode or activation
  Shape input;
};

template <class T>
std::unique_ptr<Module<T>> make_check_layer(const CheckCase& c, Rng& rng) {
  const int dims = c.input.rank() - 2;
  auto at = [&](const char* k) { return c.ints.at(k); };
  if (c.layer == "conv")
    return std::make_unique<Conv<T>>(
        dims, c.input[1], at("out_channels"), std::vector<index_t>{at("kernel")}, rng,
        ConvOptions{{at("stride")}, {at("padding")}, padding_mode_from_string(c.text), true});
  if (c.layer == "conv_transpose")
    return std::make_unique<ConvTranspose<T>>(
        dims, c.input[1], at("out_channels"), std::vector<index_t>{at("kernel")}, rng,
        ConvTransposeOptions{{at("stride")}, {at("padding")}, {at("output_padding")}, true});
  if (c.layer == "upsample")
    return std::make_unique<Upsample<T>>(dims, at("factor"),
                                         c.text == "nearest" ? UpsampleMode::Nearest : UpsampleMode::Linear);
  if (c.layer == "avgpool") return std::make_unique<AvgPool<T>>(dims, at("kernel"));
  auto randomize = [&](Module<T>& m) {  // affine parameters away from their (1, 0) initial values
    for (auto& p : m.named_parameters()) p.param->value = Tensor<T>::randn(p.param->value.shape(), rng, 1.0, 0.5);
  };
  if (c.layer == "layernorm_channels") {
    auto m = std::make_unique<LayerNorm<T>>(LayerNorm<T>::over_channels(c.input[1]));
    randomize(*m);
    return m;
  }
  if (c.layer == "layernorm_trailing") {
    auto m = std::make_unique<LayerNorm<T>>(LayerNorm<T>::over_trailing(c.input.tail(1)));
    randomize(*m);
    return m;
  }
  if (c.layer == "groupnorm") {
    auto m = std::make_unique<GroupNorm<T>>(at("groups"), c.input[1]);
    randomize(*m);
    return m;
  }
  if (c.layer == "linear") return std::make_unique<Linear<T>>(c.input.dim(-1), at("out_features"), rng);
  if (c.layer == "activation") return std::make_unique<Activation<T>>(activation_from_string(c.text));
  NEUROPS_THROW("unknown check layer " << c.layer);
}

std::vector<CheckCase> check_cases() {
  std::vector<CheckCase> v;
  for (auto mode : {"zeros", "circular", "reflect", "replicate"})
    v.push_back({std::string("conv2d_") + mode,
                 "conv",
                 {{"out_channels", 5}, {"kernel", 3}, {"stride", 1}, {"padding", 1}},
                 mode,
                 Shape({2, 3, 9, 10})});
  v.push_back({"conv2d_k4_s2_circular",
               "conv",
               {{"out_channels", 4}, {"kernel", 4}, {"stride", 2}, {"padding", 2}},
               "circular",
               Shape({2, 3, 9, 8})});
  v.push_back({"conv3d_zeros",
               "conv",
               {{"out_channels", 4}, {"kernel", 3}, {"stride", 1}, {"padding", 1}},
               "zeros",
               Shape({2, 2, 6, 7, 5})});
  v.push_back({"conv3d_s2_replicate",
               "conv",
               {{"out_channels", 3}, {"kernel", 3}, {"stride", 2}, {"padding", 1}},
               "replicate",
               Shape({1, 2, 7, 6, 5})});
  v.push_back({"conv1d_reflect",
               "conv",
               {{"out_channels", 2}, {"kernel", 5}, {"stride", 1}, {"padding", 2}},
               "reflect",
               Shape({3, 4, 11})});
  v.push_back({"convT2d_k4_s2_p1",
               "conv_transpose",
               {{"out_channels", 3}, {"kernel", 4}, {"stride", 2}, {"padding", 1}, {"output_padding", 0}},
               "",
               Shape({2, 4, 5, 6})});
  v.push_back({"convT3d_k3_s2_p1_op1",
               "conv_transpose",
               {{"out_channels", 2}, {"kernel", 3}, {"stride", 2}, {"padding", 1}, {"output_padding", 1}},
               "",
               Shape({1, 3, 3, 4, 3})});
  v.push_back({"upsample2d_bilinear", "upsample", {{"factor", 2}}, "linear", Shape({2, 3, 5, 4})});
  v.push_back({"upsample3d_trilinear", "upsample", {{"factor", 3}}, "linear", Shape({1, 2, 3, 4, 2})});
  v.push_back({"upsample2d_nearest", "upsample", {{"factor", 2}}, "nearest", Shape({2, 2, 3, 5})});
  v.push_back({"avgpool3d", "avgpool", {{"kernel", 2}}, "", Shape({2, 2, 4, 6, 5})});
  v.push_back({"layernorm_channels", "layernorm_channels", {}, "", Shape({2, 6, 4, 5})});
  v.push_back({"layernorm_trailing", "layernorm_trailing", {}, "", Shape({3, 4, 5, 6})});
  v.push_back({"groupnorm", "groupnorm", {{"groups", 3}}, "", Shape({2, 6, 4, 3})});
  v.push_back({"linear", "linear", {{"out_features", 7}}, "", Shape({2, 3, 5})});
  v.push_back({"gelu", "activation", {}, "gelu", Shape({4, 9})});
  return v;
}

struct CheckResults {
  std::map<std::string, std::map<std::string, Tensor<double>>> ours;
};

template <class T>
CheckResults write_check_inputs(const fs::path& path) {
  CheckResults res;
  auto file = io::H5File::create(path);
  Rng rng(7);
  for (const auto& c : check_cases()) {
    auto layer = make_check_layer<T>(c, rng);
    const auto x = Tensor<T>::randn(c.input, rng);
    const auto y = layer->forward(x);
    const auto dy = Tensor<T>::randn(y.shape(), rng);
    const auto dx = layer->backward(dy);
    const std::string g = "/" + c.name;
    file.write(g + "/x", x);
    file.write(g + "/dy", dy);
    file.set_attr(g, "layer", c.layer);
    file.set_attr(g, "text", c.text);
    for (const auto& [k, v] : c.ints) file.set_attr(g, k, v);
    auto& mine = res.ours[c.name];
    mine["y"] = y.template cast<double>();
    mine["dx"] = dx.template cast<double>();
    for (auto& p : layer->named_parameters()) {
      file.write(g + "/" + p.name, p.param->value);
      mine["d" + p.name] = p.param->grad.template cast<double>();
    }
  }
  file.commit();
  return res;
}

double compare_with_torch(const CheckResults& ours, const fs::path& torch_file) {
  auto f = io::H5File::open(torch_file);
  double worst = 0;
  std::printf("\ncross-check against PyTorch (max |neurops - torch| / max |torch|):\n");
  for (const auto& [name, fields] : ours.ours) {
    std::printf("  %-22s", name.c_str());
    for (const auto& [key, mine] : fields) {
      const auto theirs = f.read<double>("/" + name + "/" + key);
      NEUROPS_CHECK(theirs.shape() == mine.shape(), "cross-check " << name << "/" << key << ": PyTorch gives "
                                                                   << theirs.shape() << ", neurops " << mine.shape());
      const double err =
          (mine.vec() - theirs.vec()).cwiseAbs().maxCoeff() / std::max(1e-300, theirs.vec().cwiseAbs().maxCoeff());
      worst = std::max(worst, err);
      std::printf("  %s %.1e", key.c_str(), err);
    }
    std::printf("\n");
  }
  return worst;
}

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

int main(int argc, char** argv) {
  try {
    // 1. Options.
    PetscSession session(&argc, &argv, "neurops vs PyTorch: convolution forward + backward\n");
    Options opt("conv_layers benchmark", "bench_");
    const bool smoke = opt.flag("smoke", false, "seconds-long run on small shapes");
    const int runs = static_cast<int>(opt.integer("runs", smoke ? 2 : 5, "timed runs per case and round"));
    const int rounds = static_cast<int>(opt.integer("rounds", smoke ? 1 : 5, "alternating neurops/PyTorch rounds"));
    const int threads = static_cast<int>(opt.integer("threads", 2, "OpenMP threads (both libraries)"));
    const std::string dtype = opt.choice("dtype", "float", {"float", "double"}, "scalar type");
    const bool torch = opt.flag("torch", true, "also run the PyTorch peer");
    const std::string python = opt.string("python", "/usr/bin/python3", "interpreter with torch and h5py");
    const std::string script =
        opt.string("script", bench::peer_script("conv_layers.py").string(), "the PyTorch peer script");
    const std::string work = opt.string("workdir", "conv_layers_work", "folder for the exchanged HDF5 files");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(runs >= 1 && rounds >= 1 && threads >= 1,
                  "options -bench_runs, -bench_rounds and -bench_threads must be >= 1, found " << runs << ", " << rounds
                                                                                               << " and " << threads);
    omp_set_num_threads(threads);
    fs::create_directories(work);

    // 2. Cross-check data and neurops' results for it.
    const fs::path check_in = fs::path(work) / "check_inputs.h5", check_out = fs::path(work) / "check_torch.h5";
    const CheckResults ours =
        dtype == "float" ? write_check_inputs<float>(check_in) : write_check_inputs<double>(check_in);

    // 3. Timings in alternating rounds (neurops, then PyTorch, same shapes, threads and dtype), so
    //    that both see the same background load on a shared machine; medians over all runs.
    std::map<std::string, Runs> mine, peer;
    double worst = -1;
    bench::RoundTimes per_round;
    for (int round = 0; round < rounds; ++round) {
      per_round.gemm.push_back(bench::GemmPeak::measure(smoke));
      for (const auto& c : timing_cases(smoke)) {
        if (dtype == "float")
          time_neurops<float>(c, runs, mine[c.name]);
        else
          time_neurops<double>(c, runs, mine[c.name]);
      }
      if (!torch) continue;
      NEUROPS_CHECK(fs::exists(script), "PyTorch peer script " << script << " not found (option -bench_script)");
      std::ostringstream cmd;
      cmd << "OMP_NUM_THREADS=" << threads << " " << shell_quote(python) << " " << shell_quote(script)
          << " --raw --threads " << threads << " --runs " << runs << " --dtype "
          << (dtype == "float" ? "float32" : "float64") << (smoke ? " --smoke" : "");
      if (round == 0) {
        fs::remove(check_out);
        cmd << " --check " << shell_quote(check_in.string()) << " " << shell_quote(check_out.string());
      }
      FILE* pipe = popen(cmd.str().c_str(), "r");
      NEUROPS_CHECK(pipe, "cannot start the PyTorch peer: " << cmd.str());
      char line[65536];
      std::size_t cases_read = 0;
      while (std::fgets(line, sizeof line, pipe)) {
        std::istringstream in(line);
        std::string tag, name, fwd, bwd;
        if (!(in >> tag >> name >> fwd >> bwd) || tag != "RAW") continue;
        Runs& r = peer[name];
        for (double v : parse_list(fwd)) r.forward.push_back(v);
        for (double v : parse_list(bwd)) r.backward.push_back(v);
        ++cases_read;
      }
      const int status = pclose(pipe);
      NEUROPS_CHECK(status == 0 && cases_read == timing_cases(smoke).size(),
                    "PyTorch peer failed (exit status " << status << ", " << cases_read << " of "
                                                        << timing_cases(smoke).size() << " results): " << cmd.str());
      if (round == 0) worst = compare_with_torch(ours, check_out);
    }

    // 4. Results table.
    std::printf("\n%s, %d threads, %d rounds x %d runs, median (and best) in ms\n", dtype.c_str(), threads, rounds,
                runs);
    std::printf("%-7s %8s %8s %8s %8s |", "case", "fwd", "bwd", "total", "best");
    if (torch)
      std::printf(" %9s %9s %9s %9s | %s", "torch fwd", "torch bwd", "torch tot", "best", "speed-up: median (best)");
    std::printf("\n");
    for (const auto& c : timing_cases(smoke)) {
      const Runs& a = mine[c.name];
      const auto at = a.total();
      std::printf("%-7s %8.2f %8.2f %8.2f %8.2f |", c.name.c_str(), median(a.forward), median(a.backward), median(at),
                  *std::min_element(at.begin(), at.end()));
      if (torch) {
        const Runs& b = peer[c.name];
        const auto bt = b.total();
        const double best_b = *std::min_element(bt.begin(), bt.end()), best_a = *std::min_element(at.begin(), at.end());
        std::printf(" %9.2f %9.2f %9.2f %9.2f | %.2fx (%.2fx)", median(b.forward), median(b.backward), median(bt),
                    best_b, median(bt) / median(at), best_b / best_a);
      }
      std::printf("\n");
    }
    bench::Report report("conv_layers", per_round.peak(), "pytorch");
    for (const auto& c : timing_cases(smoke))
      report.add({c.name + " fwd+bwd", round_medians(mine[c.name].total(), runs),
                  torch ? round_medians(peer[c.name].total(), runs) : std::vector<double>{}, 3 * conv_forward_flops(c),
                  dtype == "double", ""});
    report.print();
    if (torch) {
      const double tolerance = dtype == "float" ? 1e-5 : 1e-12;
      NEUROPS_CHECK(worst <= tolerance,
                    "neurops and PyTorch differ by " << worst << " (relative), more than " << tolerance);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conv_layers: %s\n", e.what());
    return 1;
  }
}
