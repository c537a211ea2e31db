#pragma once
// Output shared by the Darcy example drivers (mgno_darcy, neurops_demo): the HDF5 + XDMF + PNG files
// of coefficients, solutions, predictions and error fields. Data generation (pde::darcy_dataset) and
// the training recipe (nn::train_field_operator) are in the library.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "neurops/io/hdf5.hpp"
#include "neurops/io/png.hpp"
#include "neurops/io/xdmf.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/version.hpp"

namespace neurops::examples {

/// Writes the first `samples` test samples: coefficient, solution, and per model its prediction and
/// error field, as one HDF5 file (datasets (S, 1, n, n)) with an XDMF sidecar that steps through the
/// samples and PNG previews of sample 0. Returns the HDF5 path.
inline std::filesystem::path write_darcy_fields(const std::filesystem::path& dir, const std::string& stem,
                                                const nn::FieldDataset<float>& test,
                                                const std::vector<std::pair<std::string, Tensor<float>>>& predictions,
                                                index_t samples, std::uint64_t seed) {
  std::filesystem::create_directories(dir);
  const index_t n = test.inputs.size(2), s = std::min(samples, test.size());
  auto first = [&](const Tensor<float>& t) { return Tensor<float>(t.slice(0, s)); };
  const std::filesystem::path h5 = dir / (stem + ".h5");
  std::vector<std::string> names{"coefficient", "solution"};
  {
    auto file = io::H5File::create(h5);
    file.write("/coefficient", first(test.inputs));
    file.write("/solution", first(test.targets));
    for (const auto& [name, pred] : predictions) {
      Tensor<float> p = first(pred), e = first(pred);
      e.vec() -= first(test.targets).vec();
      file.write("/prediction_" + name, p);
      file.write("/error_" + name, e);
      names.push_back("prediction_" + name);
      names.push_back("error_" + name);
    }
    const double h = 1.0 / double(n - 1);
    for (const auto& name : names) {
      file.set_attr("/" + name, "grid_shape", std::vector<std::int64_t>{n, n});
      file.set_attr("/" + name, "spacing", std::vector<double>{h, h});
    }
    file.set_attr("/", "problem", std::string("darcy: -div(a grad u) = 1, u = 0 on the boundary"));
    file.set_attr("/", "neurops_version", std::string(NEUROPS_VERSION_STRING));
    file.set_attr("/", "seed", std::int64_t(seed));
    file.commit();
  }
  auto reader = io::H5File::open(h5);
  std::vector<io::XdmfAttribute> attributes;
  for (const auto& name : names) attributes.push_back(io::xdmf_attribute(reader, "/" + name, name, {0, 0}));
  const double h = 1.0 / double(n - 1);
  io::write_xdmf_series(dir / (stem + ".xdmf"), h5, io::UniformGrid{{n, n}, {0, 0}, {h, h}},
                        io::xdmf_sample_steps(attributes));
  for (const auto& name : names) {
    const auto field = reader.read<float>("/" + name);
    io::PngOptions png;
    if (name.rfind("error_", 0) == 0) {
      const double m = std::max<double>(field.sample(0).vec().cwiseAbs().maxCoeff(), 1e-12);
      png.colormap = io::Colormap::coolwarm;
      png.vmin = -m;
      png.vmax = m;
    }
    io::write_png(dir / (stem + "_" + name + ".png"), field.sample(0), png);
  }
  return h5;
}

}  // namespace neurops::examples
