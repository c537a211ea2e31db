#pragma once
// neurops::Tensor<T>: owning, contiguous, row-major N-d array (rank 1-6) with layout
// (batch, channel, spatial...) as in PyTorch and h5py, so files and peer benchmarks agree without
// transposes. TensorView<T> is the non-owning counterpart returned by slice() and reshaped().
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "neurops/core/aligned_vector.hpp"
#include "neurops/core/error.hpp"
#include "neurops/core/random.hpp"

namespace neurops {

using index_t = std::int64_t;
inline constexpr int kMaxRank = 6;

/// Extents of a tensor, rank 0 (empty) to kMaxRank.
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<index_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(const std::vector<index_t>& dims) { assign(dims.begin(), dims.end()); }

  int rank() const noexcept { return rank_; }
  index_t operator[](int axis) const noexcept { return dims_[static_cast<std::size_t>(axis)]; }
  index_t& operator[](int axis) noexcept { return dims_[static_cast<std::size_t>(axis)]; }
  /// Extent of an axis; negative axes count from the end (-1 is the last).
  index_t dim(int axis) const {
    const int a = axis < 0 ? axis + rank_ : axis;
    NEUROPS_CHECK(a >= 0 && a < rank_, "shape " << str() << ": axis " << axis << " out of range");
    return dims_[static_cast<std::size_t>(a)];
  }
  /// Number of elements (0 for the empty rank-0 shape).
  index_t numel() const noexcept {
    if (rank_ == 0) return 0;
    index_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }
  /// Row-major strides in elements.
  std::array<index_t, kMaxRank> strides() const noexcept {
    std::array<index_t, kMaxRank> s{};
    index_t acc = 1;
    for (int i = rank_ - 1; i >= 0; --i) {
      s[static_cast<std::size_t>(i)] = acc;
      acc *= dims_[static_cast<std::size_t>(i)];
    }
    return s;
  }
  std::vector<index_t> dims() const { return {dims_.begin(), dims_.begin() + rank_}; }
  /// The same shape with one axis replaced.
  Shape with(int axis, index_t extent) const {
    Shape s = *this;
    s[axis < 0 ? axis + rank_ : axis] = extent;
    return s;
  }
  /// Axes [first, rank) as a shape (e.g. the spatial part of (N, C, H, W) is tail(2)).
  Shape tail(int first) const {
    NEUROPS_CHECK(first >= 0 && first <= rank_, "shape " << str() << ": tail(" << first << ") out of range");
    Shape s;  // built in place: shapes are taken on every layer call, which must not allocate
    s.assign(dims_.begin() + first, dims_.begin() + rank_);
    return s;
  }
  /// Product of the extents of axes [first, rank).
  index_t tail_numel(int first) const noexcept {
    index_t n = 1;
    for (int i = first; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }
  bool operator==(const Shape& o) const noexcept {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[static_cast<std::size_t>(i)] != o.dims_[static_cast<std::size_t>(i)]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const noexcept { return !(*this == o); }
  /// "(16, 3, 64, 64)", as numpy prints shapes.
  std::string str() const {
    std::string s = "(";
    for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[static_cast<std::size_t>(i)]);
    return s + (rank_ == 1 ? ",)" : ")");
  }

 private:
  template <class It>
  void assign(It first, It last) {
    const auto n = std::distance(first, last);
    NEUROPS_CHECK(n <= kMaxRank, "Shape: rank " << n << " exceeds the maximum rank " << kMaxRank);
    rank_ = static_cast<int>(n);
    int i = 0;
    for (It it = first; it != last; ++it, ++i) {
      NEUROPS_CHECK(*it >= 0, "Shape: negative extent " << *it << " on axis " << i);
      dims_[static_cast<std::size_t>(i)] = *it;
    }
  }
  std::array<index_t, kMaxRank> dims_{};
  int rank_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

template <class T>
using EigenVectorMap = Eigen::Map<Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, 1>, Eigen::Unaligned>;
template <class T>
using EigenMatrixMap = Eigen::Map<std::conditional_t<
    std::is_const_v<T>, const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
    Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>>;

namespace detail {
template <class T, class... I>
index_t linear_index(const Shape& shape, I... idx) {
  static_assert(sizeof...(I) <= kMaxRank, "too many indices");
  NEUROPS_ASSERT(static_cast<int>(sizeof...(I)) == shape.rank(),
                 "tensor of shape " << shape << " indexed with " << sizeof...(I) << " indices");
  const index_t ids[] = {static_cast<index_t>(idx)...};
  index_t lin = 0;
  for (int a = 0; a < static_cast<int>(sizeof...(I)); ++a) {
    NEUROPS_ASSERT(ids[a] >= 0 && ids[a] < shape[a],
                   "index " << ids[a] << " out of range on axis " << a << " of shape " << shape);
    lin = lin * shape[a] + ids[a];
  }
  return lin;
}
struct AlignedFree {
  void operator()(void* p) const noexcept { aligned_release(p); }
};
}  // namespace detail

/// Non-owning view of contiguous row-major data. T may be const.
template <class T>
class TensorView {
 public:
  using value_type = std::remove_const_t<T>;
  TensorView() = default;
  TensorView(T* data, Shape shape) : data_(data), shape_(shape) {}
  /// A view of mutable data converts to a view of const data.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  TensorView(const TensorView<U>& o) : data_(o.data()), shape_(o.shape()) {}

  T* data() const noexcept { return data_; }
  const Shape& shape() const noexcept { return shape_; }
  int rank() const noexcept { return shape_.rank(); }
  index_t size(int axis) const { return shape_.dim(axis); }
  index_t numel() const noexcept { return shape_.numel(); }
  T* begin() const noexcept { return data_; }
  T* end() const noexcept { return data_ + numel(); }
  T& operator[](index_t i) const noexcept { return data_[i]; }
  template <class... I>
  T& operator()(I... idx) const {
    return data_[detail::linear_index<T>(shape_, idx...)];
  }
  /// Rows [begin, end) along the first axis.
  TensorView slice(index_t begin, index_t end) const {
    NEUROPS_CHECK(rank() >= 1 && 0 <= begin && begin <= end && end <= shape_[0],
                  "slice [" << begin << ", " << end << ") out of range for shape " << shape_);
    return TensorView(data_ + begin * shape_.tail_numel(1), shape_.with(0, end - begin));
  }
  /// Sample i along the first axis, with that axis kept (extent 1).
  TensorView sample(index_t i) const { return slice(i, i + 1); }
  TensorView reshaped(const Shape& s) const {
    NEUROPS_CHECK(s.numel() == numel(), "reshape from " << shape_ << " to " << s << ": element counts differ");
    return TensorView(data_, s);
  }
  EigenVectorMap<T> vec() const { return EigenVectorMap<T>(const_cast<value_type*>(data_), numel()); }
  /// (size(0), numel/size(0)) row-major matrix view, or any (rows, cols) with the same count.
  EigenMatrixMap<T> matrix() const { return matrix(shape_[0], numel() / std::max<index_t>(shape_[0], 1)); }
  EigenMatrixMap<T> matrix(index_t rows, index_t cols) const {
    NEUROPS_CHECK(rows * cols == numel(), "matrix view " << rows << "x" << cols << " of shape " << shape_);
    return EigenMatrixMap<T>(data_, rows, cols);
  }

 private:
  T* data_ = nullptr;
  Shape shape_;
};

/// Owning contiguous tensor with value semantics (copies are deep; moves are free).
template <class T>
class Tensor {
  static_assert(std::is_arithmetic_v<T>, "Tensor holds arithmetic types");

 public:
  using value_type = T;
  static constexpr std::size_t kAlignment = kBufferAlignment;

  Tensor() = default;
  /// Zero-initialised tensor of the given shape.
  explicit Tensor(const Shape& shape) : Tensor(shape, T(0)) {}
  Tensor(const Shape& shape, T value) : shape_(shape), data_(allocate(shape.numel())) { fill(value); }
  /// Deep copy of a view.
  explicit Tensor(TensorView<const T> v) : shape_(v.shape()), data_(allocate(v.numel())) {
    if (v.numel()) std::memcpy(data(), v.data(), sizeof(T) * static_cast<std::size_t>(v.numel()));
  }
  explicit Tensor(TensorView<T> v) : Tensor(TensorView<const T>(v)) {}
  Tensor(const Shape& shape, const std::vector<T>& values) : Tensor(shape) {
    NEUROPS_CHECK(static_cast<index_t>(values.size()) == shape.numel(),
                  "Tensor of shape " << shape << " needs " << shape.numel() << " values, got " << values.size());
    std::copy(values.begin(), values.end(), data());
  }

  /// Storage without initialisation, for outputs that are written in full right away.
  static Tensor uninitialized(const Shape& shape) {
    Tensor t;
    t.shape_ = shape;
    t.data_ = allocate(shape.numel());
    return t;
  }
  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  static Tensor full(const Shape& shape, T value) { return Tensor(shape, value); }
  static Tensor randn(const Shape& shape, Rng& rng, double mean = 0, double stddev = 1) {
    Tensor t = uninitialized(shape);
    for (auto& v : t) v = static_cast<T>(rng.normal(mean, stddev));
    return t;
  }
  static Tensor rand(const Shape& shape, Rng& rng, double lo = 0, double hi = 1) {
    Tensor t = uninitialized(shape);
    for (auto& v : t) v = static_cast<T>(rng.uniform(lo, hi));
    return t;
  }

  Tensor(const Tensor& o) : Tensor(o.view()) {}
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(const Tensor& o) {
    if (this != &o) {
      if (o.numel() != numel()) data_ = allocate(o.numel());
      shape_ = o.shape_;
      if (numel()) std::memcpy(data(), o.data(), sizeof(T) * static_cast<std::size_t>(numel()));
    }
    return *this;
  }
  Tensor& operator=(Tensor&&) noexcept = default;

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  const Shape& shape() const noexcept { return shape_; }
  int rank() const noexcept { return shape_.rank(); }
  index_t size(int axis) const { return shape_.dim(axis); }
  index_t numel() const noexcept { return shape_.numel(); }
  bool empty() const noexcept { return numel() == 0; }
  std::array<index_t, kMaxRank> strides() const noexcept { return shape_.strides(); }

  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + numel(); }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + numel(); }
  T& operator[](index_t i) noexcept { return data_.get()[i]; }
  const T& operator[](index_t i) const noexcept { return data_.get()[i]; }
  template <class... I>
  T& operator()(I... idx) {
    return data()[detail::linear_index<T>(shape_, idx...)];
  }
  template <class... I>
  const T& operator()(I... idx) const {
    return data()[detail::linear_index<T>(shape_, idx...)];
  }

