#pragma once
// HDF5 I/O through a small RAII layer over the C API: tensors as named datasets with attributes,
// datasets extendable along the first (sample) axis, listing, and atomic creation (a file is
// written under a temporary name and renamed on commit(), so a crash never leaves it half-written).
//
// Tensors are stored row-major, (batch, channel, spatial...), exactly as h5py/numpy see them.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "neurops/core/tensor.hpp"

namespace neurops::io {

/// Owning HDF5 identifier (file, group, dataset, dataspace, attribute, type, property list).
/// close() reports a failed H5*close as an Error (the explicit path: H5File::commit); the destructor
/// and reset() must not throw, so they print the failure to stderr once per object and count it
/// (H5Id::failed_closes()), so a lost close is never silent.
class H5Id {
 public:
  H5Id() = default;
  explicit H5Id(hid_t id) : id_(id) {}
  ~H5Id() { reset(); }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  hid_t get() const noexcept { return id_; }
  operator hid_t() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }
  void reset() noexcept;
  /// Closes the identifier; a failed close is an Error that says what `what` (e.g. "HDF5 file 'a.h5'") was.
  void close(const std::string& what);
  /// How many closes failed in reset()/destructors since the program started.
  static long failed_closes() noexcept;

 private:
  herr_t release() noexcept;  // closes, forgets the id, returns the H5*close result
  hid_t id_ = H5I_INVALID_HID;
};

/// Element types a dataset may hold.
enum class DType { float32, float64, int32, int64, uint8, other };
std::string to_string(DType t);
inline std::ostream& operator<<(std::ostream& os, DType t) { return os << to_string(t); }
template <class T>
DType dtype_of();

/// Attribute values: string, integer, real, and arrays of integers, reals or strings (h5py writes a
/// Python list of str as a 1-D array of variable-length strings).
using AttrValue = std::variant<std::string, std::int64_t, double, std::vector<std::int64_t>, std::vector<double>,
                               std::vector<std::string>>;

enum class FileMode { read_only, read_write };

class H5File {
 public:
  /// Opens an existing file; a missing, unreadable, truncated or non-HDF5 file is an Error naming it.
  static H5File open(const std::filesystem::path& path, FileMode mode = FileMode::read_only);
  /// Creates a file. With atomic = true (the default) the data go to a temporary file beside `path`
  /// and replace `path` only on commit(); without commit() (e.g. an exception) the temporary is removed
  /// and an existing `path` is left untouched.
  static H5File create(const std::filesystem::path& path, bool atomic = true);
  /// Opens `path` for appending when it exists, creates it (non-atomically) otherwise.
  static H5File open_or_create(const std::filesystem::path& path);

  H5File() = default;
  H5File(H5File&&) noexcept;
  H5File& operator=(H5File&&) noexcept;
  ~H5File();

  /// Flushes, closes and (for atomic files) renames the temporary onto the final path. Every step is
  /// checked: a failed flush or close (disk full, I/O error) is an Error naming the file, and an
  /// atomic file's temporary is removed so the previous `path` stays untouched.
  void commit();
  /// Writes everything cached to disk; a failure (disk full) is an Error naming the file.
  void flush();
  const std::filesystem::path& path() const noexcept { return path_; }
  hid_t id() const noexcept { return file_.get(); }
  bool is_open() const noexcept { return file_.valid(); }

  // ---- whole tensors ------------------------------------------------------------------------
  /// Writes a dataset (intermediate groups are created); an existing dataset of that name is an Error
  /// unless `overwrite` is set.
  template <class T>
  void write(const std::string& dataset, TensorView<const T> t, bool overwrite = false);
  template <class T>
  void write(const std::string& dataset, const Tensor<T>& t, bool overwrite = false) {
    write<T>(dataset, t.view(), overwrite);
  }
  /// Reads a dataset. float32/float64 convert into each other; an integer dataset read as a real
  /// tensor (or the other way) is an Error naming file, dataset, expected and found types.
  template <class T>
  Tensor<T> read(const std::string& dataset) const;
  /// Reads and checks the shape against a pattern (-1 matches any extent).
  template <class T>
  Tensor<T> read(const std::string& dataset, const std::vector<index_t>& expected_shape) const;

  // ---- datasets extendable along the first axis ---------------------------------------------
  /// Creates an empty dataset of shape (0, sample_shape...), unlimited along axis 0, chunked by
  /// `chunk_samples` samples (0: about 1 MiB per chunk).
  template <class T>
  void create_extendable(const std::string& dataset, const Shape& sample_shape, index_t chunk_samples = 0);
  /// Appends samples of shape (n, sample_shape...) at the end.
  template <class T>
  void append(const std::string& dataset, TensorView<const T> samples);
  template <class T>
  void append(const std::string& dataset, const Tensor<T>& samples) {
    append<T>(dataset, samples.view());
  }
  /// Writes samples at rows [begin, begin + n), extending the dataset when needed.
  template <class T>
  void write_rows(const std::string& dataset, index_t begin, TensorView<const T> samples);
  template <class T>
  void write_rows(const std::string& dataset, index_t begin, const Tensor<T>& samples) {
    write_rows<T>(dataset, begin, samples.view());
  }
  /// Reads rows [begin, begin + count).
  template <class T>
  Tensor<T> read_rows(const std::string& dataset, index_t begin, index_t count) const;
  /// Shrinks or grows an extendable dataset along axis 0 (used to drop unfinished samples on resume).
  void resize_rows(const std::string& dataset, index_t rows);

  // ---- structure ----------------------------------------------------------------------------
  bool exists(const std::string& path) const;
  bool is_dataset(const std::string& path) const;
  Shape shape(const std::string& dataset) const;
  DType dtype(const std::string& dataset) const;
  /// Full paths of every dataset below `group` ("/a/b"), in name order.
  std::vector<std::string> datasets(const std::string& group = "/") const;
  void create_group(const std::string& group);
  void remove(const std::string& path);

  // ---- attributes on "/" (the file), a group or a dataset -----------------------------------
  void set_attr(const std::string& object, const std::string& name, const AttrValue& value);
  AttrValue attr(const std::string& object, const std::string& name) const;
  bool has_attr(const std::string& object, const std::string& name) const;
  std::vector<std::string> attrs(const std::string& object) const;
  std::string attr_string(const std::string& object, const std::string& name) const;
  std::int64_t attr_int(const std::string& object, const std::string& name) const;
  double attr_real(const std::string& object, const std::string& name) const;
  std::vector<double> attr_reals(const std::string& object, const std::string& name) const;
  std::vector<std::int64_t> attr_ints(const std::string& object, const std::string& name) const;
  std::vector<std::string> attr_strings(const std::string& object, const std::string& name) const;

 private:
  H5Id open_dataset(const std::string& dataset) const;
  H5Id open_object(const std::string& object) const;
  std::string where(const std::string& object) const;  // "file.h5:/dataset"
  std::filesystem::path path_, temp_path_;
  H5Id file_;
  bool atomic_ = false;
};

/// Writes a small text file atomically (temporary + rename), e.g. XDMF or CSV.
void write_text_atomically(const std::filesystem::path& path, const std::string& contents);

/// The temporary name ".NAME.tmp-PID" beside `target` that an atomic write of `target` by this process
/// uses. Temporaries of the same target left by processes that no longer run (killed writers) are
/// removed first, so they do not pile up. `pid` 0 means this process.
std::filesystem::path temporary_path(const std::filesystem::path& target, long pid = 0);

}  // namespace neurops::io
