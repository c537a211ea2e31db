#pragma once
// The check every model configuration's load() starts with: `group` of `file` exists and holds a
// configuration of the expected model family (its attribute `model`).
#include <string>

#include "neurops/core/error.hpp"
#include "neurops/io/hdf5.hpp"

namespace neurops::operators {

inline void check_config_group(const io::H5File& file, const std::string& group, const std::string& expected) {
  NEUROPS_CHECK(file.exists(group) && file.has_attr(group, "model"),
                "'" << file.path().string() << "' has no model configuration at '" << group << "'");
  const std::string model = file.attr_string(group, "model");
  NEUROPS_CHECK(model == expected,
                "'" << file.path().string() << "' holds a " << model << " model, expected " << expected);
}

}  // namespace neurops::operators
