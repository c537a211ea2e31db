#pragma once
// Training losses with their gradient with respect to the prediction.
//
// Tensors are (batch, channels..., spatial...): the last `d` axes are the spatial grid, the first is
// the batch; norms are taken per sample over everything else and reduced over the batch by mean
// (default) or sum.
//
//  * MseLoss:      mean (or sum) of (prediction - target)^2 over all entries, as torch's MSELoss.
//  * LpLoss:       neuraloperator's LpLoss: relative ||pred - y||_p / ||y||_p per sample, or absolute
//                  with the quadrature weight (prod h)^(1/p), h = L/n per spatial axis.
//  * H1Loss:       neuraloperator's H1Loss: sqrt(||e||^2 + sum_j ||D_j e||^2) with D_j the central
//                  difference (e[i+1] - e[i-1]) / (2h) along spatial axis j, periodic (wrap-around)
//                  or not (one-sided differences at the two ends); relative to the same norm of y,
//                  or absolute with the quadrature weight prod h.
//  * SobolevLoss:  the periodic Sobolev norm ||(alpha - Laplacian)^(s/2) e|| on [0, L]^d for any real
//                  s, evaluated exactly on the trigonometric interpolant through Parseval:
//                  ||.||^2 = L^d / N^2 * sum_k (alpha + |2 pi k / L|^2)^s |DFT(e)_k|^2.
//                  s = -1 with alpha = 10^-1.5 is the Spectral-Refiner's H^-1 residual loss.
#include <string>
#include <vector>

#include "neurops/core/tensor.hpp"

namespace neurops::nn {

enum class Reduction { mean, sum };

template <class T>
class Loss {
 public:
  virtual ~Loss() = default;
  /// The loss; with `grad` non-null, also its gradient with respect to `prediction`.
  virtual double evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const = 0;
  double operator()(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const {
    return evaluate(prediction, target, grad);
  }
  /// The loss of a training batch, with the batch's model inputs (physical units) at hand, for
  /// losses that need them: a PDE residual of the prediction, an unsupervised loss whose target is
  /// the input. By default the inputs are not used.
  virtual double evaluate_batch(const Tensor<T>& prediction, const Tensor<T>& target,
                                const std::vector<Tensor<T>>& inputs, Tensor<T>* grad) const {
    return evaluate(prediction, target, grad);
  }
  virtual std::string name() const = 0;
};

template <class T>
class MseLoss : public Loss<T> {
 public:
  explicit MseLoss(Reduction reduction = Reduction::mean) : reduction_(reduction) {}
  double evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const override;
  std::string name() const override { return "MseLoss"; }

 private:
  Reduction reduction_;
};

template <class T>
class LpLoss : public Loss<T> {
 public:
  /// d: number of spatial axes (for the quadrature of the absolute norm); p >= 1.
  explicit LpLoss(int d, double p = 2, bool relative = true, Reduction reduction = Reduction::mean,
                  double domain_length = 1.0);
  double evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const override;
  std::string name() const override { return "LpLoss"; }

 private:
  int d_;
  double p_;
  bool relative_;
  Reduction reduction_;
  double length_;
};

template <class T>
class H1Loss : public Loss<T> {
 public:
  /// periodic: one flag per spatial axis (empty: all periodic).
  explicit H1Loss(int d, std::vector<bool> periodic = {}, bool relative = true, Reduction reduction = Reduction::mean,
                  double domain_length = 1.0);
  double evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const override;
  std::string name() const override { return "H1Loss"; }

 private:
  int d_;
  std::vector<bool> periodic_;
  bool relative_;
  Reduction reduction_;
  double length_;
};

template <class T>
class SobolevLoss : public Loss<T> {
 public:
  /// ||(alpha - Laplacian)^(s/2) (prediction - target)|| per sample, divided by the same norm of the
  /// target when `relative`. alpha must be positive when s < 0.
  SobolevLoss(int d, double s, double alpha, double domain_length = 1.0, bool relative = false,
              Reduction reduction = Reduction::mean);
  double evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad = nullptr) const override;
  std::string name() const override { return "SobolevLoss"; }
  /// Per-sample norms ||(alpha - Laplacian)^(s/2) field|| of a (batch, channels..., grid) tensor.
  std::vector<double> norms(const Tensor<T>& field) const;

 private:
  /// Squared norm of every sample and, when `gradient_of_square` is non-null, its gradient.
  std::vector<double> squared_norms(const Tensor<T>& field, Tensor<T>* gradient_of_square) const;
  int d_;
  double s_, alpha_, length_;
  bool relative_;
  Reduction reduction_;
};

extern template class MseLoss<float>;
extern template class MseLoss<double>;
extern template class LpLoss<float>;
extern template class LpLoss<double>;
extern template class H1Loss<float>;
extern template class H1Loss<double>;
extern template class SobolevLoss<float>;
extern template class SobolevLoss<double>;

}  // namespace neurops::nn
