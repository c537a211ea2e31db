// deeponet_antiderivative — DeepONet on the operators of Lu et al. (2021), DeepXDE's setup.
//
// What it shows:
//   1. training data from the library's generators (pde/deeponet_data.hpp): input functions u from a
//      1-D Gaussian random field (RBF kernel, length scale 0.2) seen at m = 100 sensors, and
//      - antiderivative  s' = u, s(0) = 0   (one random query time per function: 10,000 triples), or
//      - diffusion_reaction  s_t = 0.01 s_xx + 0.01 s^2 + u(x)   (100 random (x, t) points per function)
//   2. a DeepONet with [m, 40, 40] branch and [d, 40, 40] trunk nets (ReLU, Glorot normal), trained
//      by Adam (lr 1e-3) on the MSE, full batch or mini-batches; the best step is restored at the end
//   3. the test error on dense solutions of unseen functions, evaluated in the Cartesian-product form
//      (all functions share the query grid: one GEMM per batch)
//   4. inputs, exact and predicted solutions and error fields as HDF5 + XDMF + PNG, a results table
//
// Target (reference: test MSE 9.27e-7 after 50,000 iterations): test MSE <= 1e-6 for the antiderivative.
//
// Sample runs:
//   ./deeponet_antiderivative                                   # antiderivative, 50,000 iterations
//   ./deeponet_antiderivative -deeponet_problem diffusion_reaction -deeponet_train 1000
//   ./deeponet_antiderivative -deeponet_iterations 2000 -deeponet_batch 1000 -deeponet_stacked
//   ./deeponet_antiderivative -help
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "neurops/neurops.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/pde/deeponet_data.hpp"

