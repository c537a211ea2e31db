#include "neurops/io/xdmf.hpp"

#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

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

/// Names and paths as XML text or attribute values: the five characters XML reserves, escaped.
std::string xml_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
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

// The virtual dataset has the type its source has in the file (neurops writes little-endian).
hid_t file_type(DType t) {
  switch (t) {
    case DType::float32:
      return H5T_IEEE_F32LE;
    case DType::float64:
      return H5T_IEEE_F64LE;
    case DType::int32:
      return H5T_STD_I32LE;
    case DType::int64:
      return H5T_STD_I64LE;
    case DType::uint8:
      return H5T_STD_U8LE;
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

/// The grid as XDMF writes it: always three axes (z, y, x). Both ParaView readers put the two axes of
/// a 2DCoRectMesh on y and z, where the default camera sees the plane edge-on; one z layer instead
/// puts a 2-D field in the x-y plane.
struct Grid3 {
  std::vector<index_t> dims;
  std::vector<double> origin, spacing;
};

Grid3 as_3d(const UniformGrid& g) {
  Grid3 out{g.dims, g.origin, g.spacing};
  if (out.origin.empty()) out.origin.assign(g.dims.size(), 0.0);
  if (out.spacing.empty())
    for (auto d : g.dims) out.spacing.push_back(d > 1 ? 1.0 / double(d - 1) : 1.0);
  if (g.rank() == 2) {
    out.dims.insert(out.dims.begin(), 1);
    out.origin.insert(out.origin.begin(), 0.0);
    out.spacing.insert(out.spacing.begin(), 1.0);
  }
  return out;
}

void check_attribute(const UniformGrid& g, const XdmfAttribute& a) {
  const Shape& s = a.dataset_shape;
  const int r = g.rank(), lead = s.rank() - r;
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
  number_type(a.dtype);  // throws for non-numeric data
}

/// Adds to `file` the virtual dataset `name` of shape `dims` that maps the grid-sized block of
/// `source`:`a.dataset` at the leading indices `a.index`.
void create_view(const H5File& file, const std::string& name, const std::string& source, const XdmfAttribute& a,
                 const std::vector<hsize_t>& dims) {
  const std::string what =
      "virtual dataset '" + file.path().string() + ":" + name + "' of '" + source + ":" + a.dataset + "'";
  std::vector<hsize_t> src_dims, start, count;
  for (int i = 0; i < a.dataset_shape.rank(); ++i) src_dims.push_back(static_cast<hsize_t>(a.dataset_shape[i]));
  for (std::size_t i = 0; i < src_dims.size(); ++i) {
    const bool leading = i < a.index.size();
    start.push_back(leading ? static_cast<hsize_t>(a.index[i]) : 0);
    count.push_back(leading ? 1 : src_dims[i]);
  }
  H5Id vspace(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  H5Id sspace(H5Screate_simple(static_cast<int>(src_dims.size()), src_dims.data(), nullptr));
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
  NEUROPS_CHECK(vspace.valid() && sspace.valid() && dcpl.valid() && lcpl.valid() &&
                    H5Sselect_hyperslab(sspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) >= 0 &&
                    H5Pset_virtual(dcpl, vspace, source.c_str(), a.dataset.c_str(), sspace) >= 0 &&
                    H5Pset_create_intermediate_group(lcpl, 1) >= 0,
                "cannot describe the " << what);
  // Where the data file cannot be found, real fields read as NaN rather than as plausible zeros.
  if (a.dtype == DType::float32 || a.dtype == DType::float64) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    NEUROPS_CHECK(H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan) >= 0, "cannot set the fill value of the " << what);
  }
  H5Id ds(H5Dcreate2(file.id(), name.c_str(), file_type(a.dtype), vspace, lcpl, dcpl, H5P_DEFAULT));
  NEUROPS_CHECK(ds.valid(), "cannot create the " << what);
  ds.close(what);
}

/// The virtual datasets of one sidecar: one per (dataset, leading index) the XDMF file shows, named
/// /<dataset>/<i0>_<i1>... ("/<dataset>/all" for a dataset that is the grid itself).
class Views {
 public:
  const std::string& name_of(const XdmfAttribute& a) {
    auto key = std::make_pair(a.dataset, a.index);
    auto it = names_.find(key);
    if (it != names_.end()) return it->second;
    std::string name = a.dataset;
    if (name.empty() || name.front() != '/') name.insert(0, 1, '/');
    name += '/';
    for (std::size_t i = 0; i < a.index.size(); ++i) {
      if (i) name += '_';
      name += std::to_string(a.index[i]);
    }
    if (a.index.empty()) name += "all";
    order_.push_back(a);
    return names_.emplace(std::move(key), std::move(name)).first->second;
  }

  /// Writes the sidecar atomically; `source` is the data file as the sidecar's folder sees it.
  void write(const fs::path& path, const std::string& source, const Grid3& g) const {
    auto file = H5File::create(path);
    file.set_attr("/", "source", source);
    const std::vector<hsize_t> dims(g.dims.begin(), g.dims.end());
    for (const auto& a : order_) create_view(file, names_.at({a.dataset, a.index}), source, a, dims);
    file.commit();
  }

 private:
  std::map<std::pair<std::string, std::vector<index_t>>, std::string> names_;
  std::vector<XdmfAttribute> order_;
};

/// Writes the XML of the grids and collects the virtual datasets they reference.
class XmlWriter {
 public:
  XmlWriter(const UniformGrid& grid, std::string views_file)
      : grid_(grid), g3_(as_3d(grid)), ref_(std::move(views_file)) {}

  void grid(const std::vector<XdmfAttribute>& attributes, const std::string& name, const double* time,
            const std::string& indent) {
    os_ << indent << "<Grid Name=\"" << xml_escaped(name) << "\" GridType=\"Uniform\">\n";
    if (time) os_ << indent << "  <Time Value=\"" << std::setprecision(17) << *time << "\"/>\n";
    os_ << indent << "  <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" << join(g3_.dims) << "\"/>\n";
    os_ << indent << "  <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n";
    os_ << indent << "    <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"3\">"
        << join(g3_.origin) << "</DataItem>\n";
    os_ << indent << "    <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"3\">"
        << join(g3_.spacing) << "</DataItem>\n";
    os_ << indent << "  </Geometry>\n";
    for (const auto& a : attributes) {
      check_attribute(grid_, a);
      const auto [nt, prec] = number_type(a.dtype);
      os_ << indent << "  <Attribute Name=\"" << xml_escaped(a.name)
          << "\" AttributeType=\"Scalar\" Center=\"Node\">\n";
      os_ << indent << "    <DataItem Format=\"HDF\" NumberType=\"" << nt << "\" Precision=\"" << prec
          << "\" Dimensions=\"" << join(g3_.dims) << "\">" << xml_escaped(ref_ + ":" + views_.name_of(a))
          << "</DataItem>\n";
      os_ << indent << "  </Attribute>\n";
    }
    os_ << indent << "</Grid>\n";
  }

  void collection(const XdmfBlock& block, const std::string& indent) {
    NEUROPS_CHECK(!block.steps.empty(), "XDMF collection '" << block.name << "': no time steps");
    os_ << indent << "<Grid Name=\"" << xml_escaped(block.name)
        << "\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    for (std::size_t i = 0; i < block.steps.size(); ++i)
      grid(block.steps[i].attributes, "step_" + std::to_string(i), &block.steps[i].time, indent + "  ");
    os_ << indent << "</Grid>\n";
  }

  /// The sidecar first, so the XDMF file never names datasets that do not exist yet.
  void write(const fs::path& xdmf_path, const fs::path& h5_path) const {
    views_.write(xdmf_views_path(xdmf_path), h5_reference(xdmf_path, h5_path), g3_);
    write_text_atomically(xdmf_path, std::string(kHeader) + os_.str() + kFooter);
  }

 private:
  static std::string h5_reference(const fs::path& xdmf_path, const fs::path& h5_path) {
    const fs::path base = xdmf_path.has_parent_path() ? xdmf_path.parent_path() : fs::path(".");
    std::error_code ec;
    fs::path rel = fs::relative(fs::absolute(h5_path, ec), fs::absolute(base, ec), ec);
    return (ec || rel.empty() ? h5_path : rel).generic_string();
  }
  static constexpr const char* kHeader =
      "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n<Xdmf Version=\"3.0\">\n  <Domain>\n";
  static constexpr const char* kFooter = "  </Domain>\n</Xdmf>\n";

  const UniformGrid& grid_;
  Grid3 g3_;
  std::string ref_;
  Views views_;
  std::ostringstream os_;
};

XmlWriter xml_writer(const fs::path& xdmf_path, const UniformGrid& grid) {
  check_grid(grid);
  return XmlWriter(grid, xdmf_views_path(xdmf_path).filename().generic_string());
}

index_t sample_count(const std::vector<XdmfAttribute>& first, index_t samples, const char* what) {
  NEUROPS_CHECK(!first.empty(), what << ": no fields");
  index_t held = std::numeric_limits<index_t>::max();
  for (const auto& a : first) {
    NEUROPS_CHECK(!a.index.empty() && a.dataset_shape.rank() > 0,
                  what << ": field '" << a.name << "' (dataset " << a.dataset << ") has no sample axis to step over");
    held = std::min(held, a.dataset_shape[0]);
  }
  NEUROPS_CHECK(samples <= held, what << ": " << samples << " samples asked for, the datasets hold " << held);
  return samples < 0 ? held : samples;
}

}  // namespace

