#pragma once
// Relative L2 loss in the frequency domain (Transform Once's RelativeL2DCT, kairos
// src/losses/relative_l2.py): the prediction is a spectrum (the orthonormal DCT-II over the last `d`
// axes of a field), the target is a field, and the loss is mean_b ||pred_b - DCT(y_b)|| / ||DCT(y_b)||.
// A model without an inverse transform (T1 with perform_inverse off) trains against it without ever
// leaving the frequency domain. The DCT is orthonormal, so the value equals the relative L2 error of
// the inverse-transformed prediction in physical space.
//
//   nn::RelativeL2DctLoss<float> loss(2);
//   double l = loss.evaluate(t1.forward(a), u, &grad);   // grad: d l / d spectrum
#include "neurops/nn/loss.hpp"

namespace neurops::nn {

template <class T>
class RelativeL2DctLoss : public Loss<T> {
 public:
  /// d: number of trailing (spatial) axes the DCT runs over.
  explicit RelativeL2DctLoss(int d, Reduction reduction = Reduction::mean);
  double evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const override;
  std::string name() const override { return "RelativeL2DctLoss"; }

 private:
  int d_;
  LpLoss<T> l2_;
};

extern template class RelativeL2DctLoss<float>;
extern template class RelativeL2DctLoss<double>;

}  // namespace neurops::nn
