#include "neurops/solvers/system_io.hpp"

#include <petscviewerhdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "neurops/io/hdf5.hpp"

namespace neurops::solvers {

namespace fs = std::filesystem;

namespace {
bool is_binary(const fs::path& path) { return path.extension() == ".bin" || path.extension() == ".petsc"; }

std::string where(const fs::path& path) { return "system file '" + path.string() + "'"; }

/// Row pointers monotone from 0 to nnz, every column in [0, cols) and at most once per row (the rows
/// need not be sorted: LocalCsr sorts them), every value finite. `col_of(k)` gives entry k's column.
template <class RowStart, class Column>
void check_csr(const fs::path& path, const char* rows_name, const char* cols_name, index_t rows, index_t cols,
               index_t nnz, RowStart&& row_start, Column&& col_of) {
  NEUROPS_CHECK(row_start(0) == 0 && row_start(rows) == nnz,
                where(path) << ": " << rows_name << " must start at 0 and end at nnz = " << nnz << ", found "
                            << row_start(0) << " .. " << row_start(rows));
  std::vector<index_t> seen(static_cast<std::size_t>(cols), -1);  // row that last used each column
  for (index_t i = 0; i < rows; ++i) {
    NEUROPS_CHECK(row_start(i) <= row_start(i + 1) && row_start(i + 1) <= nnz,
                  where(path) << ": " << rows_name << " decreases or passes nnz = " << nnz << " at row " << i << " ("
                              << row_start(i) << " then " << row_start(i + 1) << ")");
    for (index_t k = row_start(i); k < row_start(i + 1); ++k) {
      const std::int64_t c = col_of(k);
      NEUROPS_CHECK(c >= 0 && c < cols, where(path) << ": " << cols_name << " has column index " << c << " at entry "
                                                    << k << " (row " << i << "), expected one in [0, " << cols << ")");
      NEUROPS_CHECK(seen[static_cast<std::size_t>(c)] != i,
                    where(path) << ": row " << i << " holds column " << c << " twice (" << cols_name << ")");
      seen[static_cast<std::size_t>(c)] = i;
    }
  }
}

template <class Values>
void check_finite(const fs::path& path, const char* name, index_t n, Values&& value) {
  for (index_t k = 0; k < n; ++k)
    NEUROPS_CHECK(std::isfinite(value(k)), where(path) << ": " << name << " holds " << value(k) << " at entry " << k
                                                       << ", expected finite values");
}

// Checks the CSR arrays before PETSc sees them: MatLoad trusts them and may read out of bounds.
void validate_hdf5_layout(const fs::path& path, PetscInt& rows, PetscInt& cols) {
  const auto file = io::H5File::open(path);
  for (const char* ds : {"/A/jc", "/A/ir", "/A/data", "/b"})
    NEUROPS_CHECK(file.is_dataset(ds), "system file '" << path.string() << "': dataset " << ds
                                                       << " is missing (expected /A/{jc,ir,data} and /b)");
  NEUROPS_CHECK(file.has_attr("/A", "MATLAB_sparse"),
                "system file '" << path.string() << "': attribute /A/MATLAB_sparse (column count) is missing");
  const auto jc = file.read<std::int64_t>("/A/jc");
  const auto ir = file.read<std::int64_t>("/A/ir");
  const auto data = file.read<double>("/A/data");
  const auto b_shape = file.shape("/b");
  NEUROPS_CHECK(
      jc.rank() == 1 && jc.numel() >= 1,
      "system file '" << path.string() << "': /A/jc must be a 1-D row-pointer array, found shape " << jc.shape());
  // MATLAB_sparse is read as 64 bits and checked before any cast: 2^32 + 100 once became 100 here
  // while PETSc read it whole and allocated for it.
  const std::int64_t ncols = file.attr_int("/A", "MATLAB_sparse");
  const std::int64_t nrows = jc.numel() - 1;
  NEUROPS_CHECK(ncols == nrows, where(path) << ": expected a square matrix, found " << nrows
                                            << " rows (/A/jc) and MATLAB_sparse = " << ncols << " columns");
  NEUROPS_CHECK(nrows <= std::numeric_limits<PetscInt>::max(),
                where(path) << ": " << nrows << " rows exceed PETSc's index range");
  rows = cols = static_cast<PetscInt>(nrows);
  const auto nnz = ir.numel();
  NEUROPS_CHECK(ir.rank() == 1 && data.rank() == 1 && data.numel() == nnz,
                where(path) << ": /A/ir (shape " << ir.shape() << ") and /A/data (shape " << data.shape()
                            << ") must be 1-D arrays of the same length");
  check_csr(
      path, "/A/jc", "/A/ir", nrows, ncols, nnz, [&](index_t i) { return jc[i]; }, [&](index_t k) { return ir[k]; });
  check_finite(path, "/A/data", nnz, [&](index_t k) { return data[k]; });
  const auto b = file.read<double>("/b");
  check_finite(path, "/b", b.numel(), [&](index_t k) { return b[k]; });
  NEUROPS_CHECK(b_shape.numel() == rows, "system file '" << path.string() << "': /b has shape " << b_shape
                                                         << ", expected " << rows << " entries");
}
// PETSc's binary format has no checksum: a flipped bit in a value is another valid matrix. Files that
// neurops writes end with a trailer PETSc's loaders never read (they stop after the vector): the
// magic "NEUROPS1" and the 64-bit FNV-1a hash of every byte before it. A file with the trailer is
// verified; one without (written by PETSc itself) is accepted after the structural checks.
constexpr char kTrailerMagic[8] = {'N', 'E', 'U', 'R', 'O', 'P', 'S', '1'};
constexpr std::uint64_t kTrailerBytes = 16;

std::uint64_t fnv1a(std::istream& in, std::uint64_t bytes) {
  std::uint64_t h = 14695981039346656037ull;
  std::vector<char> buf(1 << 16);
  while (bytes > 0 && in) {
    const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(bytes, buf.size()));
    in.read(buf.data(), n);
    for (std::streamsize i = 0; i < in.gcount(); ++i)
      h = (h ^ static_cast<unsigned char>(buf[std::size_t(i)])) * 1099511628211ull;
    bytes -= static_cast<std::uint64_t>(in.gcount());
  }
  return h;
}

void append_trailer(const fs::path& file) {
  std::error_code ec;
  const auto size = static_cast<std::uint64_t>(fs::file_size(file, ec));
  std::ifstream in(file, std::ios::binary);
  const std::uint64_t h = fnv1a(in, size);
  NEUROPS_CHECK(!ec && in, "cannot read back '" << file.string() << "' to checksum it");
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out.write(kTrailerMagic, sizeof kTrailerMagic);
  out.write(reinterpret_cast<const char*>(&h), sizeof h);
  out.flush();
  NEUROPS_CHECK(out.good(), "writing the checksum of '" << file.string() << "' failed (disk full?)");
}

/// Big-endian reader of a PETSc binary file that knows where it is, for messages.
class BinaryReader {
 public:
  explicit BinaryReader(const fs::path& path) : path_(path), in_(path, std::ios::binary) {
    NEUROPS_CHECK(in_.good(), where(path) << " cannot be opened for reading");
    std::error_code ec;
    size_ = static_cast<std::uint64_t>(fs::file_size(path, ec));
  }
  std::uint64_t size() const { return size_; }
  std::uint64_t remaining() const { return size_ - offset_; }
  /// `n` big-endian integers of PetscInt width, or doubles; a short file is an Error saying what was cut.
  template <class T>
  std::vector<T> read(std::uint64_t n, const std::string& what) {
    NEUROPS_CHECK(n <= remaining() / sizeof(T), where(path_)
                                                    << ": truncated: " << what << " needs " << n * sizeof(T)
                                                    << " bytes at offset " << offset_ << ", found " << remaining());
    std::vector<T> v(static_cast<std::size_t>(n));
    in_.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
    NEUROPS_CHECK(in_.good(), where(path_) << ": read error in " << what << " at offset " << offset_);
    offset_ += n * sizeof(T);
    for (T& x : v) x = from_big_endian(x);
    return v;
  }
  template <class T>
  T one(const std::string& what) {
    return read<T>(1, what)[0];
  }

