#pragma once
// Relative errors of predicted trajectories (N, T, n0, n1) against the truth, per sample and averaged
// over the batch.
//
//   relative L2:               e_s = ||pred_s - y_s|| / ||y_s||           (all frames and grid points)
//   time-averaged relative Bochner L2 (the Spectral-Refiner's reported "relative L2"; torch-cfd
//   fno/losses.py SobolevLoss(norm_order = 0, relative = true, time_average = true)):
//                              e_s = sqrt(sum_t ||pred_t - y_t||^2) / sqrt(sum_t ||y_t||^2) / sqrt(T)
//
// The second is the first divided by sqrt(T) (6.3 for 40 frames): quote which one a figure is.
#include "neurops/core/tensor.hpp"

namespace neurops::nn {

struct TrajectoryErrors {
  Tensor<double> relative_l2;   // (N,)
  Tensor<double> bochner_l2;    // (N,): relative_l2 / sqrt(T)
  double mean_relative_l2 = 0;  // batch means
  double mean_bochner_l2 = 0;
};

/// Error naming both shapes unless pred and truth are (N, T, n0, n1) of the same shape, and naming
/// the sample whose truth is zero.
template <class T>
TrajectoryErrors trajectory_errors(const Tensor<T>& pred, const Tensor<T>& truth);

}  // namespace neurops::nn