  void fill(T value) { std::fill(begin(), end(), value); }
  void zero() { fill(T(0)); }

  /// Changes the shape in place without copying; the element count must not change.
  Tensor& reshape(const Shape& s) {
    NEUROPS_CHECK(s.numel() == numel(), "reshape from " << shape_ << " to " << s << ": element counts differ");
    shape_ = s;
    return *this;
  }
  TensorView<T> view() noexcept { return {data(), shape_}; }
  TensorView<const T> view() const noexcept { return {data(), shape_}; }
  operator TensorView<T>() noexcept { return view(); }
  operator TensorView<const T>() const noexcept { return view(); }
  TensorView<T> reshaped(const Shape& s) { return view().reshaped(s); }
  TensorView<const T> reshaped(const Shape& s) const { return view().reshaped(s); }
  TensorView<T> slice(index_t begin, index_t end) { return view().slice(begin, end); }
  TensorView<const T> slice(index_t begin, index_t end) const { return view().slice(begin, end); }
  TensorView<T> sample(index_t i) { return view().sample(i); }
  TensorView<const T> sample(index_t i) const { return view().sample(i); }

  EigenVectorMap<T> vec() { return view().vec(); }
  EigenVectorMap<const T> vec() const { return view().vec(); }
  EigenMatrixMap<T> matrix() { return view().matrix(); }
  EigenMatrixMap<const T> matrix() const { return view().matrix(); }
  EigenMatrixMap<T> matrix(index_t r, index_t c) { return view().matrix(r, c); }
  EigenMatrixMap<const T> matrix(index_t r, index_t c) const { return view().matrix(r, c); }

  template <class U>
  Tensor<U> cast() const {
    Tensor<U> out = Tensor<U>::uninitialized(shape_);
    std::transform(begin(), end(), out.begin(), [](T v) { return static_cast<U>(v); });
    return out;
  }

 private:
  static std::unique_ptr<T[], detail::AlignedFree> allocate(index_t n) {
    if (n <= 0) return nullptr;
    const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(n);
    void* p = aligned_allocate(bytes);
    if (!p) NEUROPS_THROW("Tensor: out of memory allocating " << bytes << " bytes");
    return std::unique_ptr<T[], detail::AlignedFree>(static_cast<T*>(p));
  }

  Shape shape_;
  std::unique_ptr<T[], detail::AlignedFree> data_;
};

/// Throws a neurops::Error naming `what` unless `shape` matches `expected`, where -1 in `expected`
/// matches any extent: check_shape(x.shape(), {-1, 3, -1, -1}, "FNO input").
void check_shape(const Shape& shape, const std::vector<index_t>& expected, const std::string& what);
std::string shape_pattern(const std::vector<index_t>& expected);

}  // namespace neurops
