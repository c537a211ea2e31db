#include "neurops/nn/dct_loss.hpp"

#include "neurops/nn/transforms.hpp"

namespace neurops::nn {

template <class T>
RelativeL2DctLoss<T>::RelativeL2DctLoss(int d, Reduction reduction) : d_(d), l2_(d, 2.0, true, reduction) {
  NEUROPS_CHECK(d >= 1 && d <= 3, name() << ": expected 1 to 3 spatial axes, found " << d);
}

template <class T>
double RelativeL2DctLoss<T>::evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad) const {
  NEUROPS_CHECK(prediction.shape() == target.shape(),
                name() << ": prediction " << prediction.shape() << " and target " << target.shape() << " differ");
  NEUROPS_CHECK(target.rank() >= d_ + 1,
                name() << ": expected (batch, ..., " << d_ << " spatial axes), found " << target.shape());
  // The spectrum is a fixed linear function of the target: the gradient with respect to the
  // prediction is that of the plain relative L2 loss against it.
  return l2_.evaluate(prediction, dct_ortho(target, d_, false), grad);
}

template class RelativeL2DctLoss<float>;
template class RelativeL2DctLoss<double>;

}  // namespace neurops::nn