 private:
  template <class T>
  static T from_big_endian(T x) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &x, sizeof(T));
    std::reverse(b, b + sizeof(T));  // PETSc's binary format is big-endian; x86 is little-endian
    std::memcpy(&x, b, sizeof(T));
    return x;
  }
  fs::path path_;
  std::ifstream in_;
  std::uint64_t size_ = 0, offset_ = 0;
};

void verify_trailer(const fs::path& path, std::uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  const std::uint64_t h = fnv1a(in, size - kTrailerBytes);
  char magic[8] = {};
  std::uint64_t stored = 0;
  in.read(magic, sizeof magic);
  in.read(reinterpret_cast<char*>(&stored), sizeof stored);
  NEUROPS_CHECK(in.good() && std::memcmp(magic, kTrailerMagic, sizeof magic) == 0,
                where(path) << ": 16 bytes follow the vector but they are not neurops' checksum trailer");
  NEUROPS_CHECK(h == stored, where(path) << ": checksum mismatch (stored " << std::hex << stored << ", computed " << h
                                         << "): the file is corrupt");
}

/// The PETSc binary layout written by MatView + VecView (MAT_FILE_CLASSID, rows, cols, nnz, row
/// lengths, columns, values; VEC_FILE_CLASSID, n, values), checked entry by entry before MatLoad
/// sees it: MatLoad trusts the arrays (out-of-range columns crashed MatMult and SOR).
void validate_binary_layout(const fs::path& path) {
  static_assert(std::numeric_limits<double>::is_iec559, "PETSc binary values are IEEE doubles");
  BinaryReader in(path);
  const PetscInt mat_id = in.one<PetscInt>("the matrix header");
  NEUROPS_CHECK(mat_id == MAT_FILE_CLASSID, where(path) << ": expected a PETSc matrix (class id " << MAT_FILE_CLASSID
                                                        << ") first, found id " << mat_id);
  const auto header = in.read<PetscInt>(3, "the matrix header");
  const std::int64_t rows = header[0], cols = header[1], nnz = header[2];
  NEUROPS_CHECK(rows >= 0 && rows == cols, where(path)
                                               << ": expected a square matrix, found " << rows << " x " << cols);
  NEUROPS_CHECK(nnz >= 0,
                where(path) << ": " << nnz << " nonzeros (dense or corrupt header); expected a sparse AIJ matrix");
  NEUROPS_CHECK(std::uint64_t(rows) <= in.size() && std::uint64_t(nnz) <= in.size(),
                where(path) << ": header says " << rows << " rows and " << nnz << " nonzeros, more than the file's "
                            << in.size() << " bytes can hold");
  // Sizes against the file length before allocating anything they imply.
  const std::uint64_t need = std::uint64_t(rows) * sizeof(PetscInt) + std::uint64_t(nnz) * (sizeof(PetscInt) + 8) +
                             2 * sizeof(PetscInt) + std::uint64_t(rows) * 8;
  const bool trailer = need + kTrailerBytes == in.remaining();
  NEUROPS_CHECK(need == in.remaining() || trailer, where(path) << ": a " << rows << " x " << cols << " matrix with "
                                                               << nnz << " nonzeros and its vector take " << need
                                                               << " bytes after the header (+" << kTrailerBytes
                                                               << " for neurops' checksum), found " << in.remaining());
  if (trailer) verify_trailer(path, in.size());
  const auto lengths = in.read<PetscInt>(std::uint64_t(rows), "the row lengths");
  std::vector<std::int64_t> start(static_cast<std::size_t>(rows) + 1, 0);
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t len = lengths[static_cast<std::size_t>(i)];
    NEUROPS_CHECK(len >= 0 && len <= cols, where(path)
                                               << ": row " << i << " has length " << len << ", expected 0 to " << cols);
    start[static_cast<std::size_t>(i) + 1] = start[static_cast<std::size_t>(i)] + len;
  }
  const auto columns = in.read<PetscInt>(std::uint64_t(nnz), "the column indices");
  check_csr(
      path, "the row lengths", "the column indices", rows, cols, nnz,
      [&](index_t i) { return start[static_cast<std::size_t>(i)]; },
      [&](index_t k) { return std::int64_t(columns[static_cast<std::size_t>(k)]); });
  const auto values = in.read<double>(std::uint64_t(nnz), "the matrix values");
  check_finite(path, "the matrix values", nnz, [&](index_t k) { return values[static_cast<std::size_t>(k)]; });
  const PetscInt vec_id = in.one<PetscInt>("the vector header");
  NEUROPS_CHECK(vec_id == VEC_FILE_CLASSID, where(path)
                                                << ": expected the right-hand side (class id " << VEC_FILE_CLASSID
                                                << ") after the matrix, found id " << vec_id);
  const std::int64_t n = in.one<PetscInt>("the vector header");
  NEUROPS_CHECK(n == rows, where(path) << ": right-hand side has " << n << " entries, expected " << rows);
  const auto b = in.read<double>(std::uint64_t(n), "the right-hand side");
  check_finite(path, "the right-hand side", n, [&](index_t k) { return b[static_cast<std::size_t>(k)]; });
}
/// MatView + VecView into rank 0's ".NAME.tmp-PID", renamed onto `path` when complete; on any
/// failure the temporary is removed and an existing `path` is left as it was.
void write_binary_atomically(MPI_Comm comm, int rank, const fs::path& path, Mat A, Vec b) {
  long pid = rank == 0 ? static_cast<long>(::getpid()) : 0;
  MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);  // one temporary name on every rank: PETSc writes it from rank 0
  const fs::path tmp = rank == 0
                           ? io::temporary_path(path, pid)
                           : path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(pid));
  std::error_code ec;
  try {
    PetscViewerHandle viewer;
    NEUROPS_PETSC(PetscViewerBinaryOpen(comm, tmp.c_str(), FILE_MODE_WRITE, viewer.out()));
    NEUROPS_PETSC(PetscViewerBinarySetSkipInfo(viewer, PETSC_TRUE));
    NEUROPS_PETSC(MatView(A, viewer));
    NEUROPS_PETSC(VecView(b, viewer));
    NEUROPS_PETSC(PetscViewerFlush(viewer));
  } catch (const Error& e) {
    if (rank == 0) fs::remove(tmp, ec);
    NEUROPS_THROW("writing system file '" << path.string() << "' failed: " << e.message());
  }
  int failed = 0;
  if (rank == 0) {
    try {
      append_trailer(tmp);
    } catch (const Error&) {
      fs::remove(tmp, ec);
      failed = 2;
    }
    if (!failed) fs::rename(tmp, path, ec);
    if (!failed && ec) fs::remove(tmp, ec), failed = 1;
  }
  MPI_Bcast(&failed, 1, MPI_INT, 0, comm);
  NEUROPS_CHECK(failed != 2,
                "writing system file '" << path.string() << "' failed: no room for its checksum (disk full?)");
  NEUROPS_CHECK(!failed, "cannot move the finished system file onto '" << path.string() << "'");
}
}  // namespace