namespace {

using namespace neurops;

struct Data {
  nn::OperatorTriples<double> train;     // triples
  nn::OperatorTriples<double> test;      // Cartesian: dense solutions on the shared grid
  index_t grid_rows = 1, grid_cols = 1;  // shape of one dense solution (time x space, or 1 x m)
};

/// `functions` samples of the problem; training triples from the random queries, test data from the
/// dense solutions (first state component).
Data generate(const pde::DeepOnetData& gen, index_t train_functions, index_t test_functions, std::uint64_t seed) {
  Data d;
  const index_t m = gen.settings().sensors, q = gen.query_count();
  const bool dr = gen.problem() == pde::DeepOnetProblem::diffusion_reaction;
  const index_t dim = dr ? 2 : 1;
  d.train.branch = Tensor<double>({train_functions * q, m});
  d.train.trunk = Tensor<double>({train_functions * q, dim});
  d.train.values = Tensor<double>({train_functions * q, 1});
  const Shape dense = gen.dense_shape();
  d.grid_rows = dr ? dense[1] : 1;
  d.grid_cols = dr ? dense[2] : dense[1];
  const index_t points = d.grid_rows * d.grid_cols;
  d.test.cartesian = true;
  d.test.branch = Tensor<double>({test_functions, m});
  d.test.values = Tensor<double>({test_functions, points});
  d.test.trunk = Tensor<double>({points, dim});
  const std::vector<double> x = gen.sensor_points();
  for (index_t r = 0; r < d.grid_rows; ++r)
    for (index_t c = 0; c < d.grid_cols; ++c) {
      d.test.trunk(r * d.grid_cols + c, 0) = x[std::size_t(c)];
      if (dr) d.test.trunk(r * d.grid_cols + c, 1) = double(r) / double(d.grid_rows - 1);
    }
  Progress progress(train_functions + test_functions, "data");
  for (index_t f = 0; f < train_functions + test_functions; ++f) {
    Rng rng = Rng::stream(seed, static_cast<std::uint64_t>(f));
    const pde::DeepOnetSample s = gen.sample(rng);
    if (f < train_functions) {
      for (index_t k = 0; k < q; ++k) {
        const index_t row = f * q + k;
        d.train.branch.matrix().row(row) = s.input.matrix(1, m);
        d.train.trunk.matrix().row(row) = s.query_points.matrix().row(k);
        d.train.values[row] = s.query_values[k];
      }
    } else {
      const index_t t = f - train_functions;
      d.test.branch.matrix().row(t) = s.input.matrix(1, m);
      d.test.values.matrix().row(t) = s.dense.matrix(1, s.dense.numel()).leftCols(points);
    }
    progress.update(f + 1);
  }
  progress.finish();
  return d;
}

template <class T>
nn::OperatorTriples<T> cast(const nn::OperatorTriples<double>& d) {
  nn::OperatorTriples<T> o;
  o.cartesian = d.cartesian;
  auto c = [](const Tensor<double>& t) {
    Tensor<T> r = Tensor<T>::uninitialized(t.shape());
    r.vec() = t.vec().template cast<T>();
    return r;
  };
  o.branch = c(d.branch);
  o.trunk = c(d.trunk);
  o.values = c(d.values);
  return o;
}

struct Outcome {
  operators::DeepOnetTrainingReport report;
  double test_mse = 0;
  Tensor<double> test_prediction;
  index_t parameters = 0;
};

template <class T>
Outcome run(const operators::DeepOnetConfig& config, const Data& data,
            const operators::DeepOnetTrainingOptions& options) {
  operators::DeepOnet<T> model(config);
  const auto train = cast<T>(data.train), test = cast<T>(data.test);
  Outcome o;
  o.parameters = model.parameter_count();
  std::printf("DeepONet: %lld parameters, %s\n", (long long)o.parameters, sizeof(T) == 4 ? "float32" : "float64");
  o.report = operators::train_deeponet(model, train, test, options);
  o.test_mse = operators::deeponet_mse(model, test);
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) {  // the test set and the error that best.h5 (the restored best step) must reproduce
    test.save(options.output_dir / "test_data.h5");
    auto f = io::H5File::open(options.output_dir / "test_data.h5", io::FileMode::read_write);
    f.set_attr("/", "deeponet_mse", o.test_mse);
    f.set_attr("/", "deeponet_checkpoint", std::string("best.h5"));
  }
  const Tensor<T> p = operators::deeponet_predict(model, test);
  o.test_prediction = Tensor<double>::uninitialized(p.shape());
  o.test_prediction.vec() = p.vec().template cast<double>();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  // PETSc (and HDF5) shut down after the error below has been reported: the session outlives the try.
  PetscSession session(&argc, &argv, "DeepONet on the antiderivative / diffusion-reaction operators\n");
  try {
    // 1. Options.
    Options opt("DeepONet (DeepXDE setup)", "deeponet_");
    const std::string problem_name = opt.choice(
        "problem", "antiderivative", {"antiderivative", "ode", "pendulum", "diffusion_reaction"}, "operator to learn");
    const auto problem = pde::parse_deeponet_problem(problem_name);
    const bool dr = problem == pde::DeepOnetProblem::diffusion_reaction;
    const index_t sensors = opt.integer("sensors", 100, "sensors m (also Nx for diffusion-reaction)");
    const index_t n_train = opt.integer("train", dr ? 100 : 10000,
                                        "training functions (query points each: 1, or 100 for diffusion-reaction)");
    const index_t n_test = opt.integer("test", dr ? 100 : 1000, "test functions (dense solutions)");
    const index_t width = opt.integer("width", 40, "hidden width and basis size p of both nets");
    const index_t depth = opt.integer("depth", 2, "layers per net ([m, 40, 40] is depth 2)");
    const std::int64_t iterations = opt.integer("iterations", dr ? 20000 : 50000, "Adam iterations");
    const index_t batch = opt.integer("batch", 0, "mini-batch size (0: full batch)");
    const double lr = opt.real("lr", 1e-3, "Adam learning rate");
    const std::string activation =
        opt.choice("activation", "relu", {"relu", "gelu", "tanh"}, "activation of both nets");
    const bool stacked = opt.flag("stacked", false, "stacked branch (p scalar nets)");
    const bool use_double = opt.flag("double", false, "train in float64 instead of float32");
    const std::int64_t display = opt.integer("display_every", 1000, "iterations between loss evaluations");
    const auto seed = static_cast<std::uint64_t>(opt.integer("seed", 0, "seed of data, weights and batches"));
    const double target =
        opt.real("target_mse", 0.0, "test MSE to reach (0: none, the default); exit code 2 if missed");
    const index_t save_samples = opt.integer("save_samples", 8, "test functions written to HDF5");
    const std::string out = opt.string("out", "deeponet_output", "output folder");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(n_train >= 1 && n_test >= 1,
                  "options -deeponet_train/-deeponet_test: expected >= 1, found " << n_train << " and " << n_test);
    NEUROPS_CHECK(width >= 1 && depth >= 1,
                  "options -deeponet_width/-deeponet_depth: expected >= 1, found " << width << " and " << depth);
    std::filesystem::create_directories(out);

    // 2. Data.
    pde::DeepOnetDataSettings ds;
    ds.sensors = sensors;
    const pde::DeepOnetData gen(problem, ds);
    Timer data_timer;
    const Data data = generate(gen, n_train, n_test, seed);
    std::printf("data: %lld training triples, %lld test functions x %lld points, %s\n", (long long)data.train.size(),
                (long long)n_test, (long long)data.test.trunk.size(0), format_duration(data_timer.seconds()).c_str());

    // 3. Model and training.
    operators::DeepOnetConfig c;
    c.branch_layers.assign(std::size_t(depth + 1), width);
    c.branch_layers[0] = sensors;
    c.trunk_layers.assign(std::size_t(depth + 1), width);
    c.trunk_layers[0] = dr ? 2 : 1;
    c.branch_activation = c.trunk_activation = nn::activation_from_string(activation);
    c.stacked = stacked;
    c.seed = seed;
    operators::DeepOnetTrainingOptions to;
    to.iterations = iterations;
    to.lr = lr;
    to.batch_size = batch;
    to.display_every = display;
    to.seed = seed;
    to.output_dir = out;         // loss.csv, history.h5, checkpoint.h5 and best.h5 (neurops::load_model reads it)
    to.comm = PETSC_COMM_WORLD;  // under mpiexec the ranks share every batch
    const Outcome o = use_double ? run<double>(c, data, to) : run<float>(c, data, to);

    if (session.rank() != 0) return 0;  // rank 0 alone writes the fields and prints the results

    // 4. Fields: (S, 1, rows, cols) with rows x cols = (time, x) for diffusion-reaction and (1, t) for
    // the ODEs, so every saved function is one 2-D field.
    const index_t s = std::min(save_samples, n_test), rows = data.grid_rows, cols = data.grid_cols;
    auto fields = [&](const Tensor<double>& t) {
      Tensor<double> f({s, 1, rows, cols});
      std::copy(t.data(), t.data() + s * rows * cols, f.data());
      return f;
    };
    const Tensor<double> truth = fields(data.test.values), pred = fields(o.test_prediction);
    Tensor<double> err = pred;
    err.vec() -= truth.vec();
    Tensor<double> inputs(data.test.branch.slice(0, s));
    const std::filesystem::path h5 = std::filesystem::path(out) / (problem_name + ".h5");
    {
      auto file = io::H5File::create(h5);
      file.write("/input", inputs);
      file.write("/solution", truth);
      file.write("/prediction", pred);
      file.write("/error", err);
      file.write("/train_steps", Tensor<double>({index_t(o.report.steps.size())},
                                                std::vector<double>(o.report.steps.begin(), o.report.steps.end())));
      file.write("/train_loss", Tensor<double>({index_t(o.report.train_loss.size())}, o.report.train_loss));
      file.write("/test_loss", Tensor<double>({index_t(o.report.test_loss.size())}, o.report.test_loss));
      file.set_attr("/", "problem", problem_name);
      file.set_attr("/", "test_mse", o.test_mse);
      file.set_attr("/", "best_step", std::int64_t(o.report.best_step));
      file.commit();
    }
    auto reader = io::H5File::open(h5);
    const double dy = rows > 1 ? 1.0 / double(rows - 1) : 1.0, dx = 1.0 / double(cols - 1);
    io::write_xdmf_series(std::filesystem::path(out) / (problem_name + ".xdmf"), h5,
                          io::UniformGrid{{rows, cols}, {0, 0}, {dy, dx}},
                          io::xdmf_sample_steps({io::xdmf_attribute(reader, "/solution", "solution", {0, 0}),
                                                 io::xdmf_attribute(reader, "/prediction", "prediction", {0, 0}),
                                                 io::xdmf_attribute(reader, "/error", "error", {0, 0})}));
    // PNG previews: the whole saved set as one image per quantity (functions stacked as rows for the
    // ODEs, the first function's (t, x) field for diffusion-reaction).
    auto preview = [&](const Tensor<double>& t) {
      return dr ? Tensor<double>(t.sample(0)) : Tensor<double>(t.reshaped({s, cols}));
    };
    io::write_png(std::filesystem::path(out) / (problem_name + "_solution.png"), preview(truth));
    io::write_png(std::filesystem::path(out) / (problem_name + "_prediction.png"), preview(pred));
    const double emax = std::max(err.vec().cwiseAbs().maxCoeff(), 1e-30);
    io::write_png(std::filesystem::path(out) / (problem_name + "_error.png"), preview(err),
                  {.vmin = -emax, .vmax = emax, .colormap = io::Colormap::coolwarm});

    // 5. Results.
    const bool reached = target <= 0 || o.test_mse <= target;
    std::printf("\n%-26s %s\n", "result", "value");
    std::printf("%-26s %s\n", "problem", problem_name.c_str());
    std::printf("%-26s %lld\n", "parameters", (long long)o.parameters);
    std::printf("%-26s %lld\n", "training triples", (long long)data.train.size());
    std::printf("%-26s %lld (%s)\n", "iterations", (long long)iterations, batch > 0 ? "mini-batch" : "full batch");
    std::printf("%-26s %lld\n", "best step", (long long)o.report.best_step);
    std::printf("%-26s %.3e\n", "train MSE (best step)", o.report.best_train_loss);
    std::printf("%-26s %.3e\n", "test MSE", o.test_mse);
    if (target > 0) std::printf("%-26s %.1e (%s)\n", "target test MSE", target, reached ? "reached" : "NOT reached");
    std::printf("%-26s %s\n", "training time", format_duration(o.report.seconds).c_str());
    std::printf("%-26s %s (+ .xdmf, .xdmf.h5, .png)\n", "fields", h5.c_str());
    return reached ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deeponet_antiderivative: error: %s\n", e.what());
    return 1;
  }
}
