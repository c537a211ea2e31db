#pragma once
// Weight initialisers, as torch.nn.init defines them, drawing from a seeded neurops::Rng.
//
// Fans follow PyTorch's convention for a weight of shape (dim0, dim1, k...): fan_in = dim1 * prod(k),
// fan_out = dim0 * prod(k). Linear weights are (out, in), convolution weights (out, in, k...);
// transposed-convolution weights (in, out, k...) therefore get fan_in = out * prod(k), as in PyTorch.
#include <string>

#include "neurops/core/random.hpp"
#include "neurops/core/tensor.hpp"

namespace neurops::nn::init {

enum class FanMode { FanIn, FanOut };

struct Fans {
  double fan_in = 0, fan_out = 0;
};
/// Fans of a weight of rank >= 2 (Error for rank < 2, as PyTorch).
Fans compute_fans(const Shape& weight_shape);

/// torch.nn.init.calculate_gain: "linear"/"identity"/"conv"/"sigmoid" 1, "tanh" 5/3, "relu" sqrt(2),
/// "leaky_relu" sqrt(2 / (1 + a^2)), "selu" 3/4.
double gain(const std::string& nonlinearity, double negative_slope = 0.01);

template <class T>
void uniform(Tensor<T>& t, double lo, double hi, Rng& rng);
template <class T>
void normal(Tensor<T>& t, double mean, double stddev, Rng& rng);

/// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
template <class T>
void glorot_uniform(Tensor<T>& w, Rng& rng, double gain = 1.0);
/// N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)).
template <class T>
void glorot_normal(Tensor<T>& w, Rng& rng, double gain = 1.0);
/// U(-b, b) with b = gain(nonlinearity, a) * sqrt(3 / fan).
template <class T>
void kaiming_uniform(Tensor<T>& w, Rng& rng, double a = 0.0, FanMode mode = FanMode::FanIn,
                     const std::string& nonlinearity = "leaky_relu");
/// N(0, s^2) with s = gain(nonlinearity, a) / sqrt(fan).
template <class T>
void kaiming_normal(Tensor<T>& w, Rng& rng, double a = 0.0, FanMode mode = FanMode::FanIn,
                    const std::string& nonlinearity = "leaky_relu");

/// PyTorch's reset_parameters() of nn.Linear / nn.ConvNd / nn.ConvTransposeNd: weight by
/// kaiming_uniform(a = sqrt(5)) (i.e. U(+-1/sqrt(fan_in))), bias (if non-empty) by U(+-1/sqrt(fan_in)).
template <class T>
void torch_default(Tensor<T>& weight, Tensor<T>* bias, Rng& rng);

}  // namespace neurops::nn::init
