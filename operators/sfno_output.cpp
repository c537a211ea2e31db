#include "neurops/operators/sfno_output.hpp"

#include <cmath>
#include <cstring>

#include "neurops/core/strings.hpp"
#include "neurops/nn/spectral_init.hpp"

namespace neurops::operators {

template <class T>
void copy_frames(const Tensor<T>& x, index_t from, Tensor<T>& y, index_t to, index_t count) {
  const int r = x.rank();
  NEUROPS_CHECK(r >= 1 && y.rank() == r && x.shape().dims().size() == y.shape().dims().size(),
                "copy_frames: tensors of shapes " << x.shape() << " and " << y.shape() << " differ in rank");
  for (int a = 0; a + 1 < r; ++a)
    NEUROPS_CHECK(x.size(a) == y.size(a),
                  "copy_frames: shapes " << x.shape() << " and " << y.shape() << " differ before the last axis");
  const index_t nx = x.size(r - 1), ny = y.size(r - 1), rows = x.numel() / std::max<index_t>(nx, 1);
  NEUROPS_CHECK(from >= 0 && to >= 0 && count >= 0 && from + count <= nx && to + count <= ny,
                "copy_frames: frames [" << from << ", " << from + count << ") of " << x.shape() << " to [" << to << ", "
                                        << to + count << ") of " << y.shape() << " are out of range");
  if (count == 0) return;
#pragma omp parallel for schedule(static) if (rows * count > (1 << 16))
  for (index_t i = 0; i < rows; ++i)
    std::memcpy(y.data() + i * ny + to, x.data() + i * nx + from, sizeof(T) * static_cast<std::size_t>(count));
}

template <class T>
SfnoOutputConv<T>::SfnoOutputConv(const std::vector<index_t>& modes, double delta, std::uint64_t seed)
    : conv_(1, 1, modes, false, seed) {
  NEUROPS_CHECK(modes.size() == 3, type_name()
                                       << ": modes " << format_tuple(modes) << " must be (modes_x, modes_y, modes_t)");
  Rng rng(seed);
  for (int c = 0; c < conv_.corners(); ++c) nn::init_uniform(conv_.weight(c), 0.5, rng);
  conv_.set_spectral_bias(delta);
}

template <class T>
void SfnoOutputConv<T>::set_frames(index_t frames) {
  NEUROPS_CHECK(frames >= 1, type_name() << ": output frames must be >= 1, found " << frames);
  frames_ = frames;
}

template <class T>
Tensor<T> SfnoOutputConv<T>::forward(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == 5 && x.size(1) == 1,
                type_name() << ": expected a one-channel space-time field (N, 1, n0, n1, frames), found " << x.shape());
  const index_t t = x.size(4);
  Tensor<T> padded(x.shape().with(4, 2 * t));
  copy_frames(x, 0, padded, t, t);
  conv_.set_output_grid({x.size(2), x.size(3), frames_ + t});
  const Tensor<T> z = nn::with_module_path("conv", conv_.type_name(), [&] { return conv_.forward(padded); });
  Tensor<T> y = Tensor<T>::uninitialized(x.shape().with(4, frames_));
  copy_frames(z, t, y, 0, frames_);
  if (this->training()) input_shape_ = x.shape();
  return y;
}

template <class T>
Tensor<T> SfnoOutputConv<T>::backward(const Tensor<T>& dy) {
  this->require_cache(input_shape_.rank() == 5);
  const Shape expected = input_shape_.with(4, frames_);
  NEUROPS_CHECK(dy.shape() == expected,
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << expected);
  const index_t t = input_shape_[4];
  Tensor<T> dz(input_shape_.with(4, frames_ + t));  // the dropped first t frames get no gradient
  copy_frames(dy, 0, dz, t, frames_);
  const Tensor<T> dpadded = conv_.backward(dz);
  Tensor<T> dx = Tensor<T>::uninitialized(input_shape_);
  copy_frames(dpadded, t, dx, 0, t);  // the zero padding is a constant
  return dx;
}

template <class T>
SfnoOutputConv<T> fine_tuning_output_layer(SfnoOutputConv<T>& trained, const std::vector<index_t>& modes, NewModes fill,
                                           std::uint64_t seed) {
  nn::SpectralConv<T>& old = trained.conv();
  const std::vector<index_t>& m = old.modes();
  NEUROPS_CHECK(modes.size() == 3 && modes[0] >= m[0] && modes[1] >= m[1] && modes[2] >= m[2],
                "fine_tuning_output_layer: modes " << format_tuple(modes)
                                                   << " must be (modes_x, modes_y, modes_t) with "
                                                   << "at least the trained layer's " << format_tuple(m));
  SfnoOutputConv<T> layer(modes, old.spectral_bias_scale(), seed);
  nn::SpectralConv<T>& conv = layer.conv();
  Rng rng(seed);
  // xavier_uniform(gain 1e-6) of a (1, 1, mx, my, mt, 2) tensor: fan_in = fan_out = mx*my*mt*2.
  const double fan = double(modes[0] * modes[1] * modes[2] * 2);
  const double bound = fill == NewModes::reference ? 1e-6 * std::sqrt(6.0 / (2 * fan)) : 0.0;
  for (int c = 0; c < conv.corners(); ++c) {
    for (auto& v : conv.weight(c).value) v = static_cast<T>(bound * (2 * rng.uniform() - 1));
    conv.spectral_bias(c).value.zero();
    // Corner c takes the negative block of axis a when bit a is set: there the trained block sits at
    // the end of the larger one (the same frequencies -m..-1).
    const index_t off0 = (c & 1) ? modes[0] - m[0] : 0, off1 = (c & 2) ? modes[1] - m[1] : 0;
    const T* w = old.weight(c).value.data();
    const T* b = old.spectral_bias(c).value.data();
    T* nw = conv.weight(c).value.data();
    T* nb = conv.spectral_bias(c).value.data();
    for (index_t i = 0; i < m[0]; ++i)
      for (index_t j = 0; j < m[1]; ++j)
        for (index_t k = 0; k < m[2]; ++k)
          for (index_t r = 0; r < 2; ++r) {
            const index_t from = ((i * m[1] + j) * m[2] + k) * 2 + r;
            const index_t to = (((i + off0) * modes[1] + j + off1) * modes[2] + k) * 2 + r;
            nw[to] = w[from];
            nb[to] = b[from];
          }
  }
  layer.set_frames(trained.frames());
  return layer;
}

template void copy_frames<float>(const Tensor<float>&, index_t, Tensor<float>&, index_t, index_t);
template void copy_frames<double>(const Tensor<double>&, index_t, Tensor<double>&, index_t, index_t);
template SfnoOutputConv<float> fine_tuning_output_layer<float>(SfnoOutputConv<float>&, const std::vector<index_t>&,
                                                               NewModes, std::uint64_t);
template SfnoOutputConv<double> fine_tuning_output_layer<double>(SfnoOutputConv<double>&, const std::vector<index_t>&,
                                                                 NewModes, std::uint64_t);
template class SfnoOutputConv<float>;
template class SfnoOutputConv<double>;

}  // namespace neurops::operators
