#pragma once
// XDMF (v3) sidecar files so ParaView/VisIt open neurops' HDF5 fields directly, without conversion.
// Uniform grids only, written as 3DCoRectMesh (a 2-D grid is one z layer, so ParaView shows it in the
// x-y plane); fields are node-centred.
//
// Both ParaView readers (the default Xdmf3ReaderS and the legacy XDMFReader) must see every array, and
// Xdmf3ReaderS cannot read HyperSlab DataItems. A field that is one (sample, channel, ...) slice of a
// larger dataset is therefore an HDF5 virtual dataset in a small second file beside the XDMF file,
// `<name>.xdmf.h5`, that maps the slice of the data file without copying it; the XDMF file references
// only whole datasets of that file.
//
//   auto r = H5File::open("darcy.h5");
//   std::vector<XdmfAttribute> first{xdmf_attribute(r, "/inputs", "a", {0, 0}),
//                                    xdmf_attribute(r, "/outputs", "u", {0, 0})};
//   write_xdmf_series("darcy.xdmf", "darcy.h5", UniformGrid{{n, n}}, xdmf_sample_steps(first));
//   // ParaView: File > Open darcy.xdmf, the time control steps through the samples.
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

/// A named temporal collection; several of them in one file are the blocks ParaView lists.
struct XdmfBlock {
  std::string name;
  std::vector<XdmfStep> steps;
};

/// The virtual-dataset file written beside `xdmf_path`: its name with `.h5` appended (darcy.xdmf.h5).
std::filesystem::path xdmf_views_path(const std::filesystem::path& xdmf_path);

/// One grid with several fields. `h5_path` is written relative to the XDMF file's folder.
void write_xdmf(const std::filesystem::path& xdmf_path, const std::filesystem::path& h5_path, const UniformGrid& grid,
                const std::vector<XdmfAttribute>& attributes);
/// A temporal collection: one grid per step, each with its time value.
void write_xdmf_series(const std::filesystem::path& xdmf_path, const std::filesystem::path& h5_path,
                       const UniformGrid& grid, const std::vector<XdmfStep>& steps);
/// Several temporal collections on the same grid, e.g. one per sample over its time snapshots;
/// ParaView steps through the union of their times.
void write_xdmf_blocks(const std::filesystem::path& xdmf_path, const std::filesystem::path& h5_path,
                       const UniformGrid& grid, const std::vector<XdmfBlock>& blocks);

/// Steps over the samples (the leading axis of every dataset): step s, at time s, shows each of
/// `first` (the fields of one sample) with index[0] = s. A negative `samples` means every sample the
/// datasets all hold; otherwise the first `samples` (e.g. the completed rows of a file being generated).
std::vector<XdmfStep> xdmf_sample_steps(const std::vector<XdmfAttribute>& first, index_t samples = -1);

/// One block per sample (`sample_0`, `sample_1`, ...), each a temporal collection over `times`
/// (time snapshots on the channel axis, index[1]): at step k a field whose dataset has times.size()
/// channels shows channel k, a field with one channel (e.g. the initial condition) at every step.
/// `samples` as for xdmf_sample_steps.
std::vector<XdmfBlock> xdmf_snapshot_blocks(const std::vector<XdmfAttribute>& first, const std::vector<double>& times,
                                            index_t samples = -1);

}  // namespace neurops::io
