#pragma once
// Initialisers for spectral weights, seeded.
//
//  * FNO (Li et al.; neuraloperator's SpectralConv): scale * U[0, 1) on the real and on the
//    imaginary part, scale = 1/(in*out).
//  * Transform Once's variance-preserving (VP) initialisation (Poli et al. 2022, kairos
//    src/utils/init_fn.py): an orthonormal transform keeps the total variance and truncation to m of
//    N modes must be compensated, so weights are N(0, sigma^2) with
//      T1 layers:        sigma = gain * sqrt(N / (fan_in * m)),  gain 1 (DCT) or 1/2 (DFT)
//      FNO with VP, DFT: sigma = sqrt(N / (fan_in * (4 * m1 * m2 + 4)))
//      FNO with VP, DCT: sigma = sqrt(N / (2 * fan_in * m1 * m2))
//    N = grid points, m = kept modes (m1*m2 in 2-D). For 1-D and 3-D FNO layers the same counting
//    is used with m1*m2 replaced by the product of the kept modes per axis.
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/module.hpp"

namespace neurops::nn {

template <class T>
class SpectralConv;

enum class SpectralTransform { dft, dct };

/// T1's VP standard deviation for a layer with `kept_modes` retained of `grid_points`.
double vp_sigma_t1(index_t grid_points, index_t fan_in, index_t kept_modes, SpectralTransform transform);
/// VP standard deviation for an FNO spectral convolution; modes = kept modes per axis.
double vp_sigma_fno(index_t grid_points, index_t fan_in, const std::vector<index_t>& modes,
                    SpectralTransform transform);

/// Every entry (real and imaginary parts alike) uniform in [0, scale).
template <class T>
void init_uniform(Parameter<T>& p, double scale, Rng& rng);
/// Every entry normal with mean 0 and standard deviation sigma.
template <class T>
void init_normal(Parameter<T>& p, double sigma, Rng& rng);

/// FNO's initialisation of every corner weight: U[0,1) / (in*out); bias set to zero.
template <class T>
void fno_spectral_init(SpectralConv<T>& layer, Rng& rng);
/// VP initialisation of an FNO spectral convolution for a training grid of `grid_points` points.
template <class T>
void vp_spectral_init(SpectralConv<T>& layer, index_t grid_points, SpectralTransform transform, Rng& rng);

}  // namespace neurops::nn
