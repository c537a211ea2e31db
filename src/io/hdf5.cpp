#include "neurops/io/hdf5.hpp"

#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

// HDF5 1.12 changed the object-info API; Debian 12 ships 1.10. Map both onto one set of names.
#if H5_VERSION_GE(1, 12, 0)
using ObjectInfo = H5O_info2_t;
#define NEUROPS_H5O_INFO_BY_NAME(loc, name, info, fields) H5Oget_info_by_name3(loc, name, info, fields, H5P_DEFAULT)
#define NEUROPS_H5O_INFO(obj, info, fields) H5Oget_info3(obj, info, fields)
#define NEUROPS_H5O_VISIT(obj, cb, data, fields) H5Ovisit3(obj, H5_INDEX_NAME, H5_ITER_INC, cb, data, fields)
#else
using ObjectInfo = H5O_info_t;
#define NEUROPS_H5O_INFO_BY_NAME(loc, name, info, fields) H5Oget_info_by_name2(loc, name, info, fields, H5P_DEFAULT)
#define NEUROPS_H5O_INFO(obj, info, fields) H5Oget_info2(obj, info, fields)
#define NEUROPS_H5O_VISIT(obj, cb, data, fields) H5Ovisit2(obj, H5_INDEX_NAME, H5_ITER_INC, cb, data, fields)
#endif

namespace neurops::io {

namespace fs = std::filesystem;

namespace {

/// HDF5 prints its error stack to stderr by default; neurops reports errors as exceptions instead,
/// with the innermost HDF5 message appended.
void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

herr_t first_error(unsigned n, const H5E_error2_t* err, void* data) {
  auto* s = static_cast<std::string*>(data);
  if (n == 0 && err && err->desc) *s = err->desc;
  return 0;
}

std::string hdf5_reason() {
  std::string s;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, &s);
  H5Eclear2(H5E_DEFAULT);
  std::replace(s.begin(), s.end(), '\n', ' ');  // write errors span lines: keep one message one line
  return s.empty() ? std::string() : " (HDF5: " + s + ")";
}

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, float>)
    return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return H5T_NATIVE_UINT8;
  else
    static_assert(sizeof(T) == 0, "unsupported HDF5 element type");
}

std::vector<hsize_t> to_hsize(const Shape& s) {
  std::vector<hsize_t> d(static_cast<std::size_t>(s.rank()));
  for (int i = 0; i < s.rank(); ++i) d[static_cast<std::size_t>(i)] = static_cast<hsize_t>(s[i]);
  return d;
}

Shape space_shape(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  NEUROPS_CHECK(rank >= 0 && rank <= kMaxRank,
                "HDF5 dataspace of rank " << rank << " (neurops supports 0-" << kMaxRank << ")");
  std::vector<hsize_t> d(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, d.data(), nullptr);
  std::vector<index_t> dims(d.begin(), d.end());
  return Shape(dims);
}

DType classify(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) return size == 4 ? DType::float32 : size == 8 ? DType::float64 : DType::other;
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 4 && is_signed) return DType::int32;
    if (size == 8 && is_signed) return DType::int64;
    if (size == 1 && !is_signed) return DType::uint8;
  }
  return DType::other;
}

bool is_real(DType t) { return t == DType::float32 || t == DType::float64; }

/// Keeps the links of a group (gcpl, or the file's root through the fcpl) and the attributes of an
/// object (any creation plist) in its object header, which the 1.10 format checksums, however many
/// there are. HDF5's default moves them past 8 into "dense" storage, a fractal heap whose blocks carry
/// no checksum: a flipped byte there crashed the HDF5 library itself (free of a garbage pointer)
/// while listing a group, found by fuzzing a learner-state file.
void keep_compact(hid_t plist, bool links, const std::string& where) {
  constexpr unsigned kMany = 65535;  // the largest compact count HDF5 accepts
  const bool ok = H5Pset_attr_phase_change(plist, kMany, kMany) >= 0 &&
                  (!links || H5Pset_link_phase_change(plist, kMany, kMany) >= 0);
  NEUROPS_CHECK(ok, "cannot set compact link and attribute storage for " << where << hdf5_reason());
}

/// Creation properties for a whole-tensor dataset: chunked (chunks of at most ~1 MiB, shrinking the
/// leading axes first) with HDF5's Fletcher32 checksum, so flipped bytes inside the data are a read
/// error instead of silently wrong numbers. Empty and scalar datasets cannot be chunked and stay
/// contiguous (they hold no data to corrupt).
H5Id checksummed_layout(const std::vector<hsize_t>& dims, std::size_t element_size, const std::string& where) {
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  keep_compact(dcpl, false, where);
  const bool empty = dims.empty() || std::find(dims.begin(), dims.end(), hsize_t(0)) != dims.end();
  if (empty) return dcpl;
  std::vector<hsize_t> chunk = dims;
  const hsize_t target = hsize_t(1) << 20;
  auto bytes = [&] {
    hsize_t b = element_size;
    for (hsize_t c : chunk) b *= c;
    return b;
  };
  for (std::size_t i = 0; i < chunk.size() && bytes() > target; ++i)
    chunk[i] = std::max<hsize_t>(1, chunk[i] * target / bytes());
  NEUROPS_CHECK(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()) >= 0 && H5Pset_fletcher32(dcpl) >= 0,
                "cannot set the chunked, checksummed layout of " << where << hdf5_reason());
  return dcpl;
}

