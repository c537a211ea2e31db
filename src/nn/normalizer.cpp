#include "neurops/nn/normalizer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "neurops/io/hdf5.hpp"

namespace neurops::nn {

template <class T>
Normalizer<T> Normalizer<T>::unit_gaussian(TensorView<const T> train, bool per_channel, double eps) {
  NEUROPS_CHECK(train.rank() >= 2 && train.size(0) >= 1,
                "unit-Gaussian normalizer: expected (N, C, ...) training data, found " << train.shape());
  const index_t n = train.size(0), c = train.size(1), pts = train.shape().tail_numel(2);
  Normalizer nz;
  nz.kind_ = per_channel ? Kind::gaussian_channel : Kind::gaussian_pointwise;
  const Shape stat = per_channel ? Shape({c}) : train.shape().tail(1);
  std::vector<double> sum(static_cast<std::size_t>(stat.numel()), 0.0), sq(sum.size(), 0.0);
  // Two passes in double: mean, then centred second moment (no cancellation on large offsets).
  for (index_t s = 0; s < n; ++s)
    for (index_t ch = 0; ch < c; ++ch)
      for (index_t p = 0; p < pts; ++p)
        sum[static_cast<std::size_t>(per_channel ? ch : ch * pts + p)] += double(train.data()[(s * c + ch) * pts + p]);
  const double count = per_channel ? double(n * pts) : double(n);
  for (auto& v : sum) v /= count;
  for (index_t s = 0; s < n; ++s)
    for (index_t ch = 0; ch < c; ++ch)
      for (index_t p = 0; p < pts; ++p) {
        const auto k = static_cast<std::size_t>(per_channel ? ch : ch * pts + p);
        const double d = double(train.data()[(s * c + ch) * pts + p]) - sum[k];
        sq[k] += d * d;
      }
  nz.shift_ = Tensor<T>::uninitialized(stat);
  nz.scale_ = Tensor<T>::uninitialized(stat);
  // Unbiased std as torch.std (FNO's normalizer); a single sample gives std 0 and scale eps.
  const double dof = std::max(count - 1.0, 1.0);
  for (std::size_t k = 0; k < sum.size(); ++k) {
    nz.shift_[static_cast<index_t>(k)] = static_cast<T>(sum[k]);
    nz.scale_[static_cast<index_t>(k)] = static_cast<T>(std::sqrt(sq[k] / dof) + eps);
  }
  return nz;
}

template <class T>
Normalizer<T> Normalizer<T>::min_max(TensorView<const T> train, double lo, double hi) {
  NEUROPS_CHECK(train.rank() >= 2 && train.size(0) >= 1,
                "min-max normalizer: expected (N, C, ...) training data, found " << train.shape());
  NEUROPS_CHECK(hi > lo, "min-max normalizer: target range [" << lo << ", " << hi << "] is empty");
  const index_t n = train.size(0), c = train.size(1), pts = train.shape().tail_numel(2);
  std::vector<double> mn(static_cast<std::size_t>(c), std::numeric_limits<double>::infinity()),
      mx(static_cast<std::size_t>(c), -std::numeric_limits<double>::infinity());
  for (index_t s = 0; s < n; ++s)
    for (index_t ch = 0; ch < c; ++ch)
      for (index_t p = 0; p < pts; ++p) {
        const double v = double(train.data()[(s * c + ch) * pts + p]);
        mn[static_cast<std::size_t>(ch)] = std::min(mn[static_cast<std::size_t>(ch)], v);
        mx[static_cast<std::size_t>(ch)] = std::max(mx[static_cast<std::size_t>(ch)], v);
      }
  Normalizer nz;
  nz.kind_ = Kind::min_max;
  nz.shift_ = Tensor<T>::uninitialized({c});
  nz.scale_ = Tensor<T>::uninitialized({c});
  for (index_t ch = 0; ch < c; ++ch) {
    const double range = std::max(mx[static_cast<std::size_t>(ch)] - mn[static_cast<std::size_t>(ch)], 1e-12);
    // encode: (x - shift)/scale = lo + (hi-lo)(x-min)/range  =>  scale = range/(hi-lo), shift = min - lo*scale
    const double scale = range / (hi - lo);
    nz.scale_[ch] = static_cast<T>(scale);
    nz.shift_[ch] = static_cast<T>(mn[static_cast<std::size_t>(ch)] - lo * scale);
  }
  return nz;
}

template <class T>
template <class F>
void Normalizer<T>::apply(Tensor<T>& x, F&& f, const char* what) const {
  if (kind_ == Kind::identity) return;
  const bool per_channel = kind_ != Kind::gaussian_pointwise;
  if (per_channel) {
    NEUROPS_CHECK(x.rank() >= 2 && x.size(1) == shift_.size(0), kind_name() << " normalizer " << what << ": fitted on "
                                                                            << shift_.size(0) << " channels, input is "
                                                                            << x.shape());
  } else {
    NEUROPS_CHECK(x.rank() >= 2 && x.shape().tail(1) == shift_.shape(),
                  kind_name() << " normalizer " << what << ": fitted on samples of shape " << shift_.shape()
                              << ", input is " << x.shape() << " (pointwise statistics need the same grid)");
  }
  const index_t n = x.size(0), c = x.size(1), pts = x.shape().tail_numel(2);
#pragma omp parallel for collapse(2) schedule(static)
  for (index_t s = 0; s < n; ++s)
    for (index_t ch = 0; ch < c; ++ch) {
      T* row = x.data() + (s * c + ch) * pts;
      for (index_t p = 0; p < pts; ++p) {
        const index_t k = per_channel ? ch : ch * pts + p;
        row[p] = f(row[p], shift_[k], scale_[k]);
      }
    }
}

template <class T>
void Normalizer<T>::encode(Tensor<T>& x) const {
  apply(
      x, [](T v, T shift, T scale) { return (v - shift) / scale; }, "encode");
}
template <class T>
void Normalizer<T>::decode(Tensor<T>& x) const {
  apply(
      x, [](T v, T shift, T scale) { return v * scale + shift; }, "decode");
}
template <class T>
void Normalizer<T>::decode_backward(Tensor<T>& g) const {
  apply(
      g, [](T v, T, T scale) { return v * scale; }, "decode_backward");
}

template <class T>
std::string Normalizer<T>::kind_name() const {
  switch (kind_) {
    case Kind::gaussian_pointwise:
      return "unit_gaussian_pointwise";
    case Kind::gaussian_channel:
      return "unit_gaussian_channel";
    case Kind::min_max:
      return "min_max";
    default:
      return "identity";
  }
}

template <class T>
void Normalizer<T>::save(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "kind", kind_name());
  if (kind_ == Kind::identity) return;
  file.write(group + "/shift", shift_, true);
  file.write(group + "/scale", scale_, true);
}

