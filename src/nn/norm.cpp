#include "neurops/nn/norm.hpp"

#include <omp.h>

#include <cmath>

namespace neurops::nn {

namespace {
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Normalises each row of X (rows x m) in place into `xhat`, returning 1/sqrt(var + eps) per row.
// Statistics are accumulated in double for float inputs too.
template <class T>
void normalize_rows(const T* x, T* xhat, T* inv_std, index_t rows, index_t m, double eps) {
#pragma omp parallel for schedule(static) if (rows * m > 16384)
  for (index_t r = 0; r < rows; ++r) {
    const T* xr = x + r * m;
    double mean = 0;
    for (index_t j = 0; j < m; ++j) mean += xr[j];
    mean /= double(m);
    double var = 0;
    for (index_t j = 0; j < m; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    var /= double(m);
    const double rs = 1.0 / std::sqrt(var + eps);
    T* hr = xhat + r * m;
    for (index_t j = 0; j < m; ++j) hr[j] = static_cast<T>((xr[j] - mean) * rs);
    inv_std[r] = static_cast<T>(rs);
  }
}

// dx row = inv_std * (g - mean(g) - xhat * mean(g * xhat)), with g = dL/dxhat (rows x m, in place).
template <class T>
void normalize_rows_backward(T* g_to_dx, const T* xhat, const T* inv_std, index_t rows, index_t m) {
#pragma omp parallel for schedule(static) if (rows * m > 16384)
  for (index_t r = 0; r < rows; ++r) {
    T* gr = g_to_dx + r * m;
    const T* hr = xhat + r * m;
    double mg = 0, mgh = 0;
    for (index_t j = 0; j < m; ++j) {
      mg += gr[j];
      mgh += double(gr[j]) * hr[j];
    }
    mg /= double(m);
    mgh /= double(m);
    const double rs = inv_std[r];
    for (index_t j = 0; j < m; ++j) gr[j] = static_cast<T>(rs * (gr[j] - mg - hr[j] * mgh));
  }
}
}  // namespace

// ---- LayerNorm ------------------------------------------------------------------------------------

template <class T>
LayerNorm<T>::LayerNorm(Over over, const Shape& shape, double eps, bool affine)
    : over_(over), shape_(shape), eps_(eps), affine_(affine) {
  NEUROPS_CHECK(shape.rank() >= 1 && shape.numel() > 0,
                "LayerNorm: normalised shape must be non-empty, found " << shape);
  NEUROPS_CHECK(eps > 0, "LayerNorm: eps must be positive, found " << eps);
  if (affine_) {
    weight_ = Parameter<T>(Tensor<T>(shape, T(1)));
    bias_ = Parameter<T>(Tensor<T>(shape));
  }
}

template <class T>
LayerNorm<T> LayerNorm<T>::over_channels(index_t channels, double eps, bool affine) {
  return LayerNorm(Over::Channels, Shape({channels}), eps, affine);
}

template <class T>
LayerNorm<T> LayerNorm<T>::over_trailing(const Shape& normalized_shape, double eps, bool affine) {
  return LayerNorm(Over::Trailing, normalized_shape, eps, affine);
}

template <class T>
void LayerNorm<T>::for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) {
  if (!affine_) return;
  fn("weight", weight_);
  fn("bias", bias_);
}

template <class T>
Tensor<T> LayerNorm<T>::forward(const Tensor<T>& x) {
  Tensor<T> xhat = Tensor<T>::uninitialized(x.shape());
  Tensor<T> inv_std;
  Tensor<T> y = Tensor<T>::uninitialized(x.shape());
  if (over_ == Over::Channels) {
    const index_t c = shape_[0];
    NEUROPS_CHECK(x.rank() >= 2 && x.size(1) == c, "LayerNorm: expected input (N, "
                                                       << c << ", spatial...) normalised over channels, found "
                                                       << x.shape());
    const index_t batch = x.size(0), points = x.shape().tail_numel(2);
    inv_std = Tensor<T>::uninitialized({batch, points});
#pragma omp parallel for schedule(static) if (x.numel() > 16384)
    for (index_t n = 0; n < batch; ++n) {
      // Statistics in double over the channel axis, vectorised over grid points.
      const auto X = EigenMatrixMap<const T>(x.data() + n * c * points, c, points).template cast<double>();
      const Eigen::RowVectorXd mean = X.colwise().mean();
      const RowMatrix centered = X.rowwise() - mean;
      const Eigen::RowVectorXd rs =
          ((centered.array().square().colwise().sum() / double(c)) + eps_).sqrt().inverse().matrix();
      auto H = EigenMatrixMap<T>(xhat.data() + n * c * points, c, points);
      H = (centered.array().rowwise() * rs.array()).matrix().template cast<T>();
      EigenMatrixMap<T>(inv_std.data() + n * points, 1, points) = rs.template cast<T>();
      auto Y = EigenMatrixMap<T>(y.data() + n * c * points, c, points);
      if (affine_)
        Y = (H.array().colwise() * weight_.value.vec().array()).colwise() + bias_.value.vec().array();
      else
        Y = H;
    }
  } else {
    const int k = shape_.rank();
    NEUROPS_CHECK(x.rank() >= k && x.shape().tail(x.rank() - k) == shape_,
                  "LayerNorm: expected input (..., " << shape_.str().substr(1)
                                                     << " normalised over its trailing axes, found " << x.shape());
    const index_t m = shape_.numel(), rows = x.numel() / m;
    inv_std = Tensor<T>::uninitialized({rows});
    normalize_rows(x.data(), xhat.data(), inv_std.data(), rows, m, eps_);
    auto Y = y.matrix(rows, m);
    const auto H = xhat.matrix(rows, m);
    if (affine_)
      Y = (H.array().rowwise() * weight_.value.vec().transpose().array()).rowwise() +
          bias_.value.vec().transpose().array();
    else
      Y = H;
  }
  if (this->training()) {
    normalized_ = std::move(xhat);
    inv_std_ = std::move(inv_std);
  }
  return y;
}

template <class T>
Tensor<T> LayerNorm<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!normalized_.empty());
  NEUROPS_CHECK(dy.shape() == normalized_.shape(),
                "LayerNorm: output gradient has shape " << dy.shape() << ", expected " << normalized_.shape());
  Tensor<T> dx = Tensor<T>::uninitialized(dy.shape());
  if (over_ == Over::Channels) {
    const index_t c = shape_[0], batch = dy.size(0), points = dy.shape().tail_numel(2);
    for (index_t n = 0; n < batch; ++n) {
      const auto DY = EigenMatrixMap<const T>(dy.data() + n * c * points, c, points);
      const auto H = EigenMatrixMap<const T>(normalized_.data() + n * c * points, c, points);
      if (affine_) {
        weight_.grad.vec() += DY.cwiseProduct(H).rowwise().sum();
        bias_.grad.vec() += DY.rowwise().sum();
      }
      RowMatrix G = DY.template cast<double>();
      if (affine_) G = G.array().colwise() * weight_.value.vec().template cast<double>().array();
      const Eigen::RowVectorXd mg = G.colwise().mean();
      const RowMatrix Hd = H.template cast<double>();
      const Eigen::RowVectorXd mgh = G.cwiseProduct(Hd).colwise().mean();
      const Eigen::RowVectorXd rs =
          EigenMatrixMap<const T>(inv_std_.data() + n * points, 1, points).template cast<double>();
      RowMatrix DX = (G.rowwise() - mg) - (Hd.array().rowwise() * mgh.array()).matrix();
      EigenMatrixMap<T>(dx.data() + n * c * points, c, points) =
          (DX.array().rowwise() * rs.array()).matrix().template cast<T>();
    }
  } else {
    const index_t m = shape_.numel(), rows = dy.numel() / m;
    const auto DY = dy.matrix(rows, m);
    const auto H = normalized_.matrix(rows, m);
    auto G = dx.matrix(rows, m);
    if (affine_) {
      weight_.grad.vec() += DY.cwiseProduct(H).colwise().sum().transpose();
      bias_.grad.vec() += DY.colwise().sum().transpose();
      G = DY.array().rowwise() * weight_.value.vec().transpose().array();
    } else {
      G = DY;
    }
    normalize_rows_backward(dx.data(), normalized_.data(), inv_std_.data(), rows, m);
  }
  return dx;
}

