#pragma once
// XDMF (v3) sidecar files so ParaView/VisIt open neurops' HDF5 fields directly, without conversion.
// Uniform grids only (2DCoRectMesh / 3DCoRectMesh with ORIGIN_DXDY[DZ]); fields are node-centred.
// Datasets laid out (batch, channel, spatial...) are addressed by a hyperslab that fixes the leading
// indices, so one sample/channel of a large dataset is shown without copying it.
#include <filesystem>
#include <string>
#include <vector>

#include "neurops/io/hdf5.hpp"

namespace neurops::io {

/// Uniform grid; every array is ordered slowest axis first, as the tensor: (ny, nx) or (nz, ny, nx).
struct UniformGrid {
  std::vector<index_t> dims;
  std::vector<double> origin;   // defaults to zeros
  std::vector<double> spacing;  // defaults to 1/(n-1) per axis (unit box)
  int rank() const { return static_cast<int>(dims.size()); }
};

/// One field on the grid: `dataset` in the HDF5 file, whose trailing axes are the grid's and whose
/// leading axes are fixed by `index` (e.g. {sample, channel}).
struct XdmfAttribute {
  std::string name;
  std::string dataset;
  Shape dataset_shape;
  DType dtype = DType::float32;
  std::vector<index_t> index;
};
/// Builds an XdmfAttribute from what the file says about `dataset` (shape and type).
XdmfAttribute xdmf_attribute(const H5File& file, const std::string& dataset, const std::string& name,
                             const std::vector<index_t>& index = {});

struct XdmfStep {
  double time = 0;
  std::vector<XdmfAttribute> attributes;
};

/// One grid with several fields. `h5_path` is written relative to the XDMF file's folder.
void write_xdmf(const std::filesystem::path& xdmf_path, const std::filesystem::path& h5_path, const UniformGrid& grid,
                const std::vector<XdmfAttribute>& attributes);
/// A temporal collection: one grid per step, each with its time value.
void write_xdmf_series(const std::filesystem::path& xdmf_path, const std::filesystem::path& h5_path,
                       const UniformGrid& grid, const std::vector<XdmfStep>& steps);

}  // namespace neurops::io
