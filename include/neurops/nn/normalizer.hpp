#pragma once
// Normalizers for operator learning, fitted on the training split only and stored with the model:
//   unit Gaussian, pointwise   (x - mean(x_n)) / (std(x_n) + eps), statistics per (channel, point)
//                              over the training samples (FNO's UnitGaussianNormalizer);
//   unit Gaussian, per channel statistics per channel over samples and grid points;
//   min-max                    x -> lo + (hi - lo)(x - min)/(max - min), per channel.
// All are affine: encode(x) = (x - shift) / scale, decode(z) = z * scale + shift, so the gradient of
// a loss on decoded outputs is scale * dL/d(decoded).
#include <string>

#include "neurops/core/tensor.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::nn {

template <class T>
class Normalizer {
 public:
  enum class Kind { identity, gaussian_pointwise, gaussian_channel, min_max };

  /// The identity (nothing to normalise).
  Normalizer() = default;
  /// Fits a unit-Gaussian normalizer on (N, C, spatial...) training data.
  static Normalizer unit_gaussian(TensorView<const T> train, bool per_channel, double eps = 1e-5);
  /// Fits a per-channel min-max normalizer mapping the training range onto [lo, hi].
  static Normalizer min_max(TensorView<const T> train, double lo = 0.0, double hi = 1.0);

  void encode(Tensor<T>& x) const;
  void decode(Tensor<T>& x) const;
  /// Chain rule through decode: dL/dz = scale * dL/dx.
  void decode_backward(Tensor<T>& grad) const;

  Kind kind() const noexcept { return kind_; }
  std::string kind_name() const;
  /// The shape of one sample this normalizer was fitted on ((C, spatial...) pointwise, (C) per channel).
  const Shape& statistics_shape() const noexcept { return shift_.shape(); }

  void save(io::H5File& file, const std::string& group) const;
  static Normalizer load(const io::H5File& file, const std::string& group);

 private:
  template <class F>
  void apply(Tensor<T>& x, F&& f, const char* what) const;
  Kind kind_ = Kind::identity;
  Tensor<T> shift_, scale_;
};

extern template class Normalizer<float>;
extern template class Normalizer<double>;

}  // namespace neurops::nn
