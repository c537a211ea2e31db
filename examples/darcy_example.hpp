#pragma once
// Pieces shared by the Darcy example drivers (mgno_darcy, neurops_demo): data generation with the
// library's Darcy solver, operator training with the Trainer, and the HDF5 + XDMF + PNG output of
// predictions and error fields.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "neurops/version.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/io/png.hpp"
#include "neurops/io/xdmf.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/scheduler.hpp"
#include "neurops/nn/trainer.hpp"
#include "neurops/pde/darcy.hpp"
#include "neurops/pde/grf.hpp"

namespace neurops::examples {

/// Darcy pairs (coefficient a -> solution u, f = 1, u = 0 on the boundary) on an n x n node grid:
/// a = 12 where a Dirichlet GRF (alpha 2, tau 3, FNO's Darcy setting) is >= 0, 3 elsewhere.
/// Sample i depends on (seed, i) only.
inline nn::FieldDataset<float> generate_darcy(index_t n, index_t count, std::uint64_t seed, const std::string& label,
                                              index_t* solver_iterations = nullptr) {
  pde::DirichletGrf grf(n, pde::GrfSpectrum{.alpha = 2.0, .tau = 3.0});
  pde::DarcySettings settings;
  settings.rtol = 1e-8;
  pde::DarcySolver solver(n, settings);
  nn::FieldDataset<float> d;
  d.inputs = Tensor<float>({count, 1, n, n});
  d.targets = Tensor<float>({count, 1, n, n});
  Progress progress(count, label);
  index_t iterations = 0;
  for (index_t s = 0; s < count; ++s) {
    Rng rng = Rng::stream(seed, static_cast<std::uint64_t>(s));
    const Tensor<double> a = pde::threshold_coefficient(grf.sample(rng));
    const Tensor<double> u = solver.solve(a);
    iterations += solver.last_solve().iterations;
    for (index_t i = 0; i < n * n; ++i) {
      d.inputs[s * n * n + i] = static_cast<float>(a[i]);
      d.targets[s * n * n + i] = static_cast<float>(u[i]);
    }
    progress.update(s + 1);
  }
  progress.finish();
  if (solver_iterations) *solver_iterations = count > 0 ? iterations / count : 0;
  return d;
}

struct TrainSettings {
  std::int64_t epochs = 10;
  index_t batch_size = 8;
  double lr = 1e-3;           // OneCycle's maximum rate
  double weight_decay = 1e-4;
  std::uint64_t seed = 0;
  bool verbose = true;
};

struct TrainResult {
  double seconds = 0;
  double relative_l2 = 0, relative_h1 = 0;  // on the test set, in physical units
  Tensor<float> predictions;                // of the test inputs
};

/// Trains `model` with the relative H1 loss (Dirichlet data: non-periodic differences), Adam and a
/// OneCycle schedule stepped per batch, unit-Gaussian normalizers fitted on the training set; then
/// evaluates relative L2 and H1 errors on the test set.
template <class Model>
TrainResult train_and_evaluate(Model& model, const nn::FieldDataset<float>& train, const nn::FieldDataset<float>& test,
                               const TrainSettings& s) {
  nn::Adam<float> adam(model, {.lr = s.lr, .weight_decay = s.weight_decay});
  const index_t batches = (train.size() + s.batch_size - 1) / s.batch_size;
  nn::OneCycleLr<float> schedule(adam, s.lr, std::max<std::int64_t>(2, s.epochs * batches));  // OneCycle needs >= 2 steps
  nn::H1Loss<float> h1(2, {false, false});
  nn::LpLoss<float> l2(2);
  nn::TrainerOptions o;
  o.epochs = s.epochs;
  o.batch_size = s.batch_size;
  o.seed = s.seed;
  o.scheduler_per_batch = true;
  o.save_best = false;
  o.checkpoint_every = 0;
  o.verbose = s.verbose;
  nn::Trainer<float> trainer(model, adam, &schedule, h1, o);
  trainer.set_normalizers(nn::Normalizer<float>::unit_gaussian(train.inputs.view(), false),
                          nn::Normalizer<float>::unit_gaussian(train.targets.view(), false));
  Timer timer;
  trainer.fit(train, nullptr);
  TrainResult r;
  r.seconds = timer.seconds();
  r.relative_l2 = trainer.evaluate(test, l2);
  r.relative_h1 = trainer.evaluate(test, h1);
  r.predictions = trainer.predict(test.inputs);
  return r;
}

/// Writes the first `samples` test samples: coefficient, solution, and per model its prediction and
/// error field, as one HDF5 file (datasets (S, 1, n, n)) with an XDMF sidecar for sample 0 and PNG
/// previews of sample 0. Returns the HDF5 path.
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
  io::write_xdmf(dir / (stem + ".xdmf"), h5, io::UniformGrid{{n, n}, {0, 0}, {h, h}}, attributes);
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