void write_system(const fs::path& path, Mat A, Vec b, std::optional<double> context) {
  PetscInt m = 0, n = 0, nb = 0;
  NEUROPS_PETSC(MatGetSize(A, &m, &n));
  NEUROPS_PETSC(VecGetSize(b, &nb));
  NEUROPS_CHECK(m == n && nb == m, "write_system '" << path.string() << "': expected a square matrix and a matching "
                                                    << "vector, found " << m << " x " << n << " and " << nb);
  MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(A));
  PetscMPIInt size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  if (is_binary(path)) {
    write_binary_atomically(comm, rank, path, A, b);
    return;
  }
  NEUROPS_CHECK(size == 1, "write_system '" << path.string() << "': HDF5 output needs a sequential matrix, found "
                                            << size << " ranks (use a .bin path for parallel output)");
  Tensor<std::int64_t> jc({m + 1});
  std::vector<std::int64_t> ir;
  std::vector<double> data;
  for (PetscInt i = 0; i < m; ++i) {
    PetscInt ncols = 0;
    const PetscInt* cols = nullptr;
    const PetscScalar* vals = nullptr;
    NEUROPS_PETSC(MatGetRow(A, i, &ncols, &cols, &vals));
    for (PetscInt k = 0; k < ncols; ++k) {
      ir.push_back(cols[k]);
      data.push_back(PetscRealPart(vals[k]));
    }
    NEUROPS_PETSC(MatRestoreRow(A, i, &ncols, &cols, &vals));
    jc[i + 1] = static_cast<std::int64_t>(ir.size());
  }
  Tensor<std::int64_t> ir_t({static_cast<index_t>(ir.size())});
  Tensor<double> data_t({static_cast<index_t>(data.size())}), b_t({m});
  std::copy(ir.begin(), ir.end(), ir_t.begin());
  std::copy(data.begin(), data.end(), data_t.begin());
  const PetscScalar* bv = nullptr;
  NEUROPS_PETSC(VecGetArrayRead(b, &bv));
  for (PetscInt i = 0; i < m; ++i) b_t[i] = PetscRealPart(bv[i]);
  NEUROPS_PETSC(VecRestoreArrayRead(b, &bv));
  auto file = io::H5File::create(path);
  file.write("/A/jc", jc);
  file.write("/A/ir", ir_t);
  file.write("/A/data", data_t);
  file.set_attr("/A", "MATLAB_sparse", std::int64_t(n));
  file.set_attr("/A", "MATLAB_class", std::string("double"));
  file.write("/b", b_t);
  if (context) file.set_attr("/", "context", *context);
  file.commit();
}