/// The groups above `path`, made by create_group (compact storage) before a dataset is created there.
void create_parent_groups(H5File& f, const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) f.create_group(path.substr(0, slash));
}

H5Id link_create_plist() {
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl, 1);
  return lcpl;
}

// Fletcher32 cannot see a chunk zeroed together with its checksum (the checksum of zeros is zero),
// and small datasets are single small chunks a zeroed disk block covers whole. Datasets written in
// one piece therefore also carry a 64-bit FNV-1a hash of their bytes, checked when read whole.
constexpr const char* kChecksumAttribute = "neurops_fnv1a64";

std::int64_t fnv1a(const void* data, std::size_t bytes) {
  std::uint64_t h = 14695981039346656037ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return static_cast<std::int64_t>(h);
}

void write_checksum(hid_t ds, std::int64_t h, const std::string& where) {
  H5Id space(H5Screate(H5S_SCALAR));
  H5Id a(H5Acreate2(ds, kChecksumAttribute, H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT));
  NEUROPS_CHECK(a.valid() && H5Awrite(a, H5T_NATIVE_INT64, &h) >= 0,
                "cannot write the checksum of dataset " << where << hdf5_reason());
}

/// Compares the data just read whole with the stored hash (when there is one).
void verify_checksum(hid_t ds, const void* data, std::size_t bytes, const std::string& where) {
  if (H5Aexists(ds, kChecksumAttribute) <= 0) return;
  H5Id a(H5Aopen(ds, kChecksumAttribute, H5P_DEFAULT));
  std::int64_t stored = 0;
  NEUROPS_CHECK(a.valid() && H5Aread(a, H5T_NATIVE_INT64, &stored) >= 0,
                "cannot read the checksum of dataset " << where << hdf5_reason());
  NEUROPS_CHECK(stored == fnv1a(data, bytes), "dataset " << where << ": checksum mismatch: the data are corrupt");
}

}  // namespace

namespace {
std::atomic<long> g_failed_closes{0};

/// "file.h5" or "file.h5:/object" for an identifier, for messages ("" when HDF5 cannot tell).
std::string object_name(hid_t id) {
  std::string out;
  ssize_t len = H5Fget_name(id, nullptr, 0);
  if (len > 0) {
    out.assign(static_cast<std::size_t>(len), '\0');
    H5Fget_name(id, out.data(), static_cast<std::size_t>(len) + 1);
  }
  len = H5Iget_type(id) == H5I_FILE ? 0 : H5Iget_name(id, nullptr, 0);
  if (len > 0) {
    std::string obj(static_cast<std::size_t>(len), '\0');
    H5Iget_name(id, obj.data(), static_cast<std::size_t>(len) + 1);
    out += ":" + obj;
  }
  H5Eclear2(H5E_DEFAULT);
  return out;
}
}  // namespace

herr_t H5Id::release() noexcept {
  if (id_ < 0) return 0;
  herr_t st = 0;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      st = H5Fclose(id_);
      break;
    case H5I_GROUP:
      st = H5Gclose(id_);
      break;
    case H5I_DATASET:
      st = H5Dclose(id_);
      break;
    case H5I_DATASPACE:
      st = H5Sclose(id_);
      break;
    case H5I_ATTR:
      st = H5Aclose(id_);
      break;
    case H5I_DATATYPE:
      st = H5Tclose(id_);
      break;
    case H5I_GENPROP_LST:
      st = H5Pclose(id_);
      break;
    default:
      break;
  }
  id_ = H5I_INVALID_HID;
  return st;
}

void H5Id::reset() noexcept {
  if (id_ < 0) return;
  // Files and datasets write cached data when closed; the name is taken now, while the id is valid.
  const H5I_type_t type = H5Iget_type(id_);
  const bool writes = type == H5I_FILE || type == H5I_DATASET;
  std::string name;
  try {
    if (writes) name = object_name(id_);
  } catch (...) {  // out of memory for the name: report without it
  }
  if (release() >= 0) return;
  // A destructor cannot throw (it may run during unwinding): report instead of losing the failure.
  // Paths that must not lose data close explicitly with close(), which throws.
  ++g_failed_closes;
  std::fprintf(stderr, "neurops: warning: closing HDF5 %s '%s' failed; its data may be incomplete%s\n",
               type == H5I_FILE      ? "file"
               : type == H5I_DATASET ? "dataset"
                                     : "object",
               name.c_str(), hdf5_reason().c_str());
}

void H5Id::close(const std::string& what) {
  if (id_ < 0) return;
  NEUROPS_CHECK(release() >= 0, "closing " << what << " failed (disk full or I/O error?)" << hdf5_reason());
}

long H5Id::failed_closes() noexcept { return g_failed_closes.load(); }

