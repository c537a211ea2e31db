#include "neurops/nn/data.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "neurops/core/random.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/io/petsc_fields.hpp"

namespace neurops::nn {

template <class T>
Tensor<T> gather_rows(TensorView<const T> data, const std::vector<index_t>& indices) {
  NEUROPS_CHECK(data.rank() >= 1, "gather_rows: expected at least rank 1, found " << data.shape());
  const index_t row = data.shape().tail_numel(1);
  Tensor<T> out = Tensor<T>::uninitialized(data.shape().with(0, static_cast<index_t>(indices.size())));
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const index_t r = indices[i];
    NEUROPS_CHECK(r >= 0 && r < data.size(0), "gather_rows: index " << r << " out of range for " << data.shape());
    std::memcpy(out.data() + static_cast<index_t>(i) * row, data.data() + r * row,
                sizeof(T) * static_cast<std::size_t>(row));
  }
  return out;
}

template <class T>
Tensor<T> subsample_grid(TensorView<const T> data, index_t stride) {
  NEUROPS_CHECK(stride >= 1, "subsample_grid: stride must be >= 1, found " << stride);
  NEUROPS_CHECK(data.rank() >= 3, "subsample_grid: expected (N, C, spatial...), found " << data.shape());
  if (stride == 1) return Tensor<T>(data);
  const Shape& in = data.shape();
  Shape out_shape = in;
  for (int a = 2; a < in.rank(); ++a) out_shape[a] = (in[a] + stride - 1) / stride;
  Tensor<T> out = Tensor<T>::uninitialized(out_shape);
  const auto si = in.strides();
  const index_t outer = in[0] * in[1];
  const int nsp = in.rank() - 2;
  const index_t per_out = out_shape.tail_numel(2);
  for (index_t o = 0; o < outer; ++o) {
    const T* src = data.data() + o * in.tail_numel(2);
    T* dst = out.data() + o * per_out;
    for (index_t k = 0; k < per_out; ++k) {
      index_t rem = k, off = 0;
      for (int a = nsp - 1; a >= 0; --a) {
        const index_t ext = out_shape[2 + a];
        off += (rem % ext) * stride * si[static_cast<std::size_t>(2 + a)];
        rem /= ext;
      }
      dst[k] = src[off];
    }
  }
  return out;
}

namespace {
/// Error naming the sample and entry of the first NaN or Inf: bad data, not a diverging training.
template <class T>
void check_finite(const Tensor<T>& t, const std::string& what, const std::string& name) {
  if (t.empty() || t.vec().allFinite()) return;
  const T* p = std::find_if(t.begin(), t.end(), [](T v) { return !std::isfinite(v); });
  const index_t i = p - t.begin(), per_sample = t.shape().tail_numel(1);
  NEUROPS_THROW(what << ": " << name << " of sample " << i / per_sample << " hold a non-finite value (" << *p
                     << " at entry " << i % per_sample << " of " << per_sample << "); the data are corrupt");
}
}  // namespace

template <class T>
void FieldDataset<T>::validate(const std::string& what) const {
  NEUROPS_CHECK(inputs.rank() >= 3 && targets.rank() >= 3,
                what << ": expected inputs and targets of shape (N, C, spatial...), found " << inputs.shape() << " and "
                     << targets.shape());
  NEUROPS_CHECK(inputs.size(0) == targets.size(0), what << ": inputs have " << inputs.size(0) << " samples, targets "
                                                        << targets.size(0) << " (shapes " << inputs.shape() << " and "
                                                        << targets.shape() << ")");
  NEUROPS_CHECK(inputs.shape().tail(2) == targets.shape().tail(2),
                what << ": inputs and targets are on different grids: " << inputs.shape() << " vs " << targets.shape());
  check_finite(inputs, what, "the inputs");
  check_finite(targets, what, "the targets");
}

template <class T>
FieldDataset<T> FieldDataset<T>::load(const std::filesystem::path& file, const std::string& input_name,
                                      const std::string& target_name, index_t stride, index_t max_samples) {
  auto f = io::H5File::open(file);
  const Shape si = f.shape(input_name), st = f.shape(target_name);
  NEUROPS_CHECK(si.rank() >= 1 && st.rank() >= 1 && si[0] == st[0],
                "'" << file.string() << "': " << input_name << " has shape " << si << " but " << target_name << " has "
                    << st << " (the sample counts must agree)");
  index_t rows = si[0];
  if (f.has_attr("/", "completed")) {  // a neurops_generate file: rows past the counter are an unfinished chunk
    const std::int64_t done = f.attr_int("/", "completed");
    NEUROPS_CHECK(done >= 0 && done <= rows, "'" << file.string() << "': the counter /completed = " << done
                                                 << " does not fit the " << rows << " rows of " << input_name);
    NEUROPS_CHECK(done > 0, "'" << file.string() << "': no completed sample (/completed = 0): was the generation "
                                << "interrupted before its first chunk? Resume it with neurops_generate -gen_resume");
    rows = done;
  }
  const index_t n = max_samples >= 0 ? std::min(max_samples, rows) : rows;
  FieldDataset d{f.read_rows<T>(input_name, 0, n), f.read_rows<T>(target_name, 0, n)};
  d.validate("dataset '" + file.string() + "'");
  return stride > 1 ? d.subsampled(stride) : d;
}

