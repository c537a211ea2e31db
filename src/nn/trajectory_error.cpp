#include "neurops/nn/trajectory_error.hpp"

#include <cmath>

#include "neurops/core/error.hpp"

namespace neurops::nn {

template <class T>
TrajectoryErrors trajectory_errors(const Tensor<T>& pred, const Tensor<T>& truth) {
  NEUROPS_CHECK(pred.rank() == 4 && pred.shape() == truth.shape(),
                "trajectory_errors: prediction " << pred.shape() << " and truth " << truth.shape()
                                                 << " must both be (N, T, n0, n1) of the same shape");
  const index_t n = pred.size(0), frames = pred.size(1), per = pred.numel() / std::max<index_t>(n, 1);
  TrajectoryErrors e;
  e.relative_l2 = Tensor<double>({n});
  e.bochner_l2 = Tensor<double>({n});
  for (index_t s = 0; s < n; ++s) {
    // Accumulated in double: float32 trajectories of 40 frames at 256^2 have 2.6e6 terms.
    double num = 0, den = 0;
    for (index_t i = s * per; i < (s + 1) * per; ++i) {
      const double d = double(pred.data()[i]) - double(truth.data()[i]);
      num += d * d;
      den += double(truth.data()[i]) * double(truth.data()[i]);
    }
    NEUROPS_CHECK(den > 0, "trajectory_errors: the truth of sample " << s << " is zero: no relative error");
    e.relative_l2.data()[s] = std::sqrt(num / den);
    e.bochner_l2.data()[s] = e.relative_l2.data()[s] / std::sqrt(double(frames));
    e.mean_relative_l2 += e.relative_l2.data()[s] / double(n);
    e.mean_bochner_l2 += e.bochner_l2.data()[s] / double(n);
  }
  return e;
}

template TrajectoryErrors trajectory_errors<float>(const Tensor<float>&, const Tensor<float>&);
template TrajectoryErrors trajectory_errors<double>(const Tensor<double>&, const Tensor<double>&);

}  // namespace neurops::nn
