#include "neurops/operators/model_registry.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "neurops/core/strings.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/mgno.hpp"
#include "neurops/operators/sfno.hpp"
#include "neurops/operators/t1.hpp"

namespace neurops::operators {

namespace {

// A type whose model is built from a config struct with load/set_from_options and a constructor
// taking that struct; `fixed` adjusts the config after reading (e.g. the dimension of FNO2d).
template <template <class> class M, class Config>
ModelType make_type(std::string name, std::string description, std::string prefix,
                    std::function<void(Config&)> fixed = {}) {
  ModelType t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.prefix = std::move(prefix);
  auto from_file = [fixed](const io::H5File& f, const std::string& g) {
    Config c = Config::load(f, g);
    if (fixed) fixed(c);
    return c;
  };
  auto from_options = [fixed](const std::string& prefix) {
    Config c;
    if (fixed) fixed(c);
    c.set_from_options(prefix);
    if (fixed) fixed(c);
    return c;
  };
  t.from_config_f = [from_file](const io::H5File& f, const std::string& g) -> std::unique_ptr<nn::Model<float>> {
    return std::make_unique<M<float>>(from_file(f, g));
  };
  t.from_config_d = [from_file](const io::H5File& f, const std::string& g) -> std::unique_ptr<nn::Model<double>> {
    return std::make_unique<M<double>>(from_file(f, g));
  };
  t.from_options_f = [from_options](const std::string& p) -> std::unique_ptr<nn::Model<float>> {
    return std::make_unique<M<float>>(from_options(p));
  };
  t.from_options_d = [from_options](const std::string& p) -> std::unique_ptr<nn::Model<double>> {
    return std::make_unique<M<double>>(from_options(p));
  };
  return t;
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, ModelType> types;
  Registry() {
    for (int d : {2, 3})
      add(make_type<Fno, FnoConfig>("FNO" + std::to_string(d) + "d",
                                    "Fourier neural operator, " + std::to_string(d) + "-D", "fno_",
                                    [d](FnoConfig& c) { c.dims = d; }));
    add(make_type<Mgno, MgnoConfig>("MgNO2d", "multigrid neural operator (V-cycle layers), 2-D", "mgno_"));
    add(make_type<DeepOnet, DeepOnetConfig>("DeepONet", "DeepONet (branch and trunk nets)", "deeponet_",
                                            [](DeepOnetConfig& c) { c.pod = false; }));
    add(make_type<DeepOnet, DeepOnetConfig>("PODDeepONet", "DeepONet with a POD trunk", "deeponet_",
                                            [](DeepOnetConfig& c) { c.pod = true; }));
    add(make_type<Sfno, SfnoConfig>("SFNO", "spatiotemporal FNO of the Spectral-Refiner (frames -> frames)", "sfno_"));
    add(make_type<T1, T1Config>("T1_2d", "Transform Once: learns on the kept DCT modes, 2-D", "t1_"));
  }
  void add(ModelType t) { types[t.name] = std::move(t); }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_model_type(ModelType type) {
  NEUROPS_CHECK(!type.name.empty() && type.from_config_f && type.from_config_d,
                "register_model_type: a model type needs a name and factories for float and double");
  std::lock_guard lock(registry().mutex);
  registry().add(std::move(type));
}

std::vector<std::string> model_type_names() {
  std::lock_guard lock(registry().mutex);
  std::vector<std::string> names;
  for (const auto& [name, type] : registry().types) names.push_back(name);
  return names;
}

const ModelType& find_model_type(const std::string& name, const std::string& context) {
  std::lock_guard lock(registry().mutex);
  const auto it = registry().types.find(name);
  if (it == registry().types.end()) {
    std::vector<std::string> names;
    for (const auto& [n, type] : registry().types) names.push_back(n);
    NEUROPS_THROW(context << ": unknown model type '" << name << "' (known types: " << join(names)
                          << "; register others with operators::register_model_type)");
  }
  return it->second;
}

template <class T>
std::unique_ptr<nn::Model<T>> create_model(const std::string& name, const io::H5File& file, const std::string& group) {
  const ModelType& t = find_model_type(name, "'" + file.path().string() + "'");
  if constexpr (std::is_same_v<T, float>)
    return t.from_config_f(file, group);
  else
    return t.from_config_d(file, group);
}

template <class T>
std::unique_ptr<nn::Model<T>> create_model_from_options(const std::string& name, const std::string& prefix) {
  const ModelType& t = find_model_type(name, "create_model_from_options");
  const std::string p = prefix.empty() ? t.prefix : prefix;
  if constexpr (std::is_same_v<T, float>) {
    NEUROPS_CHECK(t.from_options_f, "model type " << name << " cannot be configured from options");
    return t.from_options_f(p);
  } else {
    NEUROPS_CHECK(t.from_options_d, "model type " << name << " cannot be configured from options");
    return t.from_options_d(p);
  }
}

template std::unique_ptr<nn::Model<float>> create_model<float>(const std::string&, const io::H5File&,
                                                               const std::string&);
template std::unique_ptr<nn::Model<double>> create_model<double>(const std::string&, const io::H5File&,
                                                                 const std::string&);
template std::unique_ptr<nn::Model<float>> create_model_from_options<float>(const std::string&, const std::string&);
template std::unique_ptr<nn::Model<double>> create_model_from_options<double>(const std::string&, const std::string&);

}  // namespace neurops::operators
