// check_sfno_run <output folder>: the files of an sfno_navier_stokes run exist, best.h5 loads
// through neurops::load_model as an SFNO and predicts finite fields, and every number in
// results.csv is finite. Exit status 0 when all hold.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "neurops/core/petsc.hpp"
#include "neurops/operators/model_io.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: check_sfno_run <sfno_navier_stokes output folder>\n");
    return 2;
  }
  neurops::PetscSession session(&argc, &argv, "check_sfno_run");
  const fs::path dir = argv[1];
  int failures = 0;
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "check_sfno_run: %s\n", what.c_str());
    ++failures;
  };
  for (const char* f : {"best.h5", "results.csv", "sfno_fields.h5", "sfno_fields.xdmf", "sfno_strip.png"})
    if (!fs::exists(dir / f) || fs::file_size(dir / f) == 0) fail(std::string("missing or empty ") + f);
  try {
    auto model = neurops::load_model<double>(dir / "best.h5");
    if (model.type() != "SFNO") fail("best.h5 holds a " + model.type() + ", expected SFNO");
    const auto grid = model.grid();
    if (grid.size() != 2) fail("best.h5 does not record its training grid");
    neurops::Rng rng(1);
    const auto x = neurops::Tensor<double>::randn({1, model.in_channels(), grid.at(0), grid.at(1)}, rng);
    const auto y = model.predict(x);
    for (double v : y)
      if (!std::isfinite(v)) {
        fail("best.h5 predicts a non-finite value");
        break;
      }
  } catch (const std::exception& e) {
    fail(std::string("best.h5: ") + e.what());
  }
  std::ifstream csv(dir / "results.csv");
  std::string line;
  int numbers = 0;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    std::stringstream row(line);
    std::string cell;
    std::getline(row, cell, ',');  // label
    while (std::getline(row, cell, ','))
      if (!cell.empty()) {
        ++numbers;
        if (!std::isfinite(std::stod(cell))) fail("results.csv: non-finite value in '" + line + "'");
      }
  }
  if (numbers < 10) fail("results.csv holds " + std::to_string(numbers) + " numbers, expected the full table");
  std::printf("check_sfno_run: %s, %d numbers checked, %d failures\n", dir.c_str(), numbers, failures);
  return failures == 0 ? 0 : 1;
}
