// compare_checkpoints A.h5 B.h5 — exits 0 when every dataset of the two checkpoints (parameters,
// optimizer and scheduler state, normalizers, loss series) holds the same bits, 1 otherwise, listing
// the datasets that differ and by how much. Wall-clock series (`.../seconds`) are skipped: they are
// the one thing two runs of the same seed may not share.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "neurops/io/hdf5.hpp"

using namespace neurops;

namespace {

bool is_timing(const std::string& name) {
  const std::string suffix = "seconds";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// 0 when equal; else prints the dataset and its largest relative difference and returns 1.
int compare(const io::H5File& a, const io::H5File& b, const std::string& name) {
  if (!b.is_dataset(name)) {
    std::printf("%s: missing in %s\n", name.c_str(), b.path().c_str());
    return 1;
  }
  if (a.dtype(name) != b.dtype(name) || a.shape(name) != b.shape(name)) {
    std::printf("%s: %s %s against %s %s\n", name.c_str(), to_string(a.dtype(name)).c_str(),
                a.shape(name).str().c_str(), to_string(b.dtype(name)).c_str(), b.shape(name).str().c_str());
    return 1;
  }
  const io::DType t = a.dtype(name);
  if (t == io::DType::float32 || t == io::DType::float64) {
    // float32 data read as double keep their bits' meaning: equal doubles <=> equal floats.
    const Tensor<double> x = a.read<double>(name), y = b.read<double>(name);
    if (std::memcmp(x.data(), y.data(), sizeof(double) * std::size_t(x.numel())) == 0) return 0;
    double worst = 0;
    for (index_t i = 0; i < x.numel(); ++i)
      if (x[i] != y[i]) worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(std::abs(x[i]), 1e-300));
    std::printf("%s (%s): largest relative difference %.3e\n", name.c_str(), to_string(t).c_str(), worst);
    return 1;
  }
  const Tensor<std::int64_t> x = a.read<std::int64_t>(name), y = b.read<std::int64_t>(name);
  if (x.vec() == y.vec()) return 0;
  std::printf("%s (%s): values differ\n", name.c_str(), to_string(t).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: compare_checkpoints A.h5 B.h5\n");
    return 2;
  }
  try {
    const auto a = io::H5File::open(argv[1]), b = io::H5File::open(argv[2]);
    int differing = 0, compared = 0;
    for (const auto& name : a.datasets()) {
      if (is_timing(name)) continue;
      differing += compare(a, b, name);
      ++compared;
    }
    for (const auto& name : b.datasets())
      if (!a.is_dataset(name)) {
        std::printf("%s: missing in %s\n", name.c_str(), argv[1]);
        ++differing;
      }
    std::printf("%d of %d datasets differ between %s and %s\n", differing, compared, argv[1], argv[2]);
    return differing ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_checkpoints: error: %s\n", e.what());
    return 2;
  }
}
