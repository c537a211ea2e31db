#pragma once
// Helpers shared by the operator benchmarks: medians of timed runs, peak memory, command-line
// arguments, and running the PyTorch peer script (bench/<name>.py, Debian's /usr/bin/python3) whose
// 'torch_<key> <value>' lines are collected.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "neurops/core/progress.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"

namespace neurops::bench {

/// The PyTorch peer script `name` in the source tree's bench/ folder (its path is compiled in by
/// CMake, so it holds whatever the compiler launcher does to __FILE__).
inline std::filesystem::path peer_script(const std::string& name) {
  return std::filesystem::path(NEUROPS_BENCH_SOURCE_DIR) / name;
}

/// Restarts the program with OMP_WAIT_POLICY=passive unless the variable is set: on a machine shared
/// with other jobs, spinning OpenMP threads (ours and the PyTorch peer's, which inherits it) cost more
/// than they save. execv returns only on failure; then the program runs with the current policy.
inline void use_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);
}

template <class F>
double median_ms(F&& f, int runs) {
  f();  // warm-up: workspaces, page faults
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    Timer timer;
    f();
    t.push_back(timer.seconds() * 1e3);
  }
  return median(t);
}

struct StepTimes {
  double train_ms, infer_ms;
};

/// Medians of one training step (forward, relative-L2 loss, backward, Adam update) and of one
/// inference pass of a field-to-field model; bench/torch_peer.py's report_field_model is the peer.
template <class Model>
StepTimes time_field_model(Model& model, const Tensor<float>& x, const Tensor<float>& y, int runs) {
  nn::Adam<float> adam(model, {.lr = 1e-3});
  const nn::LpLoss<float> loss(x.rank() - 2);
  Tensor<float> grad;
  auto train_step = [&] {
    model.train();
    const Tensor<float> out = model.forward(x);
    loss.evaluate(out, y, &grad);
    model.backward(grad);
    adam.step();
    adam.zero_grad();
  };
  auto infer = [&] {
    model.eval();
    (void)model.forward(x);
  };
  const double train_ms = median_ms(train_step, runs);
  return {train_ms, median_ms(infer, runs)};
}

inline double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

/// Runs `script` with the same thread count; returns its torch_* values (other lines go to stderr).
inline std::map<std::string, double> run_torch(const std::filesystem::path& script, const std::string& args,
                                               int threads) {
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) + " MKL_NUM_THREADS=" + std::to_string(threads) +
                          " /usr/bin/python3 " + script.string() + " " + args + " 2>&1";
  std::map<std::string, double> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::istringstream is(line);
    std::string key;
    double v;
    if (is >> key >> v && key.rfind("torch_", 0) == 0)
      out[key] = v;
    else
      std::fputs(line, stderr);
  }
  pclose(p);
  return out;
}

inline int arg_int(int argc, char** argv, const std::string& name, int def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return def;
}
inline std::string arg_string(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return def;
}
inline bool arg_flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == name) return true;
  return false;
}

/// One round of the PyTorch peer for bench/roofline.hpp's alternate_rounds: runs `script` once.
inline std::function<std::map<std::string, double>()> torch_round(const std::filesystem::path& script,
                                                                  const std::string& args, int threads) {
  return [script, args, threads] { return run_torch(script, args, threads); };
}

/// Prints the peak resident memory of neurops and, if it reported one, of the peer (the median over
/// the peer's rounds under `key`).
inline void print_peak_memory(double ours_mb, const std::map<std::string, std::vector<double>>& peer,
                              const char* key = "torch_peak_rss_mb") {
  const auto it = peer.find(key);
  if (it != peer.end() && !it->second.empty())
    std::printf("  %-30s neurops %9.1f   pytorch %9.1f\n", "peak memory [MB]", ours_mb, median(it->second));
  else
    std::printf("  %-30s neurops %9.1f\n", "peak memory [MB]", ours_mb);
}

}  // namespace neurops::bench
