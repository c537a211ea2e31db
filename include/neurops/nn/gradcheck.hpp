#pragma once
// Gradient verification for modules, in double precision:
//  * central differences on a random sample of entries of the input and of every trainable
//    parameter, against the gradients backward() returns/accumulates, for L = <forward(x), w>;
//  * the adjoint (dot-product) test <J v, w> = <v, J^T w> in a random input direction v and a
//    random parameter direction, where J v is a central directional difference (exact up to
//    rounding for layers linear in that argument).
#include <cstdint>
#include <string>

#include "neurops/nn/model.hpp"
#include "neurops/nn/module.hpp"

namespace neurops::nn {

struct GradCheckOptions {
  double eps = 1e-6;            // finite-difference step
  int entries_per_tensor = 24;  // sampled entries of the input and of each parameter (all if smaller)
  std::uint64_t seed = 1234;
  bool check_input = true;  // off for modules whose input is not differentiable (e.g. indices)
};

struct GradCheckResult {
  double input_error = 0;      // max relative error over sampled input entries
  double parameter_error = 0;  // max relative error over sampled parameter entries
  double adjoint_input_error = 0;
  double adjoint_parameter_error = 0;
  std::string worst;  // where the largest error was found
  double max_error() const;
  std::string summary() const;
};

GradCheckResult gradcheck(Module<double>& module, const Tensor<double>& x, const GradCheckOptions& options = {});
/// The same for a model of several inputs: every input is perturbed, and the adjoint test moves all
/// inputs together along one random direction.
GradCheckResult gradcheck(Model<double>& model, const Inputs<double>& inputs, const GradCheckOptions& options = {});

}  // namespace neurops::nn