std::string to_string(DType t) {
  switch (t) {
    case DType::float32:
      return "float32";
    case DType::float64:
      return "float64";
    case DType::int32:
      return "int32";
    case DType::int64:
      return "int64";
    case DType::uint8:
      return "uint8";
    default:
      return "a non-numeric type";
  }
}

template <class T>
DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::float32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::float64;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::int32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::int64;
  else
    return DType::uint8;
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

H5File H5File::open(const fs::path& path, FileMode mode) {
  silence_hdf5();
  std::error_code ec;
  NEUROPS_CHECK(fs::exists(path, ec), "HDF5 file '" << path.string() << "' does not exist");
  NEUROPS_CHECK(fs::is_regular_file(path, ec), "HDF5 file '" << path.string() << "' is not a regular file");
  NEUROPS_CHECK(
      access(path.c_str(), mode == FileMode::read_only ? R_OK : (R_OK | W_OK)) == 0,
      "HDF5 file '" << path.string() << "' is not " << (mode == FileMode::read_only ? "readable" : "writable"));
#if H5_VERSION_GE(1, 12, 0)
  const htri_t is_h5 = H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
  const htri_t is_h5 = H5Fis_hdf5(path.c_str());
#endif
  if (is_h5 <= 0) {
    const std::string why = hdf5_reason();
    NEUROPS_THROW("'" << path.string() << "' is not a readable HDF5 file (" << fs::file_size(path, ec)
                      << " bytes: corrupt, truncated or another format)" << why);
  }
  H5File f;
  f.path_ = path;
  f.file_ = H5Id(H5Fopen(path.c_str(), mode == FileMode::read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT));
  if (!f.file_.valid()) {
    const std::string why = hdf5_reason();
    NEUROPS_THROW("cannot open HDF5 file '" << path.string() << "': corrupt or truncated" << why);
  }
  return f;
}

H5File H5File::create(const fs::path& path, bool atomic) {
  silence_hdf5();
  H5File f;
  f.path_ = path;
  f.atomic_ = atomic;
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  NEUROPS_CHECK(fs::is_directory(parent, ec),
                "cannot create '" << path.string() << "': directory '" << parent.string() << "' does not exist");
  NEUROPS_CHECK(access(parent.c_str(), W_OK) == 0,
                "cannot create '" << path.string() << "': directory '" << parent.string() << "' is not writable");
  const fs::path target = atomic ? temporary_path(path) : path;
  f.temp_path_ = atomic ? target : fs::path();
  // The HDF5 1.10 file format carries checksums on all its metadata (superblock, object headers,
  // attributes, and the chunk indexes: the 1.8 format's v1 B-tree had none, and a flipped byte in one
  // moved intact, checksummed chunks to other rows), so corrupted metadata is a read error like
  // corrupted data (Fletcher32). Readers need HDF5 >= 1.10 (2016): h5py, PETSc, ParaView all have it.
  H5Id fapl(H5Pcreate(H5P_FILE_ACCESS));
  NEUROPS_CHECK(fapl.valid() && H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST) >= 0,
                "cannot set the file format of '" << path.string() << "'" << hdf5_reason());
  H5Id fcpl(H5Pcreate(H5P_FILE_CREATE));
  NEUROPS_CHECK(fcpl.valid(), "cannot create '" << path.string() << "'" << hdf5_reason());
  keep_compact(fcpl, true, "the root group of '" + path.string() + "'");
  f.file_ = H5Id(H5Fcreate(target.c_str(), H5F_ACC_TRUNC, fcpl, fapl));
  if (!f.file_.valid()) {
    const std::string why = hdf5_reason();
    f.atomic_ = false;
    if (atomic) fs::remove(target, ec);  // a create that failed half-way (disk full) may leave the temporary
    NEUROPS_THROW("cannot create HDF5 file '" << path.string() << "'" << why);
  }
  return f;
}

H5File H5File::open_or_create(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec) ? open(path, FileMode::read_write) : create(path, false);
}

H5File::H5File(H5File&& o) noexcept
    : path_(std::move(o.path_)), temp_path_(std::move(o.temp_path_)), file_(std::move(o.file_)), atomic_(o.atomic_) {
  o.atomic_ = false;
  o.temp_path_.clear();
}

H5File& H5File::operator=(H5File&& o) noexcept {
  if (this != &o) {
    this->~H5File();
    new (this) H5File(std::move(o));
  }
  return *this;
}

H5File::~H5File() {
  if (atomic_ && file_.valid()) {
    file_.reset();  // not committed: throw the partial file away, keep whatever was at path_
    std::error_code ec;
    fs::remove(temp_path_, ec);
  }
}

void H5File::flush() {
  if (!file_.valid()) return;
  NEUROPS_CHECK(
      H5Fflush(file_, H5F_SCOPE_GLOBAL) >= 0,
      "writing HDF5 file '" << path_.string() << "' to disk failed (disk full or I/O error?)" << hdf5_reason());
}

