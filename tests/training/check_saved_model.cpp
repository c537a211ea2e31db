// check_saved_model DIR NAME [DATA] — loads DIR/<the checkpoint named by the attribute
// NAME_checkpoint of DIR/DATA (default test_data.h5)> through neurops::load_model, in the precision it was saved in,
// and recomputes the test error a driver reported (attribute NAME_relative_l2 or NAME_mse of test_data.h5) on the test
// set stored there. Exits 0 when both agree to 1e-5 (relative), 1 otherwise: every driver's checkpoint must be usable
// from outside the driver, normalizers included.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "neurops/neurops.hpp"

namespace fs = std::filesystem;
using namespace neurops;

namespace {

template <class T>
double recompute(const fs::path& checkpoint, const fs::path& data, bool mse) {
  auto model = load_model<T>(checkpoint);
  std::printf("%s: %s, %lld -> %lld channels, trained on grid (%s)\n", checkpoint.c_str(), model.type().c_str(),
              (long long)model.in_channels(), (long long)model.out_channels(), join(model.grid()).c_str());
  const auto file = io::H5File::open(data);
  if (file.is_dataset("/branch")) {  // DeepONet triples or Cartesian data
    const auto d = nn::OperatorTriples<T>::load(data);
    const auto batch = d.batch([&] {
      std::vector<index_t> rows;
      for (index_t i = 0; i < d.size(); ++i) rows.push_back(i);
      return rows;
    }());
    const Tensor<T> y = model.predict(nn::Inputs<T>(batch.inputs));
    NEUROPS_CHECK(mse, "DeepONet data are compared by MSE");
    double s = 0;
    for (index_t i = 0; i < y.numel(); ++i) s += std::pow(double(y[i]) - double(d.values[i]), 2);
    return s / double(y.numel());
  }
  const auto d = nn::FieldDataset<T>::load(data);
  const Tensor<T> y = model.predict(d.inputs);
  if (mse) return nn::MseLoss<T>().evaluate(y, d.targets);
  return nn::LpLoss<T>(d.inputs.rank() - 2).evaluate(y, d.targets);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: check_saved_model OUTPUT_DIR NAME [DATA_FILE]\n");
    return 2;
  }
  try {
    PetscSession session;
    const fs::path dir = argv[1], data = dir / (argc == 4 ? argv[3] : "test_data.h5");
    const std::string name = argv[2];
    const auto file = io::H5File::open(data);
    const fs::path checkpoint = dir / file.attr_string("/", name + "_checkpoint");
    const bool mse = file.has_attr("/", name + "_mse");
    const double reported = file.attr_real("/", name + (mse ? "_mse" : "_relative_l2"));
    const bool single = io::H5File::open(checkpoint).attr_string("/", "precision") == "float32";
    const double found = single ? recompute<float>(checkpoint, data, mse) : recompute<double>(checkpoint, data, mse);
    const double diff = std::abs(found - reported) / std::max(std::abs(reported), 1e-30);
    std::printf("%s test %s: reported %.8e, recomputed from %s %.8e (relative difference %.1e)\n", name.c_str(),
                mse ? "MSE" : "relative L2", reported, checkpoint.filename().c_str(), found, diff);
    return diff <= 1e-5 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "check_saved_model: error: %s\n", e.what());
    return 1;
  }
}