XdmfAttribute xdmf_attribute(const H5File& file, const std::string& dataset, const std::string& name,
                             const std::vector<index_t>& index) {
  return XdmfAttribute{name, dataset, file.shape(dataset), file.dtype(dataset), index};
}

fs::path xdmf_views_path(const fs::path& xdmf_path) {
  fs::path p = xdmf_path;
  p += ".h5";
  return p;
}

void write_xdmf(const fs::path& xdmf_path, const fs::path& h5_path, const UniformGrid& grid,
                const std::vector<XdmfAttribute>& attributes) {
  auto w = xml_writer(xdmf_path, grid);
  w.grid(attributes, "fields", nullptr, "    ");
  w.write(xdmf_path, h5_path);
}

void write_xdmf_series(const fs::path& xdmf_path, const fs::path& h5_path, const UniformGrid& grid,
                       const std::vector<XdmfStep>& steps) {
  NEUROPS_CHECK(!steps.empty(), "XDMF series '" << xdmf_path.string() << "': no time steps");
  write_xdmf_blocks(xdmf_path, h5_path, grid, {XdmfBlock{"series", steps}});
}

void write_xdmf_blocks(const fs::path& xdmf_path, const fs::path& h5_path, const UniformGrid& grid,
                       const std::vector<XdmfBlock>& blocks) {
  NEUROPS_CHECK(!blocks.empty(), "XDMF file '" << xdmf_path.string() << "': no collections");
  auto w = xml_writer(xdmf_path, grid);
  for (const auto& b : blocks) w.collection(b, "    ");
  w.write(xdmf_path, h5_path);
}