void H5File::commit() {
  if (!file_.valid()) return;
  const bool atomic = atomic_;
  atomic_ = false;  // from here on this object no longer owns the temporary; failures remove it below
  std::error_code ec;
  try {
    flush();
    file_.close("HDF5 file '" + path_.string() + "'");
  } catch (const Error&) {
    file_.reset();
    if (atomic) fs::remove(temp_path_, ec);  // the previous file at path_ (if any) stays untouched
    throw;
  }
  if (!atomic) return;
  fs::rename(temp_path_, path_, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp_path_, ec);
    NEUROPS_THROW("cannot move the finished file onto '" << path_.string() << "': " << why);
  }
}

std::string H5File::where(const std::string& object) const { return "'" + path_.string() + ":" + object + "'"; }

H5Id H5File::open_object(const std::string& object) const {
  NEUROPS_CHECK(file_.valid(), "HDF5 file '" << path_.string() << "' is not open");
  NEUROPS_CHECK(exists(object), "HDF5 file '" << path_.string() << "' has no object '" << object << "'");
  H5Id id(H5Oopen(file_, object.c_str(), H5P_DEFAULT));
  NEUROPS_CHECK(id.valid(), "cannot open " << where(object) << hdf5_reason());
  return id;
}

H5Id H5File::open_dataset(const std::string& dataset) const {
  NEUROPS_CHECK(file_.valid(), "HDF5 file '" << path_.string() << "' is not open");
  NEUROPS_CHECK(is_dataset(dataset), "HDF5 file '" << path_.string() << "' has no dataset '" << dataset << "'");
  H5Id id(H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT));
  NEUROPS_CHECK(id.valid(), "cannot open dataset " << where(dataset) << hdf5_reason());
  return id;
}

// ---------------------------------------------------------------------------------------------
// Structure
// ---------------------------------------------------------------------------------------------