template <class T>
FieldDataset<T> FieldDataset<T>::load_petsc(const std::filesystem::path& file, const std::string& input_name,
                                            const std::string& target_name, int dim, index_t stride,
                                            index_t max_samples) {
  Tensor<T> in = io::read_petsc_field<T>(file, input_name, dim);
  Tensor<T> out = io::read_petsc_field<T>(file, target_name, dim);
  NEUROPS_CHECK(in.size(0) == out.size(0), "'" << file.string() << "': " << input_name << " holds " << in.size(0)
                                               << " time steps but " << target_name << " holds " << out.size(0)
                                               << " (the sample counts must agree)");
  const index_t n = max_samples >= 0 ? std::min(max_samples, in.size(0)) : in.size(0);
  FieldDataset d{Tensor<T>(in.view().slice(0, n)), Tensor<T>(out.view().slice(0, n))};
  d.validate("dataset '" + file.string() + "'");
  return stride > 1 ? d.subsampled(stride) : d;
}

template <class T>
FieldDataset<T> FieldDataset<T>::subset(const std::vector<index_t>& indices) const {
  return {gather_rows<T>(inputs.view(), indices), gather_rows<T>(targets.view(), indices)};
}

template <class T>
void FieldDataset<T>::save(const std::filesystem::path& file, const std::string& input_name,
                           const std::string& target_name) const {
  validate("dataset written to '" + file.string() + "'");
  auto f = io::H5File::create(file);
  f.write(input_name, inputs);
  f.write(target_name, targets);
  f.commit();
}

template <class T>
void OperatorTriples<T>::save(const std::filesystem::path& file) const {
  validate("DeepONet data written to '" + file.string() + "'");
  auto f = io::H5File::create(file);
  f.write("/branch", branch);
  f.write("/trunk", trunk);
  f.write("/values", values);
  f.set_attr("/", "cartesian", std::int64_t(cartesian));
  f.commit();
}

template <class T>
Batch<T> FieldDataset<T>::batch(const std::vector<index_t>& rows) const {
  Batch<T> b;
  b.inputs.push_back(gather_rows<T>(inputs.view(), rows));
  b.targets = gather_rows<T>(targets.view(), rows);
  return b;
}

template <class T>
std::vector<index_t> FieldDataset<T>::grid() const {
  std::vector<index_t> g;
  for (int a = 2; a < inputs.rank(); ++a) g.push_back(inputs.size(a));
  return g;
}

template <class T>
FieldDataset<T> FieldDataset<T>::subsampled(index_t stride) const {
  return {subsample_grid<T>(inputs.view(), stride), subsample_grid<T>(targets.view(), stride)};
}

template <class T>
void OperatorTriples<T>::validate(const std::string& what) const {
  NEUROPS_CHECK(branch.rank() == 2, what << ": branch inputs must be (N, m), found " << branch.shape());
  NEUROPS_CHECK(trunk.rank() == 2, what << ": trunk inputs must be (N or P, d), found " << trunk.shape());
  if (cartesian) {
    NEUROPS_CHECK((values.rank() == 2 || values.rank() == 3) && values.size(0) == branch.size(0) &&
                      values.size(1) == trunk.size(0),
                  what << ": Cartesian values must be (N, P[, outputs]) = (" << branch.size(0) << ", " << trunk.size(0)
                       << "[, k]), found " << values.shape());
  } else {
    NEUROPS_CHECK(values.rank() == 2 && values.size(0) == branch.size(0) && trunk.size(0) == branch.size(0),
                  what << ": triples need branch (N, m), trunk (N, d), values (N, outputs) with one N; found "
                       << branch.shape() << ", " << trunk.shape() << ", " << values.shape());
  }
  check_finite(branch, what, "the branch inputs");
  check_finite(trunk, what, "the query points");
  check_finite(values, what, "the values");
}

template <class T>
OperatorTriples<T> OperatorTriples<T>::load(const std::filesystem::path& file, const std::string& group) {
  auto f = io::H5File::open(file);
  const std::string g = group == "/" ? "" : group;
  OperatorTriples d;
  d.branch = f.read<T>(g + "/branch");
  d.trunk = f.read<T>(g + "/trunk");
  d.values = f.read<T>(g + "/values");
  d.cartesian = d.trunk.size(0) != d.branch.size(0) || d.values.rank() == 3 ||
                (f.has_attr(g.empty() ? "/" : g, "cartesian") && f.attr_int(g.empty() ? "/" : g, "cartesian") != 0);
  d.validate("DeepONet data '" + file.string() + "'");
  return d;
}

