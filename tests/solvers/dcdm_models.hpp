#pragma once
// Small DCDM networks saved as checkpoints for the solver tests (one folder per process).
#include <unistd.h>

#include <filesystem>
#include <string>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/operators/dcdm_net.hpp"

namespace neurops::test {

inline std::string save_dcdm_model(operators::DcdmNet<double>& net, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("neurops_test_dcdm_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  nn::CheckpointContents<double> contents;
  contents.model = &net;
  nn::save_checkpoint(dir / name, contents);
  return (dir / name).string();
}

inline operators::DcdmNetConfig small_dcdm_config(index_t channels) {
  operators::DcdmNetConfig c;
  c.channels = channels;
  c.mid_convs = 2;
  c.post_convs = 2;
  c.seed = 3;
  return c;
}

/// An untrained network with random weights (4 channels): a nonlinear map of r.
inline std::string random_dcdm_model() {
  static const std::string path = [] {
    operators::DcdmNet<double> net(small_dcdm_config(4));
    return save_dcdm_model(net, "random.h5");
  }();
  return path;
}

/// A network with hand-set weights that computes q = (I + P) r, P = upsample(avgpool(.)): channel 0
/// carries r+, channel 1 carries r- through the ReLUs, the second convolution of every residual pair
/// is zero, and the head takes r+ - r-. The map is linear, symmetric and positive definite, so DCDM
/// with it is preconditioned CG with M = I + P.
inline std::string linear_dcdm_model() {
  static const std::string path = [] {
    operators::DcdmNet<double> net(small_dcdm_config(2));
    for (auto& p : net.named_parameters()) {
      Tensor<double>& w = p.param->value;
      w.zero();
      const bool second_of_pair = p.name.find("inner.2.") != std::string::npos;
      if (p.name.find("weight") == std::string::npos || second_of_pair) continue;
      if (w.size(2) == 1) {  // head: r+ - r-
        w(0, 0, 0, 0, 0) = 1;
        w(0, 1, 0, 0, 0) = -1;
      } else if (w.size(1) == 1) {  // first convolution: r, -r
        w(0, 0, 1, 1, 1) = 1;
        w(1, 0, 1, 1, 1) = -1;
      } else {  // channel-wise identity
        w(0, 0, 1, 1, 1) = 1;
        w(1, 1, 1, 1, 1) = 1;
      }
    }
    return save_dcdm_model(net, "linear.h5");
  }();
  return path;
}

}  // namespace neurops::test
