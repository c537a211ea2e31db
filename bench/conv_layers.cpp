// conv_layers — forward + backward of 3x3 convolutions through neurops and PyTorch CPU, side by side.
//
// What it measures: one training step of a convolution (forward, then backward giving the input,
// weight and bias gradients), median over several runs, at the same thread count and dtype in both:
//   conv2d: batch 16, 24 -> 24 channels, 64^2 grid, 3x3 kernel, zero padding 1
//   conv3d: batch 1, 16 -> 16 channels, 64^3 grid, 3x3x3 kernel, zero padding 1
// The PyTorch peer is bench/conv_layers.py, run with Debian's /usr/bin/python3 (python3-torch).
// Before timing, both libraries also run small convolutions (every padding mode) on the same data,
// exchanged through HDF5, and the largest relative differences of y, dx, dW, db are printed; the
// program fails if they exceed float precision.
//
// Sample runs:
//   ./conv_layers                                  # full sizes, 2 threads, float32, 7 runs
//   ./conv_layers -bench_runs 11 -bench_threads 1
//   ./conv_layers -bench_dtype double
//   ./conv_layers -bench_smoke                     # seconds-long version (a CTest with label bench)
//   ./conv_layers -bench_torch false               # neurops only
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "neurops/core/options.hpp"
#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/conv.hpp"

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

struct Timing {
  double forward = 0, backward = 0, total = 0;  // milliseconds
};

template <class T>
Timing time_neurops(const Case& c, int runs) {
  Rng rng(1);
  Conv<T> conv(c.dims, c.channels, c.channels, {3}, rng, {.padding = {1}});
  const auto x = Tensor<T>::randn(grid_shape(c), rng);
  const auto dy = Tensor<T>::randn(grid_shape(c), rng);
  std::vector<double> fwd, bwd, tot;
  for (int r = 0; r <= runs; ++r) {  // the first run warms up (workspaces, pages)
    conv.zero_grad();
    Timer t;
    const auto y = conv.forward(x);
    const double tf = t.seconds();
    const auto dx = conv.backward(dy);
    const double tt = t.seconds();
    if (r > 0) {
      fwd.push_back(tf * 1e3);
      bwd.push_back((tt - tf) * 1e3);
      tot.push_back(tt * 1e3);
    }
  }
  return {median(fwd), median(bwd), median(tot)};
}

// Small convolutions in every padding mode: data and neurops results for the cross-check.
struct CheckCase {
  std::string name;
  int dims;
  index_t channels_in, channels_out, extent, padding;
  PaddingMode mode;
};
const std::vector<CheckCase> kCheckCases = {
    {"c2d_zeros", 2, 3, 5, 9, 1, PaddingMode::Zeros},      {"c2d_circular", 2, 3, 5, 9, 1, PaddingMode::Circular},
    {"c2d_reflect", 2, 3, 5, 9, 1, PaddingMode::Reflect},  {"c2d_replicate", 2, 3, 5, 9, 1, PaddingMode::Replicate},
    {"c3d_zeros", 3, 2, 4, 6, 1, PaddingMode::Zeros},      {"c3d_circular", 3, 2, 4, 6, 1, PaddingMode::Circular},
    {"c1d_reflect", 1, 4, 2, 11, 1, PaddingMode::Reflect},
};

struct CheckResults {
  std::map<std::string, std::map<std::string, Tensor<double>>> ours;
};

template <class T>
CheckResults write_check_inputs(const fs::path& path) {
  CheckResults res;
  auto file = io::H5File::create(path);
  Rng rng(7);
  for (const auto& c : kCheckCases) {
    Conv<T> conv(c.dims, c.channels_in, c.channels_out, {3}, rng, {.padding = {c.padding}, .padding_mode = c.mode});
    std::vector<index_t> s = {2, c.channels_in};
    for (int a = 0; a < c.dims; ++a) s.push_back(c.extent + a);
    const auto x = Tensor<T>::randn(Shape(s), rng);
    const auto y = conv.forward(x);
    const auto dy = Tensor<T>::randn(y.shape(), rng);
    const auto dx = conv.backward(dy);
    const std::string g = "/" + c.name;
    file.write(g + "/x", x);
    file.write(g + "/weight", conv.weight().value);
    file.write(g + "/bias", conv.bias().value);
    file.write(g + "/dy", dy);
    file.set_attr(g, "padding", std::int64_t(c.padding));
    file.set_attr(g, "padding_mode", to_string(c.mode));
    res.ours[c.name] = {{"y", y.template cast<double>()},
                        {"dx", dx.template cast<double>()},
                        {"dweight", conv.weight().grad.template cast<double>()},
                        {"dbias", conv.bias().grad.template cast<double>()}};
  }
  file.commit();
  return res;
}

