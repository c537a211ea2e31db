#pragma once
// Operator-learning pairs from a Navier-Stokes file written by `neurops_generate -gen_problem
// navier_stokes`: the input is the initial vorticity w(0) (dataset /inputs, (N, 1, n, n)), the
// target the vorticity at one snapshot time (dataset /outputs, (N, T, n, n), times in the root
// attribute `times`). This is the Transform Once Navier-Stokes setting (kairos
// src/datamodules/basic_pde.py: w(0) -> w(target_time), nu = 1e-3, target time 50, 64^2).
//
//   auto data = pde::load_navier_stokes_pairs<float>("ns.h5", 50.0);      // all samples
//   auto train = data.subset(...);
#include <filesystem>

#include "neurops/nn/data.hpp"

namespace neurops::pde {

/// Samples [first, first + count) (count < 0: to the end) of w(0) -> w(target_time). A file without
/// the datasets, without a snapshot at target_time, or with fewer samples is an Error naming the
/// file, what it holds and what was expected.
template <class T>
nn::FieldDataset<T> load_navier_stokes_pairs(const std::filesystem::path& file, double target_time, index_t first = 0,
                                             index_t count = -1);

}  // namespace neurops::pde