bool H5File::exists(const std::string& path) const {
  if (!file_.valid()) return false;
  if (path == "/" || path.empty()) return true;
  // Check each level, since H5Lexists fails on a missing intermediate group.
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    const std::size_t next = path.find('/', pos + 1);
    partial = path.substr(0, next);
    if (!partial.empty() && partial != "/") {
      if (H5Lexists(file_, partial.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    pos = next;
  }
  return H5Oexists_by_name(file_, path.c_str(), H5P_DEFAULT) > 0;
}

bool H5File::is_dataset(const std::string& path) const {
  if (!exists(path)) return false;
  ObjectInfo info;
  if (NEUROPS_H5O_INFO_BY_NAME(file_, path.c_str(), &info, H5O_INFO_BASIC) < 0) return false;
  return info.type == H5O_TYPE_DATASET;
}

Shape H5File::shape(const std::string& dataset) const {
  H5Id ds = open_dataset(dataset);
  H5Id space(H5Dget_space(ds));
  return space_shape(space);
}

DType H5File::dtype(const std::string& dataset) const {
  H5Id ds = open_dataset(dataset);
  H5Id type(H5Dget_type(ds));
  return classify(type);
}

namespace {
struct VisitData {
  std::vector<std::string>* out;
  std::string prefix;
};
herr_t visit_cb(hid_t, const char* name, const ObjectInfo* info, void* data) {
  auto* v = static_cast<VisitData*>(data);
  if (info->type == H5O_TYPE_DATASET) v->out->push_back(v->prefix + name);
  return 0;
}
}  // namespace

std::vector<std::string> H5File::datasets(const std::string& group) const {
  H5Id g = open_object(group);
  std::vector<std::string> out;
  std::string prefix = group == "/" ? "/" : group + "/";
  VisitData data{&out, prefix};
  NEUROPS_H5O_VISIT(g, visit_cb, &data, H5O_INFO_BASIC);
  std::sort(out.begin(), out.end());
  return out;
}

void H5File::create_group(const std::string& group) {
  if (exists(group)) return;
  const auto slash = group.find_last_of('/');
  if (slash != std::string::npos && slash > 0) create_group(group.substr(0, slash));  // parents compact too
  H5Id lcpl = link_create_plist();
  H5Id gcpl(H5Pcreate(H5P_GROUP_CREATE));
  NEUROPS_CHECK(gcpl.valid(), "cannot create group " << where(group) << hdf5_reason());
  keep_compact(gcpl, true, where(group));
  H5Id g(H5Gcreate2(file_, group.c_str(), lcpl, gcpl, H5P_DEFAULT));
  NEUROPS_CHECK(g.valid(), "cannot create group " << where(group) << hdf5_reason());
}

void H5File::remove(const std::string& path) {
  NEUROPS_CHECK(exists(path), "cannot remove " << where(path) << ": no such object");
  NEUROPS_CHECK(H5Ldelete(file_, path.c_str(), H5P_DEFAULT) >= 0, "cannot remove " << where(path) << hdf5_reason());
}

// ---------------------------------------------------------------------------------------------
// Whole tensors
// ---------------------------------------------------------------------------------------------

template <class T>
void H5File::write(const std::string& dataset, TensorView<const T> t, bool overwrite) {
  NEUROPS_CHECK(file_.valid(), "HDF5 file '" << path_.string() << "' is not open");
  if (exists(dataset)) {
    NEUROPS_CHECK(overwrite, "dataset " << where(dataset) << " already exists");
    remove(dataset);
  }
  const auto dims = to_hsize(t.shape());
  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  create_parent_groups(*this, dataset);
  H5Id lcpl = link_create_plist();
  H5Id dcpl = checksummed_layout(dims, sizeof(T), where(dataset));
  H5Id ds(H5Dcreate2(file_, dataset.c_str(), native_type<T>(), space, lcpl, dcpl, H5P_DEFAULT));
  NEUROPS_CHECK(ds.valid(), "cannot create dataset " << where(dataset) << hdf5_reason());
  if (t.numel() > 0) {
    NEUROPS_CHECK(H5Dwrite(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) >= 0,
                  "cannot write dataset " << where(dataset) << hdf5_reason());
    write_checksum(ds, fnv1a(t.data(), sizeof(T) * static_cast<std::size_t>(t.numel())), where(dataset));
  }
  // Closing writes the dataset's cached chunks: on a full disk this is where the write fails.
  ds.close("dataset " + where(dataset));
}

template <class T>
Tensor<T> H5File::read(const std::string& dataset) const {
  H5Id ds = open_dataset(dataset);
  H5Id type(H5Dget_type(ds));
  const DType found = classify(type);
  const DType want = dtype_of<T>();
  NEUROPS_CHECK(found != DType::other && is_real(found) == is_real(want),
                "dataset " << where(dataset) << ": expected " << to_string(want) << " data"
                           << (is_real(want) ? " (float32 or float64)" : "") << ", found " << to_string(found));
  H5Id space(H5Dget_space(ds));
  const Shape shape = space_shape(space);
  NEUROPS_CHECK(shape.rank() >= 1, "dataset " << where(dataset) << ": expected an array, found a scalar");
  Tensor<T> t = Tensor<T>::uninitialized(shape);
  if (t.numel() > 0) {
    NEUROPS_CHECK(H5Dread(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) >= 0,
                  "cannot read dataset " << where(dataset) << ": data corrupt or truncated" << hdf5_reason());
    // The hash is of the stored bytes: comparable when they were read without conversion.
    if (found == want) verify_checksum(ds, t.data(), sizeof(T) * static_cast<std::size_t>(t.numel()), where(dataset));
  }
  return t;
}

template <class T>
Tensor<T> H5File::read(const std::string& dataset, const std::vector<index_t>& expected_shape) const {
  const Shape s = shape(dataset);
  check_shape(s, expected_shape, "dataset " + where(dataset));
  return read<T>(dataset);
}

// ---------------------------------------------------------------------------------------------
// Extendable datasets
// ---------------------------------------------------------------------------------------------

template <class T>
void H5File::create_extendable(const std::string& dataset, const Shape& sample_shape, index_t chunk_samples) {
  NEUROPS_CHECK(file_.valid(), "HDF5 file '" << path_.string() << "' is not open");
  NEUROPS_CHECK(sample_shape.rank() < kMaxRank,
                "dataset " << where(dataset) << ": sample rank " << sample_shape.rank() << " too large");
  NEUROPS_CHECK(!exists(dataset), "dataset " << where(dataset) << " already exists");
  std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{0};
  const index_t per_sample = std::max<index_t>(sample_shape.rank() ? sample_shape.numel() : 1, 1);
  if (chunk_samples <= 0) chunk_samples = std::max<index_t>(1, (index_t(1) << 20) / (per_sample * index_t(sizeof(T))));
  chunk[0] = static_cast<hsize_t>(chunk_samples);
  for (int i = 0; i < sample_shape.rank(); ++i) {
    dims.push_back(static_cast<hsize_t>(sample_shape[i]));
    maxdims.push_back(static_cast<hsize_t>(sample_shape[i]));
    chunk.push_back(static_cast<hsize_t>(std::max<index_t>(sample_shape[i], 1)));
  }
  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()));
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  NEUROPS_CHECK(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()) >= 0 && H5Pset_fletcher32(dcpl) >= 0,
                "cannot set the chunked, checksummed layout of " << where(dataset) << hdf5_reason());
  keep_compact(dcpl, false, where(dataset));
  create_parent_groups(*this, dataset);
  H5Id lcpl = link_create_plist();
  H5Id ds(H5Dcreate2(file_, dataset.c_str(), native_type<T>(), space, lcpl, dcpl, H5P_DEFAULT));
  NEUROPS_CHECK(ds.valid(), "cannot create extendable dataset " << where(dataset) << hdf5_reason());
}

