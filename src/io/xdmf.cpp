#include "neurops/io/xdmf.hpp"

#include <iomanip>
#include <sstream>

namespace neurops::io {

namespace fs = std::filesystem;

namespace {

template <class V>
std::string join(const V& v) {
  std::ostringstream os;
  os << std::setprecision(17);
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? " " : "") << v[i];
  return os.str();
}

std::pair<const char*, int> number_type(DType t) {
  switch (t) {
    case DType::float32:
      return {"Float", 4};
    case DType::float64:
      return {"Float", 8};
    case DType::int32:
      return {"Int", 4};
    case DType::int64:
      return {"Int", 8};
    case DType::uint8:
      return {"UChar", 1};
    default:
      NEUROPS_THROW("XDMF: dataset type is not numeric");
  }
}

void check_grid(const UniformGrid& g) {
  NEUROPS_CHECK(g.rank() == 2 || g.rank() == 3, "XDMF grid: expected 2 or 3 dimensions, found " << g.rank());
  NEUROPS_CHECK(g.origin.empty() || static_cast<int>(g.origin.size()) == g.rank(),
                "XDMF grid: origin has " << g.origin.size() << " entries, expected " << g.rank());
  NEUROPS_CHECK(g.spacing.empty() || static_cast<int>(g.spacing.size()) == g.rank(),
                "XDMF grid: spacing has " << g.spacing.size() << " entries, expected " << g.rank());
  for (auto d : g.dims) NEUROPS_CHECK(d >= 1, "XDMF grid: extent " << d << " must be positive");
}

void grid_xml(std::ostringstream& os, const UniformGrid& g, const std::string& h5_ref,
              const std::vector<XdmfAttribute>& attributes, const std::string& grid_name, const double* time,
              const std::string& indent) {
  const int r = g.rank();
  std::vector<double> origin = g.origin.empty() ? std::vector<double>(static_cast<std::size_t>(r), 0.0) : g.origin;
  std::vector<double> spacing = g.spacing;
  if (spacing.empty())
    for (auto d : g.dims) spacing.push_back(d > 1 ? 1.0 / double(d - 1) : 1.0);
  os << indent << "<Grid Name=\"" << grid_name << "\" GridType=\"Uniform\">\n";
  if (time) os << indent << "  <Time Value=\"" << std::setprecision(17) << *time << "\"/>\n";
  os << indent << "  <Topology TopologyType=\"" << r << "DCoRectMesh\" Dimensions=\"" << join(g.dims) << "\"/>\n";
  os << indent << "  <Geometry GeometryType=\"" << (r == 2 ? "ORIGIN_DXDY" : "ORIGIN_DXDYDZ") << "\">\n";
  os << indent << "    <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"" << r << "\">"
     << join(origin) << "</DataItem>\n";
  os << indent << "    <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"" << r << "\">"
     << join(spacing) << "</DataItem>\n";
  os << indent << "  </Geometry>\n";
  for (const auto& a : attributes) {
    const Shape& s = a.dataset_shape;
    const int lead = s.rank() - r;
    NEUROPS_CHECK(lead >= 0 && static_cast<int>(a.index.size()) == lead,
                  "XDMF field '" << a.name << "': dataset " << a.dataset << " of shape " << s << " needs " << lead
                                 << " leading indices for a " << r << "-D grid, got " << a.index.size());
    for (int i = 0; i < r; ++i)
      NEUROPS_CHECK(s[lead + i] == g.dims[static_cast<std::size_t>(i)],
                    "XDMF field '" << a.name << "': dataset " << a.dataset << " of shape " << s
                                   << " does not match the grid " << Shape(g.dims));
    for (int i = 0; i < lead; ++i)
      NEUROPS_CHECK(a.index[static_cast<std::size_t>(i)] >= 0 && a.index[static_cast<std::size_t>(i)] < s[i],
                    "XDMF field '" << a.name << "': index " << a.index[static_cast<std::size_t>(i)]
                                   << " out of range on axis " << i << " of " << a.dataset << " " << s);
    const auto [nt, prec] = number_type(a.dtype);
    const std::string data_ref = h5_ref + ":" + a.dataset;
    os << indent << "  <Attribute Name=\"" << a.name << "\" AttributeType=\"Scalar\" Center=\"Node\">\n";
    if (lead == 0) {
      os << indent << "    <DataItem Format=\"HDF\" NumberType=\"" << nt << "\" Precision=\"" << prec
         << "\" Dimensions=\"" << join(g.dims) << "\">" << data_ref << "</DataItem>\n";
    } else {
      std::vector<index_t> start(a.index), stride(static_cast<std::size_t>(s.rank()), 1), count;
      for (int i = 0; i < r; ++i) start.push_back(0);
      for (int i = 0; i < lead; ++i) count.push_back(1);
      for (auto d : g.dims) count.push_back(d);
      os << indent << "    <DataItem ItemType=\"HyperSlab\" Type=\"HyperSlab\" Dimensions=\"" << join(g.dims)
         << "\">\n";
      os << indent << "      <DataItem Format=\"XML\" NumberType=\"Int\" Dimensions=\"3 " << s.rank() << "\">"
         << join(start) << " " << join(stride) << " " << join(count) << "</DataItem>\n";
      os << indent << "      <DataItem Format=\"HDF\" NumberType=\"" << nt << "\" Precision=\"" << prec
         << "\" Dimensions=\"" << join(s.dims()) << "\">" << data_ref << "</DataItem>\n";
      os << indent << "    </DataItem>\n";
    }
    os << indent << "  </Attribute>\n";
  }
  os << indent << "</Grid>\n";
}

std::string h5_reference(const fs::path& xdmf_path, const fs::path& h5_path) {
  const fs::path base = xdmf_path.has_parent_path() ? xdmf_path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::path rel = fs::relative(fs::absolute(h5_path, ec), fs::absolute(base, ec), ec);
  return (ec || rel.empty() ? h5_path : rel).generic_string();
}

const char* kHeader =
    "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n<Xdmf Version=\"3.0\">\n  <Domain>\n";
const char* kFooter = "  </Domain>\n</Xdmf>\n";

}  // namespace

XdmfAttribute xdmf_attribute(const H5File& file, const std::string& dataset, const std::string& name,
                             const std::vector<index_t>& index) {
  return XdmfAttribute{name, dataset, file.shape(dataset), file.dtype(dataset), index};
}

void write_xdmf(const fs::path& xdmf_path, const fs::path& h5_path, const UniformGrid& grid,
                const std::vector<XdmfAttribute>& attributes) {
  check_grid(grid);
  std::ostringstream os;
  os << kHeader;
  grid_xml(os, grid, h5_reference(xdmf_path, h5_path), attributes, "fields", nullptr, "    ");
  os << kFooter;
  write_text_atomically(xdmf_path, os.str());
}

void write_xdmf_series(const fs::path& xdmf_path, const fs::path& h5_path, const UniformGrid& grid,
                       const std::vector<XdmfStep>& steps) {
  check_grid(grid);
  NEUROPS_CHECK(!steps.empty(), "XDMF series '" << xdmf_path.string() << "': no time steps");
  std::ostringstream os;
  os << kHeader;
  os << "    <Grid Name=\"series\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  const std::string ref = h5_reference(xdmf_path, h5_path);
  for (std::size_t i = 0; i < steps.size(); ++i)
    grid_xml(os, grid, ref, steps[i].attributes, "step_" + std::to_string(i), &steps[i].time, "      ");
  os << "    </Grid>\n";
  os << kFooter;
  write_text_atomically(xdmf_path, os.str());
}

}  // namespace neurops::io
