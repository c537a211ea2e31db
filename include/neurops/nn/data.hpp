#pragma once
// Training data for operator learning: the Dataset interface the Trainer runs over, field pairs and
// DeepONet triples read from HDF5, seeded train/validation/test splits, shuffled mini-batches, and
// grid subsampling.
//
// A Dataset hands out batches: the model inputs of a set of sample rows (one tensor per model
// input, in the model's input order) and the targets, in physical units. Field pairs give one input
// (N, C, grid...); DeepONet triples give {branch (n, m), trunk (n, d)}; the Cartesian form gives
// {branch (n, m), trunk (1, P, d)} — the query points shared by the batch.
//
// Field datasets are (N, C, spatial...) tensors, inputs and targets with the same N. DeepONet data
// come in two forms (DeepXDE's): triples — one query point per row: branch (N, m) sensor values,
// trunk (N, d) query points, values (N, outputs) — and the Cartesian-product form: branch (N, m),
// one shared set of query points trunk (P, d), values (N, P) or (N, P, outputs).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "neurops/core/tensor.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::nn {

/// Rows `indices` of `data` along the first axis, in that order.
template <class T>
Tensor<T> gather_rows(TensorView<const T> data, const std::vector<index_t>& indices);

/// Every `stride`-th point along each spatial axis (axes >= 2) of an (N, C, spatial...) tensor:
/// train at 64² from 256² data with stride 4 (FNO's convention: a slice with step `stride` on each spatial axis).
template <class T>
Tensor<T> subsample_grid(TensorView<const T> data, index_t stride);

template <class T>
struct Batch {
  std::vector<Tensor<T>> inputs;  // one per model input
  Tensor<T> targets;
};

template <class T>
class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of samples (rows that batches are drawn from).
  virtual index_t size() const = 0;
  /// The inputs and targets of `rows`, in that order.
  virtual Batch<T> batch(const std::vector<index_t>& rows) const = 0;
  /// Error naming `what` and the shapes when the data are inconsistent.
  virtual void validate(const std::string& what) const = 0;
  /// Spatial grid of the first input ((H, W) for fields); empty for point data.
  virtual std::vector<index_t> grid() const { return {}; }
};

template <class T>
struct FieldDataset : Dataset<T> {
  Tensor<T> inputs;   // (N, C_in, spatial...)
  Tensor<T> targets;  // (N, C_out, spatial...)

  FieldDataset() = default;
  FieldDataset(Tensor<T> in, Tensor<T> out) : inputs(std::move(in)), targets(std::move(out)) {}
  index_t size() const override { return inputs.rank() ? inputs.size(0) : 0; }
  Batch<T> batch(const std::vector<index_t>& rows) const override;
  std::vector<index_t> grid() const override;
  /// Error unless inputs and targets are (N, C, spatial...) with the same N and spatial grid.
  void validate(const std::string& what) const override;
  /// Reads datasets `input_name` and `target_name` from `file` (float32 or float64 on disk),
  /// optionally the first `max_samples` only, subsampled by `stride` on the spatial axes.
  static FieldDataset load(const std::filesystem::path& file, const std::string& input_name = "/inputs",
                           const std::string& target_name = "/outputs", index_t stride = 1, index_t max_samples = -1);
  /// Reads two fields written by PETSc's HDF5 viewer (VecView of `dim`-D DMDA Vecs, io/petsc_fields.hpp):
  /// one sample per time step, dof as channels. A simulation's own output becomes training data.
  static FieldDataset load_petsc(const std::filesystem::path& file, const std::string& input_name,
                                 const std::string& target_name, int dim, index_t stride = 1, index_t max_samples = -1);
  /// Writes `input_name` and `target_name` (the layout load() reads) atomically to `file`.
  void save(const std::filesystem::path& file, const std::string& input_name = "/inputs",
            const std::string& target_name = "/outputs") const;
  FieldDataset subset(const std::vector<index_t>& indices) const;
  FieldDataset subsampled(index_t stride) const;
};

template <class T>
struct OperatorTriples : Dataset<T> {
  Tensor<T> branch;  // (N, m): input function at the sensors
  Tensor<T> trunk;   // (N, d) triples, or (P, d) shared query points in the Cartesian form
  Tensor<T> values;  // (N, outputs) triples, or (N, P) / (N, P, outputs) in the Cartesian form
  bool cartesian = false;

  index_t size() const override { return branch.rank() ? branch.size(0) : 0; }
  /// {branch rows, trunk rows} for triples; {branch rows, trunk as (1, P, d)} in the Cartesian form.
  Batch<T> batch(const std::vector<index_t>& rows) const override;
  void validate(const std::string& what) const override;
  static OperatorTriples load(const std::filesystem::path& file, const std::string& group = "/");
  /// Writes /branch, /trunk, /values and the `cartesian` attribute atomically to `file`.
  void save(const std::filesystem::path& file) const;
  OperatorTriples subset(const std::vector<index_t>& indices) const;
};

/// Index sets of a seeded random split. Fractions are of the whole; the test split takes the rest.
struct Split {
  std::vector<index_t> train, validation, test;
};
/// Splits n samples; `shuffle` = false keeps the file order (first train, then validation, test).
/// An empty train split, or an empty validation/test split when its fraction is positive, is an Error.
Split split_indices(index_t n, double train_fraction, double validation_fraction, std::uint64_t seed,
                    bool shuffle = true);

/// Mini-batches over a set of sample indices; the order of epoch e is a seeded permutation that
/// depends only on (seed, e), so a resumed run sees the same batches as an uninterrupted one.
class BatchSampler {
 public:
  BatchSampler(std::vector<index_t> indices, index_t batch_size, bool shuffle, std::uint64_t seed,
               bool drop_last = false);
  void set_epoch(std::int64_t epoch);
  index_t num_batches() const;
  /// Sample indices of batch b of the current epoch.
  std::vector<index_t> batch(index_t b) const;
  index_t batch_size() const { return batch_size_; }
  index_t num_samples() const { return static_cast<index_t>(indices_.size()); }

 private:
  std::vector<index_t> indices_, order_;
  index_t batch_size_;
  bool shuffle_, drop_last_;
  std::uint64_t seed_;
};

/// The contiguous share [begin, end) of a batch of `n` samples that rank `rank` of `size` takes
/// (data-parallel training: shares differ by at most one sample).
std::pair<index_t, index_t> rank_share(index_t n, int rank, int size);

}  // namespace neurops::nn