template <class T>
void H5File::write_rows(const std::string& dataset, index_t begin, TensorView<const T> samples) {
  H5Id ds = open_dataset(dataset);
  H5Id type(H5Dget_type(ds));
  NEUROPS_CHECK(classify(type) == dtype_of<T>(), "dataset " << where(dataset) << ": expected "
                                                            << to_string(classify(type)) << " samples, got "
                                                            << to_string(dtype_of<T>()));
  H5Id space(H5Dget_space(ds));
  const Shape cur = space_shape(space);
  NEUROPS_CHECK(samples.rank() == cur.rank() && samples.shape().tail(1) == cur.tail(1),
                "dataset " << where(dataset) << ": expected samples of shape (n, " << cur.tail(1).str().substr(1)
                           << ", found " << samples.shape());
  NEUROPS_CHECK(begin >= 0, "dataset " << where(dataset) << ": negative row " << begin);
  const index_t n = samples.size(0);
  if (n == 0) return;
  auto dims = to_hsize(cur);
  if (static_cast<index_t>(dims[0]) < begin + n) {
    dims[0] = static_cast<hsize_t>(begin + n);
    NEUROPS_CHECK(H5Dset_extent(ds, dims.data()) >= 0,
                  "cannot extend dataset " << where(dataset) << " (is it extendable?)" << hdf5_reason());
  }
  // Rows written into a dataset made in one piece change its bytes: its hash no longer applies.
  if (H5Aexists(ds, kChecksumAttribute) > 0)
    NEUROPS_CHECK(H5Adelete(ds, kChecksumAttribute) >= 0, "cannot update dataset " << where(dataset) << hdf5_reason());
  H5Id fspace(H5Dget_space(ds));
  std::vector<hsize_t> start(dims.size(), 0), count = to_hsize(samples.shape());
  start[0] = static_cast<hsize_t>(begin);
  H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  H5Id mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  NEUROPS_CHECK(H5Dwrite(ds, native_type<T>(), mspace, fspace, H5P_DEFAULT, samples.data()) >= 0,
                "cannot write rows to " << where(dataset) << hdf5_reason());
  // Closing writes the dataset's cached chunks: on a full disk this is where the write fails (the
  // audit's zeros came from this close failing silently while the flush after it succeeded).
  ds.close("dataset " + where(dataset) + " after writing rows " + std::to_string(begin) + "-" +
           std::to_string(begin + n - 1));
}

template <class T>
void H5File::append(const std::string& dataset, TensorView<const T> samples) {
  write_rows<T>(dataset, shape(dataset)[0], samples);
}

template <class T>
Tensor<T> H5File::read_rows(const std::string& dataset, index_t begin, index_t count) const {
  H5Id ds = open_dataset(dataset);
  H5Id type(H5Dget_type(ds));
  const DType found = classify(type);
  NEUROPS_CHECK(
      found != DType::other && is_real(found) == is_real(dtype_of<T>()),
      "dataset " << where(dataset) << ": expected " << to_string(dtype_of<T>()) << " data, found " << to_string(found));
  H5Id fspace(H5Dget_space(ds));
  const Shape cur = space_shape(fspace);
  NEUROPS_CHECK(cur.rank() >= 1 && begin >= 0 && count >= 0 && begin + count <= cur[0],
                "dataset " << where(dataset) << " of shape " << cur << ": rows [" << begin << ", " << begin + count
                           << ") out of range");
  Shape out_shape = cur.with(0, count);
  Tensor<T> out = Tensor<T>::uninitialized(out_shape);
  if (out.numel() == 0) return out;
  std::vector<hsize_t> start(static_cast<std::size_t>(cur.rank()), 0), cnt = to_hsize(out_shape);
  start[0] = static_cast<hsize_t>(begin);
  H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  H5Id mspace(H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr));
  NEUROPS_CHECK(H5Dread(ds, native_type<T>(), mspace, fspace, H5P_DEFAULT, out.data()) >= 0,
                "cannot read rows of " << where(dataset) << ": data corrupt or truncated" << hdf5_reason());
  if (found == dtype_of<T>() && begin == 0 && count == cur[0])
    verify_checksum(ds, out.data(), sizeof(T) * static_cast<std::size_t>(out.numel()), where(dataset));
  return out;
}

void H5File::resize_rows(const std::string& dataset, index_t rows) {
  H5Id ds = open_dataset(dataset);
  H5Id space(H5Dget_space(ds));
  auto dims = to_hsize(space_shape(space));
  NEUROPS_CHECK(!dims.empty() && rows >= 0, "dataset " << where(dataset) << ": cannot resize to " << rows << " rows");
  dims[0] = static_cast<hsize_t>(rows);
  NEUROPS_CHECK(H5Dset_extent(ds, dims.data()) >= 0, "cannot resize dataset " << where(dataset) << hdf5_reason());
  ds.close("dataset " + where(dataset));
}

// ---------------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------------