LinearSystem read_system(MPI_Comm comm, const fs::path& path) {
  NEUROPS_CHECK(fs::exists(path), "system file '" << path.string() << "' does not exist");
  LinearSystem sys;
  try {
    if (is_binary(path)) {
      validate_binary_layout(path);
      PetscViewerHandle viewer;
      NEUROPS_PETSC(PetscViewerBinaryOpen(comm, path.c_str(), FILE_MODE_READ, viewer.out()));
      NEUROPS_PETSC(MatCreate(comm, sys.A.out()));
      NEUROPS_PETSC(MatSetType(sys.A, MATAIJ));
      NEUROPS_PETSC(MatLoad(sys.A, viewer));
      NEUROPS_PETSC(VecCreate(comm, sys.b.out()));
      NEUROPS_PETSC(VecLoad(sys.b, viewer));
    } else {
      PetscInt rows = 0, cols = 0;
      validate_hdf5_layout(path, rows, cols);
      {
        const auto file = io::H5File::open(path);
        if (file.has_attr("/", "context")) {
          sys.context = file.attr_real("/", "context");
          NEUROPS_CHECK(std::isfinite(*sys.context),
                        where(path) << ": attribute /context is " << *sys.context << ", expected a finite number");
        }
      }
      PetscViewerHandle viewer;
      NEUROPS_PETSC(PetscViewerHDF5Open(comm, path.c_str(), FILE_MODE_READ, viewer.out()));
      NEUROPS_PETSC(PetscViewerPushFormat(viewer, PETSC_VIEWER_HDF5_MAT));
      NEUROPS_PETSC(MatCreate(comm, sys.A.out()));
      NEUROPS_PETSC(MatSetType(sys.A, MATAIJ));
      NEUROPS_PETSC(PetscObjectSetName(reinterpret_cast<PetscObject>(sys.A.get()), "A"));
      NEUROPS_PETSC(MatLoad(sys.A, viewer));
      NEUROPS_PETSC(PetscViewerPopFormat(viewer));
      NEUROPS_PETSC(VecCreate(comm, sys.b.out()));
      NEUROPS_PETSC(PetscObjectSetName(reinterpret_cast<PetscObject>(sys.b.get()), "b"));
      NEUROPS_PETSC(VecLoad(sys.b, viewer));
    }
  } catch (const Error& e) {
    if (e.message().find(path.string()) != std::string::npos) throw;
    NEUROPS_THROW("reading system file '" << path.string() << "': " << e.message());
  }
  PetscInt m = 0, n = 0, nb = 0;
  NEUROPS_PETSC(MatGetSize(sys.A, &m, &n));
  NEUROPS_PETSC(VecGetSize(sys.b, &nb));
  NEUROPS_CHECK(m == n, "system file '" << path.string() << "': expected a square matrix, found " << m << " x " << n);
  NEUROPS_CHECK(nb == m,
                "system file '" << path.string() << "': right-hand side has " << nb << " entries, expected " << m);
  return sys;
}

}  // namespace neurops::solvers
