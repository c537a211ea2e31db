#pragma once
// A small, exactly solvable operator-learning problem for trainer tests: periodic Poisson
// -Δu = f on the unit square, f a random trigonometric polynomial, u its exact solution.
#include <cmath>
#include <numbers>

#include "neurops/nn/data.hpp"

template <class T>
neurops::nn::FieldDataset<T> periodic_poisson(neurops::index_t samples, neurops::index_t n, std::uint64_t seed) {
  using neurops::index_t;
  neurops::Rng rng(seed);
  neurops::nn::FieldDataset<T> d{neurops::Tensor<T>({samples, 1, n, n}), neurops::Tensor<T>({samples, 1, n, n})};
  const double tp = 2 * std::numbers::pi;
  for (index_t s = 0; s < samples; ++s)
    for (int k = 1; k <= 3; ++k)
      for (int l = 0; l <= 3; ++l) {
        const double a = rng.normal(), b = rng.normal();
        const double lam = tp * tp * double(k * k + l * l);
        for (index_t j = 0; j < n; ++j)
          for (index_t i = 0; i < n; ++i) {
            const double ph = tp * (k * double(i) + l * double(j)) / double(n);
            const double f = a * std::cos(ph) + b * std::sin(ph);
            d.inputs(s, 0, j, i) += T(f);
            d.targets(s, 0, j, i) += T(f / lam * 10.0);
          }
      }
  return d;
}