template <class T>
Normalizer<T> Normalizer<T>::load(const io::H5File& file, const std::string& group) {
  NEUROPS_CHECK(file.exists(group) && file.has_attr(group, "kind"),
                "'" << file.path().string() << "' has no normalizer at '" << group << "'");
  const std::string kind = file.attr_string(group, "kind");
  Normalizer nz;
  if (kind == "identity") return nz;
  if (kind == "unit_gaussian_pointwise")
    nz.kind_ = Kind::gaussian_pointwise;
  else if (kind == "unit_gaussian_channel")
    nz.kind_ = Kind::gaussian_channel;
  else if (kind == "min_max")
    nz.kind_ = Kind::min_max;
  else
    NEUROPS_THROW("'" << file.path().string() << "': unknown normalizer kind '" << kind << "' at " << group);
  nz.shift_ = file.read<T>(group + "/shift");
  nz.scale_ = file.read<T>(group + "/scale");
  NEUROPS_CHECK(nz.shift_.shape() == nz.scale_.shape(), "'" << file.path().string() << "': normalizer " << group
                                                            << " shift " << nz.shift_.shape() << " and scale "
                                                            << nz.scale_.shape() << " differ");
  return nz;
}

template class Normalizer<float>;
template class Normalizer<double>;

}  // namespace neurops::nn