// ---- GroupNorm ------------------------------------------------------------------------------------

template <class T>
GroupNorm<T>::GroupNorm(index_t groups, index_t channels, double eps, bool affine)
    : groups_(groups), channels_(channels), eps_(eps), affine_(affine) {
  NEUROPS_CHECK(groups >= 1 && channels >= 1 && channels % groups == 0,
                "GroupNorm: channels (" << channels << ") must be a positive multiple of groups (" << groups << ")");
  NEUROPS_CHECK(eps > 0, "GroupNorm: eps must be positive, found " << eps);
  if (affine_) {
    weight_ = Parameter<T>(Tensor<T>({channels}, T(1)));
    bias_ = Parameter<T>(Tensor<T>({channels}));
  }
}

template <class T>
void GroupNorm<T>::for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) {
  if (!affine_) return;
  fn("weight", weight_);
  fn("bias", bias_);
}

template <class T>
Tensor<T> GroupNorm<T>::forward(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() >= 3 && x.size(1) == channels_,
                "GroupNorm: expected input (N, " << channels_ << ", spatial...), found " << x.shape());
  const index_t batch = x.size(0), points = x.shape().tail_numel(2), rows = batch * groups_;
  const index_t m = channels_ / groups_ * points;
  Tensor<T> xhat = Tensor<T>::uninitialized(x.shape());
  Tensor<T> inv_std = Tensor<T>::uninitialized({batch, groups_});
  normalize_rows(x.data(), xhat.data(), inv_std.data(), rows, m, eps_);
  Tensor<T> y = Tensor<T>::uninitialized(x.shape());
  auto Y = y.matrix(batch * channels_, points);
  const auto H = xhat.matrix(batch * channels_, points);
  for (index_t r = 0; r < batch * channels_; ++r) {
    const index_t c = r % channels_;
    if (affine_)
      Y.row(r) = H.row(r) * weight_.value[c] + Eigen::Matrix<T, 1, Eigen::Dynamic>::Constant(points, bias_.value[c]);
    else
      Y.row(r) = H.row(r);
  }
  if (this->training()) {
    normalized_ = std::move(xhat);
    inv_std_ = std::move(inv_std);
  }
  return y;
}