double compare_with_torch(const CheckResults& ours, const fs::path& torch_file) {
  auto f = io::H5File::open(torch_file);
  double worst = 0;
  std::printf("\ncross-check against PyTorch (max |neurops - torch| / max |torch|):\n");
  for (const auto& [name, fields] : ours.ours) {
    std::printf("  %-14s", name.c_str());
    for (const auto& [key, mine] : fields) {
      const auto theirs = f.read<double>("/" + name + "/" + key);
      NEUROPS_CHECK(theirs.shape() == mine.shape(), "cross-check " << name << "/" << key << ": PyTorch gives "
                                                                   << theirs.shape() << ", neurops " << mine.shape());
      const double err = (mine.vec() - theirs.vec()).cwiseAbs().maxCoeff() /
                         std::max(1e-300, theirs.vec().cwiseAbs().maxCoeff());
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
    const int runs = static_cast<int>(opt.integer("runs", smoke ? 2 : 7, "timed runs per case (median)"));
    const int threads = static_cast<int>(opt.integer("threads", 2, "OpenMP threads (both libraries)"));
    const std::string dtype = opt.choice("dtype", "float", {"float", "double"}, "scalar type");
    const bool torch = opt.flag("torch", true, "also run the PyTorch peer");
    const std::string python = opt.string("python", "/usr/bin/python3", "interpreter with torch and h5py");
    const std::string script = opt.string("script", (fs::path(__FILE__).parent_path() / "conv_layers.py").string(),
                                          "the PyTorch peer script");
    const std::string work = opt.string("workdir", "conv_layers_work", "folder for the exchanged HDF5 files");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(runs >= 1 && threads >= 1, "options -bench_runs and -bench_threads must be >= 1, found "
                                                 << runs << " and " << threads);
    omp_set_num_threads(threads);
    fs::create_directories(work);

    // 2. neurops: cross-check inputs, then timings.
    const fs::path check_in = fs::path(work) / "check_inputs.h5", check_out = fs::path(work) / "check_torch.h5";
    const CheckResults ours = dtype == "float" ? write_check_inputs<float>(check_in) : write_check_inputs<double>(check_in);
    std::map<std::string, Timing> mine, peer;
    for (const auto& c : timing_cases(smoke))
      mine[c.name] = dtype == "float" ? time_neurops<float>(c, runs) : time_neurops<double>(c, runs);

    // 3. PyTorch: same shapes, threads and dtype; reads the cross-check inputs.
    double worst = -1;
    if (torch) {
      NEUROPS_CHECK(fs::exists(script), "PyTorch peer script " << script << " not found (option -bench_script)");
      fs::remove(check_out);
      std::ostringstream cmd;
      cmd << "OMP_NUM_THREADS=" << threads << " " << shell_quote(python) << " " << shell_quote(script)
          << " --threads " << threads << " --runs " << runs << " --dtype " << (dtype == "float" ? "float32" : "float64")
          << (smoke ? " --smoke" : "") << " --check " << shell_quote(check_in.string()) << " "
          << shell_quote(check_out.string());
      FILE* pipe = popen(cmd.str().c_str(), "r");
      NEUROPS_CHECK(pipe, "cannot start the PyTorch peer: " << cmd.str());
      char line[512];
      while (std::fgets(line, sizeof line, pipe)) {
        char name[64];
        Timing t;
        if (std::sscanf(line, "RESULT %63s %lf %lf %lf", name, &t.forward, &t.backward, &t.total) == 4) peer[name] = t;
      }
      const int status = pclose(pipe);
      NEUROPS_CHECK(status == 0 && peer.size() == mine.size(),
                    "PyTorch peer failed (exit status " << status << ", " << peer.size() << " of " << mine.size()
                                                        << " results): " << cmd.str());
      worst = compare_with_torch(ours, check_out);
    }

    // 4. Results table.
    std::printf("\n%s, %d threads, median of %d runs (ms)\n", dtype.c_str(), threads, runs);
    std::printf("%-8s %10s %10s %10s | %10s %10s %10s | %s\n", "case", "fwd", "bwd", "total", "torch fwd", "torch bwd",
                "torch tot", "speed-up (torch total / neurops total)");
    for (const auto& c : timing_cases(smoke)) {
      const Timing& a = mine[c.name];
      if (torch) {
        const Timing& b = peer[c.name];
        std::printf("%-8s %10.2f %10.2f %10.2f | %10.2f %10.2f %10.2f | %.2fx\n", c.name.c_str(), a.forward, a.backward,
                    a.total, b.forward, b.backward, b.total, b.total / a.total);
      } else {
        std::printf("%-8s %10.2f %10.2f %10.2f |\n", c.name.c_str(), a.forward, a.backward, a.total);
      }
    }
    if (torch) {
      const double tolerance = dtype == "float" ? 1e-5 : 1e-12;
      NEUROPS_CHECK(worst <= tolerance, "neurops and PyTorch differ by " << worst << " (relative), more than " << tolerance);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conv_layers: %s\n", e.what());
    return 1;
  }
}
