#include "neurops/nn/pointwise_ffn.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <vector>

#include "neurops/core/aligned_vector.hpp"
#include "neurops/nn/init.hpp"

namespace neurops::nn {

namespace {

/// Grid points per tile: the hidden activations of a tile (hidden x kTile) stay in L2.
constexpr index_t kTile = 256;
/// Work (multiply-adds) below which the layer runs on one thread.
constexpr index_t kParallelWork = index_t(1) << 18;

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Shape weight_shape(index_t out, index_t in, int dims) {
  std::vector<index_t> s{out, in};
  for (int a = 0; a < dims; ++a) s.push_back(1);
  return Shape(s);
}

}  // namespace

template <class T>
PointwiseFfn<T>::PointwiseFfn(int dims, index_t in_channels, index_t hidden_channels, index_t out_channels,
                              ActivationKind activation, Rng& rng)
    : dims_(dims), in_(in_channels), hidden_(hidden_channels), out_(out_channels), activation_(activation) {
  NEUROPS_CHECK(dims_ >= 1 && dims_ <= 3, "PointwiseFfn: dims must be 1, 2 or 3, found " << dims_);
  NEUROPS_CHECK(in_ >= 1 && hidden_ >= 1 && out_ >= 1,
                "PointwiseFfn: channels in " << in_ << ", hidden " << hidden_ << ", out " << out_ << " must be >= 1");
  w1_ = Parameter<T>(Tensor<T>(weight_shape(hidden_, in_, dims_)));
  b1_ = Parameter<T>(Tensor<T>(Shape{hidden_}));
  w2_ = Parameter<T>(Tensor<T>(weight_shape(out_, hidden_, dims_)));
  b2_ = Parameter<T>(Tensor<T>(Shape{out_}));
  init::torch_default(w1_.value, &b1_.value, rng);
  init::torch_default(w2_.value, &b2_.value, rng);
}

template <class T>
void PointwiseFfn<T>::for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) {
  fn("linear1.weight", w1_);
  fn("linear1.bias", b1_);
  fn("linear2.weight", w2_);
  fn("linear2.bias", b2_);
}

template <class T>
void PointwiseFfn<T>::check_input(const Shape& s) const {
  NEUROPS_CHECK(s.rank() == dims_ + 2 && s[1] == in_,
                type_name() << ": expected input (N, " << in_ << ", " << dims_ << " spatial axes), found " << s);
}

template <class T>
Tensor<T> PointwiseFfn<T>::forward(const Tensor<T>& x) {
  check_input(x.shape());
  const index_t n = x.size(0), P = x.shape().tail_numel(2), tiles = (P + kTile - 1) / kTile;
  Tensor<T> y = Tensor<T>::uninitialized(x.shape().with(1, out_));
  const auto W1 = w1_.value.matrix(hidden_, in_);
  const auto W2 = w2_.value.matrix(out_, hidden_);
  const auto b1 = b1_.value.vec(), b2 = b2_.value.vec();
#pragma omp parallel if (n * P * hidden_ * (in_ + out_) > kParallelWork)
  {
    // Whole-buffer activations (one call per tile, not per row); the columns past a short last tile
    // hold finite leftovers that nothing reads.
    // The tile's hidden activations live in a buffer-cache block (AlignedVector, zeroed), so that
    // repeated inference calls take no memory from the system.
    AlignedVector<T> h_storage(static_cast<std::size_t>(hidden_ * kTile));
    Eigen::Map<RowMatrix<T>> h(h_storage.data(), hidden_, kTile);
#pragma omp for schedule(static)
    for (index_t job = 0; job < n * tiles; ++job) {
      const index_t s = job / tiles, b = (job % tiles) * kTile, len = std::min(kTile, P - b);
      const auto X = EigenMatrixMap<const T>(x.data() + s * in_ * P, in_, P).middleCols(b, len);
      auto Y = EigenMatrixMap<T>(y.data() + s * out_ * P, out_, P).middleCols(b, len);
      auto H = h.leftCols(len);
      H.noalias() = W1 * X;
      H.colwise() += b1;
      activation_forward(activation_, h.data(), h.data(), hidden_ * kTile);
      Y.noalias() = W2 * H;
      Y.colwise() += b2;
    }
  }
  if (this->training()) input_ = x;
  return y;
}