void H5File::set_attr(const std::string& object, const std::string& name, const AttrValue& value) {
  H5Id obj = open_object(object);
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  H5Id attr;
  auto write_array = [&](hid_t type, const void* data, std::size_t n, bool scalar) {
    hsize_t dim = n;
    H5Id space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, nullptr));
    attr = H5Id(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
    NEUROPS_CHECK(attr.valid() && (n == 0 || H5Awrite(attr, type, data) >= 0),
                  "cannot write attribute '" << name << "' on " << where(object));
  };
  // Strings are fixed-length (NUL-padded UTF-8), stored inside the checksummed object header.
  // Variable-length strings live in HDF5's global heap, which has no checksum: the fuzz suite found
  // corrupted global heaps that hang or crash HDF5 1.10 itself while reading the attribute.
  auto write_strings = [&](const std::vector<std::string>& v, bool scalar) {
    std::size_t width = 1;
    for (const auto& e : v) width = std::max(width, e.size());
    std::vector<char> buf(width * v.size(), '\0');
    for (std::size_t i = 0; i < v.size(); ++i) std::copy(v[i].begin(), v[i].end(), buf.begin() + long(i * width));
    H5Id type(H5Tcopy(H5T_C_S1));
    NEUROPS_CHECK(type.valid() && H5Tset_size(type, width) >= 0 && H5Tset_strpad(type, H5T_STR_NULLPAD) >= 0 &&
                      H5Tset_cset(type, H5T_CSET_UTF8) >= 0,
                  "cannot write attribute '" << name << "' on " << where(object) << hdf5_reason());
    write_array(type, buf.data(), v.size(), scalar);
  };
  if (const auto* str = std::get_if<std::string>(&value))
    write_strings({*str}, true);
  else if (const auto* i = std::get_if<std::int64_t>(&value))
    write_array(H5T_NATIVE_INT64, i, 1, true);
  else if (const auto* d = std::get_if<double>(&value))
    write_array(H5T_NATIVE_DOUBLE, d, 1, true);
  else if (const auto* vi = std::get_if<std::vector<std::int64_t>>(&value))
    write_array(H5T_NATIVE_INT64, vi->data(), vi->size(), false);
  else if (const auto* vd = std::get_if<std::vector<double>>(&value))
    write_array(H5T_NATIVE_DOUBLE, vd->data(), vd->size(), false);
  else if (const auto* vs = std::get_if<std::vector<std::string>>(&value))
    write_strings(*vs, false);
}

bool H5File::has_attr(const std::string& object, const std::string& name) const {
  if (!exists(object)) return false;
  H5Id obj = open_object(object);
  return H5Aexists(obj, name.c_str()) > 0;
}

std::vector<std::string> H5File::attrs(const std::string& object) const {
  H5Id obj = open_object(object);
  ObjectInfo info;
  NEUROPS_H5O_INFO(obj, &info, H5O_INFO_NUM_ATTRS);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    const ssize_t len = H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string n(static_cast<std::size_t>(len), '\0');
    H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, n.data(), static_cast<std::size_t>(len) + 1,
                       H5P_DEFAULT);
    if (n != kChecksumAttribute) names.push_back(n);  // the library's own bookkeeping, not the user's
  }
  return names;
}

namespace {
/// Every string of a string attribute (scalar or array, variable or fixed length), each H5A call checked.
std::vector<std::string> read_strings(hid_t a, hid_t type, std::size_t n, const std::string& what) {
  std::vector<std::string> out;
  if (n == 0) return out;
  if (H5Tis_variable_str(type) > 0) {
    H5Id mem(H5Tcopy(type));  // same character set as stored
    std::vector<char*> p(n, nullptr);
    NEUROPS_CHECK(mem.valid() && H5Aread(a, mem, p.data()) >= 0, "cannot read " << what << hdf5_reason());
    for (char* c : p) out.emplace_back(c ? c : "");
    H5Id space(H5Aget_space(a));
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, p.data());
    return out;
  }
  const std::size_t size = H5Tget_size(type);
  NEUROPS_CHECK(size > 0, "cannot read " << what << ": fixed-length strings of size 0" << hdf5_reason());
  std::vector<char> buf(size * n + 1, '\0');
  // The stored type as the memory type: converting to NUL-terminated strings of the same size would
  // cut the last character of a full-length NUL-padded string (numpy's 'S5' holding "cdefg").
  H5Id mem(H5Tcopy(type));
  NEUROPS_CHECK(mem.valid() && H5Aread(a, mem, buf.data()) >= 0, "cannot read " << what << hdf5_reason());
  const bool space_padded = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
  for (std::size_t i = 0; i < n; ++i) {
    const char* c = buf.data() + i * size;
    std::string e(c, strnlen(c, size));  // fixed-length strings need not be NUL-terminated
    if (space_padded) e.erase(e.find_last_not_of(' ') + 1);
    out.push_back(std::move(e));
  }
  return out;
}
}  // namespace

AttrValue H5File::attr(const std::string& object, const std::string& name) const {
  H5Id obj = open_object(object);
  const std::string what = "attribute '" + name + "' on " + where(object);
  NEUROPS_CHECK(H5Aexists(obj, name.c_str()) > 0, where(object) << " has no attribute '" << name << "'");
  H5Id a(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  NEUROPS_CHECK(a.valid(), "cannot open " << what << hdf5_reason());
  H5Id type(H5Aget_type(a));
  H5Id space(H5Aget_space(a));
  NEUROPS_CHECK(type.valid() && space.valid(), "cannot read the type of " << what << hdf5_reason());
  const hssize_t npoints = H5Sget_simple_extent_npoints(space);
  const H5S_class_t shape = H5Sget_simple_extent_type(space);
  NEUROPS_CHECK(npoints >= 0 && shape != H5S_NO_CLASS, "cannot read the shape of " << what << hdf5_reason());
  const bool scalar = shape == H5S_SCALAR;
  const auto n = static_cast<std::size_t>(npoints);
  const H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_STRING) {
    std::vector<std::string> v = read_strings(a, type, n, what);
    if (scalar) return v.at(0);
    return v;
  }
  if (cls == H5T_INTEGER) {
    std::vector<std::int64_t> v(n);
    NEUROPS_CHECK(n == 0 || H5Aread(a, H5T_NATIVE_INT64, v.data()) >= 0, "cannot read " << what << hdf5_reason());
    if (scalar) return v.at(0);
    return v;
  }
  if (cls == H5T_FLOAT) {
    std::vector<double> v(n);
    NEUROPS_CHECK(n == 0 || H5Aread(a, H5T_NATIVE_DOUBLE, v.data()) >= 0, "cannot read " << what << hdf5_reason());
    if (scalar) return v.at(0);
    return v;
  }
  NEUROPS_THROW(what << " has an unsupported type (expected a string, integer or real, or an array of them)");
}

