#include "neurops/nn/spectral_init.hpp"

#include <cmath>

#include "neurops/nn/spectral_conv.hpp"

namespace neurops::nn {

double vp_sigma_t1(index_t grid_points, index_t fan_in, index_t kept_modes, SpectralTransform transform) {
  NEUROPS_CHECK(grid_points > 0 && fan_in > 0 && kept_modes > 0,
                "vp_sigma_t1: grid points " << grid_points << ", fan_in " << fan_in << ", modes " << kept_modes
                                            << " must all be positive");
  const double gain = transform == SpectralTransform::dct ? 1.0 : 0.5;
  return gain * std::sqrt(double(grid_points) / (double(fan_in) * double(kept_modes)));
}

double vp_sigma_fno(index_t grid_points, index_t fan_in, const std::vector<index_t>& modes,
                    SpectralTransform transform) {
  NEUROPS_CHECK(grid_points > 0 && fan_in > 0 && !modes.empty(), "vp_sigma_fno: grid points "
                                                                     << grid_points << ", fan_in " << fan_in
                                                                     << " must be positive, modes non-empty");
  double m = 1;
  for (auto k : modes) m *= double(k);
  if (transform == SpectralTransform::dft) return std::sqrt(double(grid_points) / (double(fan_in) * (4 * m + 4)));
  return std::sqrt(double(grid_points) / (2 * double(fan_in) * m));
}

template <class T>
void init_uniform(Parameter<T>& p, double scale, Rng& rng) {
  for (auto& v : p.value) v = static_cast<T>(scale * rng.uniform());
}

template <class T>
void init_normal(Parameter<T>& p, double sigma, Rng& rng) {
  for (auto& v : p.value) v = static_cast<T>(sigma * rng.normal());
}

template <class T>
void fno_spectral_init(SpectralConv<T>& layer, Rng& rng) {
  const double scale = 1.0 / double(layer.in_channels() * layer.out_channels());
  for (int c = 0; c < layer.corners(); ++c) init_uniform(layer.weight(c), scale, rng);
  if (layer.has_bias()) layer.bias().value.zero();
}

template <class T>
void vp_spectral_init(SpectralConv<T>& layer, index_t grid_points, SpectralTransform transform, Rng& rng) {
  const double sigma = vp_sigma_fno(grid_points, layer.in_channels(), layer.modes(), transform);
  for (int c = 0; c < layer.corners(); ++c) init_normal(layer.weight(c), sigma, rng);
  if (layer.has_bias()) layer.bias().value.zero();
}

template void init_uniform(Parameter<float>&, double, Rng&);
template void init_uniform(Parameter<double>&, double, Rng&);
template void init_normal(Parameter<float>&, double, Rng&);
template void init_normal(Parameter<double>&, double, Rng&);
template void fno_spectral_init(SpectralConv<float>&, Rng&);
template void fno_spectral_init(SpectralConv<double>&, Rng&);
template void vp_spectral_init(SpectralConv<float>&, index_t, SpectralTransform, Rng&);
template void vp_spectral_init(SpectralConv<double>&, index_t, SpectralTransform, Rng&);

}  // namespace neurops::nn