template <class T>
Batch<T> OperatorTriples<T>::batch(const std::vector<index_t>& rows) const {
  Batch<T> b;
  b.inputs.push_back(gather_rows<T>(branch.view(), rows));
  if (cartesian) {
    Tensor<T> shared = trunk;
    shared.reshape({1, trunk.size(0), trunk.size(1)});
    b.inputs.push_back(std::move(shared));
  } else {
    b.inputs.push_back(gather_rows<T>(trunk.view(), rows));
  }
  b.targets = gather_rows<T>(values.view(), rows);
  return b;
}

template <class T>
OperatorTriples<T> OperatorTriples<T>::subset(const std::vector<index_t>& indices) const {
  OperatorTriples d;
  d.cartesian = cartesian;
  d.branch = gather_rows<T>(branch.view(), indices);
  d.values = gather_rows<T>(values.view(), indices);
  d.trunk = cartesian ? trunk : gather_rows<T>(trunk.view(), indices);
  return d;
}

Split split_indices(index_t n, double train_fraction, double validation_fraction, std::uint64_t seed, bool shuffle) {
  NEUROPS_CHECK(train_fraction > 0 && validation_fraction >= 0 && train_fraction + validation_fraction <= 1.0 + 1e-12,
                "split: fractions train " << train_fraction << " + validation " << validation_fraction
                                          << " must be positive and sum to at most 1");
  std::vector<index_t> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), index_t(0));
  if (shuffle) {
    Rng rng(seed);
    rng.shuffle(idx);
  }
  const auto n_train = static_cast<index_t>(std::floor(train_fraction * double(n) + 1e-9));
  const auto n_val = static_cast<index_t>(std::floor(validation_fraction * double(n) + 1e-9));
  const index_t n_test = n - n_train - n_val;
  const double test_fraction = 1.0 - train_fraction - validation_fraction;
  NEUROPS_CHECK(n_train > 0,
                "split of " << n << " samples: the training split is empty (fraction " << train_fraction << ")");
  NEUROPS_CHECK(validation_fraction == 0 || n_val > 0,
                "split of " << n << " samples: the validation split is empty (fraction " << validation_fraction << ")");
  NEUROPS_CHECK(test_fraction < 1e-9 || n_test > 0,
                "split of " << n << " samples: the test split is empty (fraction " << test_fraction << ")");
  Split s;
  s.train.assign(idx.begin(), idx.begin() + n_train);
  s.validation.assign(idx.begin() + n_train, idx.begin() + n_train + n_val);
  s.test.assign(idx.begin() + n_train + n_val, idx.end());
  return s;
}

BatchSampler::BatchSampler(std::vector<index_t> indices, index_t batch_size, bool shuffle, std::uint64_t seed,
                           bool drop_last)
    : indices_(std::move(indices)),
      order_(indices_),
      batch_size_(batch_size),
      shuffle_(shuffle),
      drop_last_(drop_last),
      seed_(seed) {
  NEUROPS_CHECK(batch_size > 0, "batch size must be positive, found " << batch_size);
  NEUROPS_CHECK(!indices_.empty(), "BatchSampler: no samples to draw batches from");
  set_epoch(0);
}

void BatchSampler::set_epoch(std::int64_t epoch) {
  order_ = indices_;
  if (shuffle_) {
    Rng rng = Rng::stream(seed_, static_cast<std::uint64_t>(epoch));
    rng.shuffle(order_);
  }
}

index_t BatchSampler::num_batches() const {
  const index_t n = num_samples();
  return drop_last_ ? std::max<index_t>(n / batch_size_, 1) : (n + batch_size_ - 1) / batch_size_;
}

std::vector<index_t> BatchSampler::batch(index_t b) const {
  NEUROPS_CHECK(b >= 0 && b < num_batches(), "batch " << b << " out of range (" << num_batches() << " batches)");
  const index_t begin = b * batch_size_;
  const index_t end = std::min(begin + batch_size_, num_samples());
  return {order_.begin() + begin, order_.begin() + end};
}

std::pair<index_t, index_t> rank_share(index_t n, int rank, int size) {
  NEUROPS_CHECK(size >= 1 && rank >= 0 && rank < size, "rank_share: rank " << rank << " of " << size);
  const index_t base = n / size, extra = n % size;
  const index_t begin = rank * base + std::min<index_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

#define NEUROPS_DATA_INSTANTIATE(T)                                                    \
  template Tensor<T> gather_rows<T>(TensorView<const T>, const std::vector<index_t>&); \
  template Tensor<T> subsample_grid<T>(TensorView<const T>, index_t);                  \
  template struct FieldDataset<T>;                                                     \
  template struct OperatorTriples<T>;
NEUROPS_DATA_INSTANTIATE(float)
NEUROPS_DATA_INSTANTIATE(double)

}  // namespace neurops::nn
