#include "neurops/solvers/system_io.hpp"

#include <petscviewerhdf5.h>
#include <unistd.h>

#include <vector>

#include "neurops/io/hdf5.hpp"

namespace neurops::solvers {

namespace fs = std::filesystem;

namespace {
bool is_binary(const fs::path& path) { return path.extension() == ".bin" || path.extension() == ".petsc"; }

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
  rows = static_cast<PetscInt>(jc.numel() - 1);
  cols = static_cast<PetscInt>(file.attr_int("/A", "MATLAB_sparse"));
  const auto nnz = ir.numel();
  NEUROPS_CHECK(data.numel() == nnz, "system file '" << path.string() << "': /A/ir has " << nnz
                                                     << " entries but /A/data has " << data.numel());
  NEUROPS_CHECK(jc[0] == 0 && jc[jc.numel() - 1] == nnz,
                "system file '" << path.string() << "': /A/jc must start at 0 and end at nnz = " << nnz << ", found "
                                << jc[0] << " .. " << jc[jc.numel() - 1]);
  for (index_t i = 0; i + 1 < jc.numel(); ++i)
    NEUROPS_CHECK(jc[i] <= jc[i + 1], "system file '" << path.string() << "': /A/jc decreases at row " << i);
  for (index_t k = 0; k < nnz; ++k)
    NEUROPS_CHECK(ir[k] >= 0 && ir[k] < cols, "system file '" << path.string() << "': column index " << ir[k]
                                                              << " at entry " << k << " outside [0, " << cols << ")");
  NEUROPS_CHECK(rows == cols,
                "system file '" << path.string() << "': expected a square matrix, found " << rows << " x " << cols);
  NEUROPS_CHECK(b_shape.numel() == rows, "system file '" << path.string() << "': /b has shape " << b_shape
                                                         << ", expected " << rows << " entries");
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
    const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
    {
      PetscViewerHandle viewer;
      NEUROPS_PETSC(PetscViewerBinaryOpen(comm, tmp.c_str(), FILE_MODE_WRITE, viewer.out()));
      NEUROPS_PETSC(PetscViewerBinarySetSkipInfo(viewer, PETSC_TRUE));
      NEUROPS_PETSC(MatView(A, viewer));
      NEUROPS_PETSC(VecView(b, viewer));
    }
    if (rank == 0) fs::rename(tmp, path);
    MPI_Barrier(comm);
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
        if (file.has_attr("/", "context")) sys.context = file.attr_real("/", "context");
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