template <class T>
Tensor<T> GroupNorm<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!normalized_.empty());
  NEUROPS_CHECK(dy.shape() == normalized_.shape(),
                "GroupNorm: output gradient has shape " << dy.shape() << ", expected " << normalized_.shape());
  const index_t batch = dy.size(0), points = dy.shape().tail_numel(2);
  const index_t m = channels_ / groups_ * points;
  Tensor<T> dx = Tensor<T>::uninitialized(dy.shape());
  const auto DY = dy.matrix(batch * channels_, points);
  const auto H = normalized_.matrix(batch * channels_, points);
  auto G = dx.matrix(batch * channels_, points);
  for (index_t r = 0; r < batch * channels_; ++r) {
    const index_t c = r % channels_;
    if (affine_) {
      weight_.grad[c] += DY.row(r).dot(H.row(r));
      bias_.grad[c] += DY.row(r).sum();
      G.row(r) = DY.row(r) * weight_.value[c];
    } else {
      G.row(r) = DY.row(r);
    }
  }
  normalize_rows_backward(dx.data(), normalized_.data(), inv_std_.data(), batch * groups_, m);
  return dx;
}

template class LayerNorm<float>;
template class LayerNorm<double>;
template class GroupNorm<float>;
template class GroupNorm<double>;

}  // namespace neurops::nn