std::string H5File::attr_string(const std::string& object, const std::string& name) const {
  const AttrValue v = attr(object, name);
  const auto* s = std::get_if<std::string>(&v);
  NEUROPS_CHECK(s, "attribute '" << name << "' on " << where(object) << ": expected a string");
  return *s;
}
std::vector<std::string> H5File::attr_strings(const std::string& object, const std::string& name) const {
  const AttrValue v = attr(object, name);
  if (const auto* d = std::get_if<std::vector<std::string>>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) return {*s};
  NEUROPS_THROW("attribute '" << name << "' on " << where(object) << ": expected an array of strings");
}
std::int64_t H5File::attr_int(const std::string& object, const std::string& name) const {
  const AttrValue v = attr(object, name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  NEUROPS_THROW("attribute '" << name << "' on " << where(object) << ": expected a scalar integer");
}
double H5File::attr_real(const std::string& object, const std::string& name) const {
  const AttrValue v = attr(object, name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  NEUROPS_THROW("attribute '" << name << "' on " << where(object) << ": expected a scalar number");
}
std::vector<double> H5File::attr_reals(const std::string& object, const std::string& name) const {
  const AttrValue v = attr(object, name);
  if (const auto* d = std::get_if<std::vector<double>>(&v)) return *d;
  if (const auto* s = std::get_if<double>(&v)) return {*s};
  NEUROPS_THROW("attribute '" << name << "' on " << where(object) << ": expected an array of reals");
}
std::vector<std::int64_t> H5File::attr_ints(const std::string& object, const std::string& name) const {
  const AttrValue v = attr(object, name);
  if (const auto* d = std::get_if<std::vector<std::int64_t>>(&v)) return *d;
  if (const auto* s = std::get_if<std::int64_t>(&v)) return {*s};
  NEUROPS_THROW("attribute '" << name << "' on " << where(object) << ": expected an array of integers");
}

void write_text_atomically(const fs::path& path, const std::string& contents) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  NEUROPS_CHECK(fs::is_directory(parent, ec),
                "cannot write '" << path.string() << "': directory '" << parent.string() << "' does not exist");
  const fs::path tmp = temporary_path(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    NEUROPS_CHECK(out.good(),
                  "cannot write '" << path.string() << "': directory '" << parent.string() << "' is not writable");
    out << contents;
    out.flush();
    if (!out.good()) {
      out.close();
      fs::remove(tmp, ec);
      NEUROPS_THROW("writing '" << path.string() << "' failed (disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    NEUROPS_THROW("cannot move the finished file onto '" << path.string() << "'");
  }
}

namespace {
/// True when `pid` names no running process on this machine (a writer killed before its rename).
bool process_is_gone(long pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }
}  // namespace

fs::path temporary_path(const fs::path& target, long pid) {
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    std::error_code rm;
    if (process_is_gone(std::stol(digits))) fs::remove(it->path(), rm);
  }
  return parent / (prefix + std::to_string(pid ? pid : static_cast<long>(::getpid())));
}

#define NEUROPS_H5_INSTANTIATE(T)                                                            \
  template DType dtype_of<T>();                                                              \
  template void H5File::write<T>(const std::string&, TensorView<const T>, bool);             \
  template Tensor<T> H5File::read<T>(const std::string&) const;                              \
  template Tensor<T> H5File::read<T>(const std::string&, const std::vector<index_t>&) const; \
  template void H5File::create_extendable<T>(const std::string&, const Shape&, index_t);     \
  template void H5File::append<T>(const std::string&, TensorView<const T>);                  \
  template void H5File::write_rows<T>(const std::string&, index_t, TensorView<const T>);     \
  template Tensor<T> H5File::read_rows<T>(const std::string&, index_t, index_t) const;
NEUROPS_H5_INSTANTIATE(float)
NEUROPS_H5_INSTANTIATE(double)
NEUROPS_H5_INSTANTIATE(std::int32_t)
NEUROPS_H5_INSTANTIATE(std::int64_t)
NEUROPS_H5_INSTANTIATE(std::uint8_t)
#undef NEUROPS_H5_INSTANTIATE

}  // namespace neurops::io