std::vector<XdmfStep> xdmf_sample_steps(const std::vector<XdmfAttribute>& first, index_t samples) {
  const index_t n = sample_count(first, samples, "XDMF sample steps");
  std::vector<XdmfStep> steps;
  for (index_t s = 0; s < n; ++s) {
    XdmfStep step{double(s), first};
    for (auto& a : step.attributes) a.index[0] = s;
    steps.push_back(std::move(step));
  }
  return steps;
}

std::vector<XdmfBlock> xdmf_snapshot_blocks(const std::vector<XdmfAttribute>& first, const std::vector<double>& times,
                                            index_t samples) {
  const index_t n = sample_count(first, samples, "XDMF snapshot blocks");
  NEUROPS_CHECK(!times.empty(), "XDMF snapshot blocks: no snapshot times");
  const auto t = static_cast<index_t>(times.size());
  for (const auto& a : first)
    NEUROPS_CHECK(a.index.size() >= 2 && (a.dataset_shape[1] == t || a.dataset_shape[1] == 1),
                  "XDMF snapshot blocks: field '" << a.name << "' (dataset " << a.dataset << " " << a.dataset_shape
                                                  << ") needs a channel axis of " << t << " snapshots or 1");
  std::vector<XdmfBlock> blocks;
  for (index_t s = 0; s < n; ++s) {
    XdmfBlock block{"sample_" + std::to_string(s), {}};
    for (index_t k = 0; k < t; ++k) {
      XdmfStep step{times[static_cast<std::size_t>(k)], first};
      for (auto& a : step.attributes) {
        a.index[0] = s;
        a.index[1] = a.dataset_shape[1] == t ? k : 0;
      }
      block.steps.push_back(std::move(step));
    }
    blocks.push_back(std::move(block));
  }
  return blocks;
}

}  // namespace neurops::io
