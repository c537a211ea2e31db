// Fields in the layout of PETSc's HDF5 viewer (petsc_fields.hpp).
#include "neurops/io/petsc_fields.hpp"

#include <sstream>

#include "neurops/core/error.hpp"
#include "neurops/io/hdf5.hpp"

namespace neurops::io {

namespace {

std::string where(const std::filesystem::path& file, const std::string& dataset) {
  return "'" + file.string() + "' dataset '" + dataset + "'";
}

index_t product(const std::vector<index_t>& v) {
  index_t n = 1;
  for (index_t x : v) n *= x;
  return n;
}

}  // namespace

std::string PetscFieldLayout::str() const {
  std::ostringstream os;
  const char* names[] = {"z", "y", "x"};
  os << "(";
  if (timestepping) os << "t " << steps << ", ";
  for (std::size_t a = 0; a < grid.size(); ++a) os << names[3 - grid.size() + a] << " " << grid[a] << ", ";
  os << "dof " << dof << ")";
  return os.str();
}

PetscFieldLayout petsc_field_layout(const std::filesystem::path& file, const std::string& dataset, int dim) {
  NEUROPS_CHECK(dim == 2 || dim == 3, "PETSc field " << where(file, dataset) << ": expected 2 or 3 spatial "
                                                     << "dimensions, found " << dim);
  const auto f = H5File::open(file);
  NEUROPS_CHECK(f.is_dataset(dataset), "PETSc field " << where(file, dataset) << ": no such dataset");
  const DType type = f.dtype(dataset);
  NEUROPS_CHECK(
      type == DType::float64 || type == DType::float32,
      "PETSc field " << where(file, dataset) << ": expected real values (float64 or float32), found " << type);
  PetscFieldLayout l;
  l.dim = dim;
  // PETSc's viewer marks timestepped datasets with timestepping = 1; fields written without
  // timestepping may carry timestepping = 0 or no attribute at all (PETSc 3.18 writes none).
  l.timestepping = f.has_attr(dataset, "timestepping") && f.attr_int(dataset, "timestepping") != 0;
  const std::vector<index_t> shape = f.shape(dataset).dims();
  const int spatial_and_dof = int(shape.size()) - (l.timestepping ? 1 : 0);
  NEUROPS_CHECK(spatial_and_dof == dim || spatial_and_dof == dim + 1,
                where(file, dataset) << " is not a " << dim << "-D DMDA field: expected the shape ("
                                     << (l.timestepping ? "t, " : "") << (dim == 3 ? "z, " : "")
                                     << "y, x[, dof]) of PETSc's viewer, found " << f.shape(dataset));
  const std::size_t first = l.timestepping ? 1 : 0;
  if (l.timestepping) l.steps = shape[0];
  l.grid.assign(shape.begin() + std::ptrdiff_t(first), shape.begin() + std::ptrdiff_t(first) + dim);
  l.dof = spatial_and_dof == dim + 1 ? shape.back() : 1;
  return l;
}

template <class T>
Tensor<T> read_petsc_field(const std::filesystem::path& file, const std::string& dataset, int dim) {
  const PetscFieldLayout l = petsc_field_layout(file, dataset, dim);
  const auto f = H5File::open(file);
  const Tensor<T> raw = f.read<T>(dataset);
  std::vector<index_t> dims{l.steps, l.dof};
  dims.insert(dims.end(), l.grid.begin(), l.grid.end());
  Tensor<T> out = Tensor<T>::uninitialized(Shape(dims));
  const index_t points = product(l.grid), dof = l.dof;
  for (index_t t = 0; t < l.steps; ++t) {
    const T* in = raw.data() + t * points * dof;
    T* o = out.data() + t * points * dof;
    for (index_t p = 0; p < points; ++p)
      for (index_t c = 0; c < dof; ++c) o[c * points + p] = in[p * dof + c];
  }
  return out;
}

template <class T>
void write_petsc_field(const std::filesystem::path& file, const std::string& dataset, const Tensor<T>& field, int dim,
                       bool timestepping) {
  NEUROPS_CHECK(dim == 2 || dim == 3, "PETSc field " << where(file, dataset) << ": expected 2 or 3 spatial "
                                                     << "dimensions, found " << dim);
  const bool batched = field.rank() == dim + 2;
  NEUROPS_CHECK(batched || field.rank() == dim + 1,
                "PETSc field " << where(file, dataset) << ": expected a field (N, dof, grid...) or (dof, grid...) with "
                               << dim << " spatial axes, found " << field.shape());
  const index_t steps = batched ? field.size(0) : 1, dof = field.size(batched ? 1 : 0);
  NEUROPS_CHECK(timestepping || steps == 1, "PETSc field " << where(file, dataset) << ": " << steps
                                                           << " samples need timestepping (one step each)");
  const Shape grid = field.shape().tail(batched ? 2 : 1);
  std::vector<index_t> dims;
  if (timestepping) dims.push_back(steps);
  for (int a = 0; a < grid.rank(); ++a) dims.push_back(grid[a]);
  if (dof > 1) dims.push_back(dof);
  Tensor<T> raw = Tensor<T>::uninitialized(Shape(dims));
  const index_t points = grid.numel();
  for (index_t t = 0; t < steps; ++t) {
    const T* in = field.data() + t * points * dof;
    T* o = raw.data() + t * points * dof;
    for (index_t p = 0; p < points; ++p)
      for (index_t c = 0; c < dof; ++c) o[p * dof + c] = in[c * points + p];
  }
  const bool exists = std::filesystem::exists(file);
  H5File f = exists ? H5File::open(file, FileMode::read_write) : H5File::create(file);
  if (f.exists(dataset)) f.remove(dataset);
  f.write(dataset, raw);
  f.set_attr(dataset, "timestepping", std::int64_t(timestepping ? 1 : 0));
  f.commit();
}

#define NEUROPS_INSTANTIATE(T)                                                                   \
  template Tensor<T> read_petsc_field<T>(const std::filesystem::path&, const std::string&, int); \
  template void write_petsc_field<T>(const std::filesystem::path&, const std::string&, const Tensor<T>&, int, bool);
NEUROPS_INSTANTIATE(float)
NEUROPS_INSTANTIATE(double)
#undef NEUROPS_INSTANTIATE

}  // namespace neurops::io