template <class T>
Tensor<T> PointwiseFfn<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!input_.empty());
  const Shape expected = input_.shape().with(1, out_);
  NEUROPS_CHECK(dy.shape() == expected,
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << expected);
  const index_t n = input_.size(0), P = input_.shape().tail_numel(2), tiles = (P + kTile - 1) / kTile;
  Tensor<T> dx = Tensor<T>::uninitialized(input_.shape());
  const auto W1 = w1_.value.matrix(hidden_, in_);
  const auto W2 = w2_.value.matrix(out_, hidden_);
  const auto b1 = b1_.value.vec();
  const int threads = omp_get_max_threads();
  // Per-thread partial sums of the parameter gradients, reduced in thread order: the result does not
  // depend on timing.
  std::vector<RowMatrix<T>> gw1(static_cast<std::size_t>(threads), RowMatrix<T>::Zero(hidden_, in_));
  std::vector<RowMatrix<T>> gw2(static_cast<std::size_t>(threads), RowMatrix<T>::Zero(out_, hidden_));
  std::vector<Eigen::Matrix<T, Eigen::Dynamic, 1>> gb1(static_cast<std::size_t>(threads),
                                                       Eigen::Matrix<T, Eigen::Dynamic, 1>::Zero(hidden_));
  std::vector<Eigen::Matrix<T, Eigen::Dynamic, 1>> gb2(static_cast<std::size_t>(threads),
                                                       Eigen::Matrix<T, Eigen::Dynamic, 1>::Zero(out_));
#pragma omp parallel if (n * P * hidden_ * (in_ + out_) > kParallelWork)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    RowMatrix<T> h = RowMatrix<T>::Zero(hidden_, kTile), a = h, da = h;
#pragma omp for schedule(static)
    for (index_t job = 0; job < n * tiles; ++job) {
      const index_t s = job / tiles, b = (job % tiles) * kTile, len = std::min(kTile, P - b);
      const auto X = EigenMatrixMap<const T>(input_.data() + s * in_ * P, in_, P).middleCols(b, len);
      const auto DY = EigenMatrixMap<const T>(dy.data() + s * out_ * P, out_, P).middleCols(b, len);
      auto DX = EigenMatrixMap<T>(dx.data() + s * in_ * P, in_, P).middleCols(b, len);
      auto H = h.leftCols(len);
      auto A = a.leftCols(len);
      auto DA = da.leftCols(len);
      // Recompute the tile's hidden pre-activation and activation.
      H.noalias() = W1 * X;
      H.colwise() += b1;
      activation_forward(activation_, h.data(), a.data(), hidden_ * kTile);
      gw2[t].noalias() += DY * A.transpose();
      gb2[t] += DY.rowwise().sum();
      DA.noalias() = W2.transpose() * DY;
      activation_backward(activation_, h.data(), da.data(), da.data(), hidden_ * kTile);
      gw1[t].noalias() += DA * X.transpose();
      gb1[t] += DA.rowwise().sum();
      DX.noalias() = W1.transpose() * DA;
    }
  }
  auto G1 = w1_.grad.matrix(hidden_, in_);
  auto G2 = w2_.grad.matrix(out_, hidden_);
  for (int t = 0; t < threads; ++t) {
    G1 += gw1[static_cast<std::size_t>(t)];
    G2 += gw2[static_cast<std::size_t>(t)];
    b1_.grad.vec() += gb1[static_cast<std::size_t>(t)];
    b2_.grad.vec() += gb2[static_cast<std::size_t>(t)];
  }
  return dx;
}

template class PointwiseFfn<float>;
template class PointwiseFfn<double>;

}  // namespace neurops::nn
