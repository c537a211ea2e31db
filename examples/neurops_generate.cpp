// neurops_generate — training data for neural operators, written to HDF5 and resumable.
//
// What it shows:
//   1. one command for every PDE/ODE data set of the library (-gen_problem):
//        darcy               -div(a grad u) = 1, a thresholded (12/3) or log-normal Dirichlet GRF;
//                            PETSc KSP (default CG + GAMG; -darcy_pc_type hypre, ...)
//        poisson             -Laplacian u = f, u = g on the boundary, 2-D or 3-D, PETSc ex45's system:
//                            inputs are right-hand sides b, outputs solutions (for KSPGuess neurops)
//                            Darcy and Poisson are sample-parallel under MPI (each rank solves its own
//                            samples on PETSC_COMM_SELF, the file equals a 1-rank run's bit for bit);
//                            -darcy_distributed / -poisson_distributed split every solve over all
//                            ranks instead, for grids too large for one rank; so does a sample that
//                            needs more memory than one rank may use (-gen_memory_per_rank, default
//                            MemAvailable / ranks on the node), with a line saying so
//        navier_stokes       2-D vorticity on the torus from a GRF (alpha 2.5, tau 7), forced, snapshots
//                            at -ns_times or, after a warm-up, evenly spaced (-ns_snapshots), solved at
//                            -ns_n and stored at -ns_store (plus the full grid); -ns_preset sfno is the
//                            Spectral-Refiner's setting. Sample-parallel under MPI: each rank solves its
//                            own samples, rank 0 writes, and the file equals a 1-rank run's bit for bit
//        antiderivative, ode, pendulum, diffusion_reaction
//                            the DeepONet operators with RBF-GRF inputs at 100 sensors
//   2. datasets (N, C, spatial...) created extendable and appended chunk by chunk, with every parameter,
//      seed and solver tolerance as attributes and a `completed` counter updated after each chunk's
//      rows are on disk (flushed and checked: a full disk is an error naming the file, never zeros)
//   3. exact resumption: sample i is drawn from Rng::stream(seed, i) alone, so a run interrupted after
//      any chunk continues with -gen_resume and gives the same file bit for bit; an existing file is
//      refused unless -gen_resume or -gen_overwrite is given, and so is one whose datasets hold fewer rows
//      than its counter says
//   4. an XDMF view of every sample (ParaView steps through them), a PNG preview of the first, and a
//      table of results
//
// Sample runs:
//   ./neurops_generate -gen_problem darcy -gen_samples 100 -darcy_n 65 -gen_out darcy.h5
//   mpiexec -n 2 ./neurops_generate -gen_problem darcy -gen_samples 100 -darcy_n 129 -darcy_pc_type hypre \
//       -gen_out darcy.h5
//   mpiexec -n 8 ./neurops_generate -gen_problem darcy -gen_samples 10 -darcy_n 4097 -darcy_distributed \
//       -gen_out big.h5
//   mpiexec -n 2 ./neurops_generate -gen_problem darcy -darcy_n 1025 -gen_memory_per_rank 64MB \
//       -gen_out big.h5                                              # too large for one rank: split
//   ./neurops_generate -gen_problem poisson -poisson_dim 3 -poisson_n 17 -gen_samples 200 -gen_out poisson.h5
//   ./neurops_generate -gen_problem navier_stokes -gen_samples 10 -ns_n 256 -ns_store 64 -ns_times 1,2,3,4,5 \
//       -gen_out ns.h5
//   OMP_NUM_THREADS=1 mpiexec -n 2 ./neurops_generate -gen_problem navier_stokes -ns_preset sfno \
//       -gen_samples 16 -gen_out sfno.h5
//   ./neurops_generate -gen_problem antiderivative -gen_samples 10000 -gen_out antideriv.h5
//   ./neurops_generate -gen_problem diffusion_reaction -gen_samples 6 -gen_max_new_samples 3 \
//       -gen_out dr.h5                                               # stops after 3
//   ./neurops_generate -gen_problem diffusion_reaction -gen_samples 6 -gen_resume -gen_out dr.h5   # adds 3 more
//   ./neurops_generate -help
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>

#include "memory_budget.hpp"
#include "neurops/neurops.hpp"
#include "neurops/pde/darcy.hpp"
#include "neurops/pde/deeponet_data.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/pde/navier_stokes.hpp"
#include "neurops/pde/poisson.hpp"
#include "sample_parallel.hpp"

using namespace neurops;
namespace fs = std::filesystem;

namespace {

// Sample counts beyond this are typos (2^40 samples of one double each is 8 TiB), not runs.
constexpr std::int64_t kMaxSamples = std::int64_t(1) << 40;

struct DatasetSpec {
  std::string name;
  Shape sample_shape;
  bool integer = false;  // stored as int64 (counts); generated as doubles like every row
};

/// Parameters that determine the data: written as attributes, and compared on -gen_resume.
class Parameters {
 public:
  void add(const std::string& name, const io::AttrValue& value) { values_.emplace_back(name, value); }
  const std::vector<std::pair<std::string, io::AttrValue>>& values() const { return values_; }
  /// "name=value; ..." in declaration order.
  std::string canonical() const {
    std::ostringstream os;
    os.precision(17);
    for (const auto& [name, value] : values_) {
      os << name << "=";
      std::visit(
          [&os](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::vector<double>> || std::is_same_v<V, std::vector<std::int64_t>> ||
                          std::is_same_v<V, std::vector<std::string>>) {
              for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
            } else {
              os << v;
            }
          },
          value);
      os << "; ";
    }
    return os.str();
  }

 private:
  std::vector<std::pair<std::string, io::AttrValue>> values_;
};

/// One problem's data: dataset layout, parameters, and the samples themselves.
class SampleGenerator {
 public:
  virtual ~SampleGenerator() = default;
  virtual std::vector<DatasetSpec> datasets() const = 0;
  virtual const Parameters& parameters() const = 0;
  /// Fills row `row` of every chunk tensor (one per dataset, shape (rows, sample_shape...)) with
  /// sample `index`, drawn from Rng::stream(seed, index).
  virtual void generate(index_t index, index_t row, std::vector<Tensor<double>>& chunk) = 0;
  /// Several samples at once; the default runs them one after the other.
  virtual void generate_chunk(index_t first, index_t count, std::vector<Tensor<double>>& chunk) {
    for (index_t r = 0; r < count; ++r) generate(first + r, r, chunk);
  }
  /// Called on rank 0 with every chunk's rows once they are all there (under MPI: after the gather),
  /// for the status line and the summary.
  virtual void record(const std::vector<Tensor<double>>& /*rows*/) {}
  virtual std::string status() const { return ""; }
  virtual std::vector<std::pair<std::string, std::string>> summary() const { return {}; }
  /// Grid of the 2-D preview (empty for 1-D data) and which datasets to show.
  virtual io::UniformGrid preview_grid() const { return {}; }
  virtual std::vector<std::string> preview_datasets() const { return {datasets().front().name}; }
  virtual bool distributed() const { return false; }
  /// Samples are independent and solved on one rank each: under MPI, rank r generates the rows
  /// r, r + size, ... of every chunk and rank 0 gathers them.
  virtual bool sample_parallel() const { return false; }
  /// Why the generator chose to split its solves across the ranks ("" when it did not).
  virtual std::string split_reason() const { return ""; }
};

template <class T>
void copy_into(const Tensor<T>& sample, Tensor<double>& chunk, index_t row, index_t offset = 0) {
  const index_t per_row = chunk.shape().tail_numel(1);
  NEUROPS_CHECK(offset + sample.numel() <= per_row,
                "sample of shape " << sample.shape() << " does not fit a row of " << chunk.shape());
  std::copy(sample.begin(), sample.end(), chunk.begin() + row * per_row + offset);
}

std::string fmt(double v, const char* f = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Memory of one solve per grid node, an estimate from PETSc's data structures: an AIJ matrix row
// (5 or 7 nonzeros of 8 + 4 bytes, and its row pointer), GAMG's hierarchy (coarse operators and
// prolongators, about 1.5 fine matrices), about 6 Krylov and right-hand-side vectors, and the sample's
// own fields (coefficient or sources, solution, GRF draw and transform work arrays), 8 bytes each.
constexpr double kBytesPerNode2d = 64 + 96 + 48 + 48;
constexpr double kBytesPerNode3d = 88 + 132 + 48 + 32;

/// A sample that does not fit the memory one rank may use (`budget` bytes, 0: unknown) is split
/// across the ranks of PETSC_COMM_WORLD; returns the line that says why ("" when nothing changes).
std::string split_if_too_large(bool& distributed, double bytes, std::int64_t budget, const std::string& option) {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  if (distributed || size == 1 || budget <= 0 || bytes <= double(budget)) return "";
  distributed = true;
  return "a sample needs about " + examples::format_bytes(bytes) + ", more than the " +
         examples::format_bytes(double(budget)) + " one rank may use (-gen_memory_per_rank): every solve is " +
         "split across the " + std::to_string(size) + " ranks (as " + option + ")";
}

// ---------------------------------------------------------------------------------------------
class DarcyGenerator final : public SampleGenerator {
 public:
  DarcyGenerator(std::uint64_t seed, std::int64_t memory_per_rank) : seed_(seed) {
    Options opt("Darcy flow data (-gen_problem darcy)", "darcy_");
    n_ = opt.integer("n", 65, "grid nodes per side, boundary included (FNO: 85, 141, 211, 421)", 3, 1 << 15);
    coefficient_ = opt.choice("coefficient", "threshold", {"threshold", "lognormal"},
                              "coefficient: thresholded GRF (high where GRF >= 0, low elsewhere) or exp(GRF)");
    alpha_ = opt.real("alpha", 2.0, "GRF exponent alpha of (-Laplacian + tau^2)^(-alpha)");
    tau_ = opt.real("tau", 3.0, "GRF inverse length scale tau");
    high_ = opt.real("high", 12.0, "coefficient where the GRF is >= 0 (threshold)");
    low_ = opt.real("low", 3.0, "coefficient where the GRF is < 0 (threshold)");
    face_ = opt.choice("face_average", "harmonic", {"harmonic", "arithmetic"}, "face value of a between two nodes");
    rtol_ = opt.real("rtol", 1e-10, "KSP relative tolerance (also -darcy_ksp_rtol)");
    distributed_ = opt.flag("distributed", false,
                            "split every solve over all MPI ranks (grids too large for one rank) instead of "
                            "solving each sample on one rank");
    opt.solver_prefix("darcy_", "the Darcy solver's KSP and PC, default CG + GAMG");
    if (opt.help_requested()) return;
    NEUROPS_CHECK(tau_ > 0, "option -darcy_tau: expected an inverse length scale > 0, found " << tau_);
    NEUROPS_CHECK(alpha_ > 1, "option -darcy_alpha: expected alpha > 1 (a 2-D GRF needs it), found " << alpha_);
    NEUROPS_CHECK(rtol_ > 0, "option -darcy_rtol: expected a tolerance > 0, found " << rtol_);
    NEUROPS_CHECK(high_ > 0 && low_ > 0,
                  "options -darcy_high/-darcy_low: expected positive values, found " << high_ << ", " << low_);
    split_reason_ = split_if_too_large(distributed_, kBytesPerNode2d * double(n_) * double(n_), memory_per_rank,
                                       "-darcy_distributed");
    grf_ = std::make_unique<pde::DirichletGrf>(n_, pde::GrfSpectrum{.alpha = alpha_, .tau = tau_});
    solver_ = std::make_unique<pde::DarcySolver>(
        n_, pde::DarcySettings{
                .face_average = face_ == "harmonic" ? pde::FaceAverage::harmonic : pde::FaceAverage::arithmetic,
                .rtol = rtol_,
                .comm = distributed_ ? PETSC_COMM_WORLD : PETSC_COMM_SELF});
    // Tolerances as the KSP will really use them (the options database may override the code default).
    params_.add("problem", std::string("darcy"));
    params_.add("equation", std::string("-div(a grad u) = 1 on (0,1)^2, u = 0 on the boundary"));
    params_.add("grid_shape", std::vector<std::int64_t>{n_, n_});
    params_.add("spacing", 1.0 / double(n_ - 1));
    params_.add("coefficient", coefficient_);
    params_.add("grf",
                std::string("Dirichlet sine series, sigma^2 (pi^2 |k|^2 + tau^2)^(-alpha), sigma = tau^(alpha-1)"));
    params_.add("grf_alpha", alpha_);
    params_.add("grf_tau", tau_);
    if (coefficient_ == "threshold") {
      params_.add("coefficient_high", high_);
      params_.add("coefficient_low", low_);
    }
    params_.add("face_average", face_);
    params_.add("ksp_type", solver_->last_solve().ksp_type);
    params_.add("pc_type", solver_->last_solve().pc_type);
    params_.add("ksp_rtol", solver_->last_solve().rtol);
  }
  std::vector<DatasetSpec> datasets() const override {
    return {{"inputs", {1, n_, n_}}, {"outputs", {1, n_, n_}}, {"ksp_iterations", {1}, true}};
  }
  const Parameters& parameters() const override { return params_; }
  void generate(index_t index, index_t row, std::vector<Tensor<double>>& chunk) override {
    Rng rng = Rng::stream(seed_, std::uint64_t(index));
    const Tensor<double> g = grf_->sample(rng);
    const Tensor<double> a =
        coefficient_ == "threshold" ? pde::threshold_coefficient(g, high_, low_) : pde::lognormal_coefficient(g);
    const Tensor<double> u = solver_->solve(a);
    copy_into(a, chunk[0], row);
    copy_into(u, chunk[1], row);
    chunk[2](row, 0) = double(solver_->last_solve().iterations);
  }
  // The iterations of every sample, also of those solved on other ranks.
  void record(const std::vector<Tensor<double>>& rows) override {
    iterations_.insert(iterations_.end(), rows[2].begin(), rows[2].end());
  }
  std::string status() const override {
    return iterations_.empty() ? "" : "KSP its " + fmt(iterations_.back(), "%.0f");
  }
  std::vector<std::pair<std::string, std::string>> summary() const override {
    if (iterations_.empty()) return {};
    return {{"solver", solver_->last_solve().ksp_type + " + " + solver_->last_solve().pc_type},
            {"KSP iterations (median)", fmt(median(iterations_), "%.0f")}};
  }
  io::UniformGrid preview_grid() const override {
    const double h = 1.0 / double(n_ - 1);
    return {{n_, n_}, {0, 0}, {h, h}};
  }
  std::vector<std::string> preview_datasets() const override { return {"inputs", "outputs"}; }
  bool distributed() const override { return distributed_; }
  bool sample_parallel() const override { return !distributed_; }
  std::string split_reason() const override { return split_reason_; }

 private:
  std::uint64_t seed_;
  index_t n_ = 0;
  std::string coefficient_, face_;
  double alpha_ = 0, tau_ = 0, high_ = 0, low_ = 0, rtol_ = 0;
  bool distributed_ = false;
  std::string split_reason_;
  std::unique_ptr<pde::DirichletGrf> grf_;
  std::unique_ptr<pde::DarcySolver> solver_;
  Parameters params_;
  std::vector<double> iterations_;
};

// ---------------------------------------------------------------------------------------------
class PoissonGenerator final : public SampleGenerator {
 public:
  PoissonGenerator(std::uint64_t seed, std::int64_t memory_per_rank) : seed_(seed) {
    Options opt("Poisson data (-gen_problem poisson): right-hand side b -> solution u, PETSc ex45's system",
                "poisson_");
    dim_ = int(opt.integer("dim", 2, "spatial dimensions (2, or 3 as PETSc's ex45)", 2, 3));
    n_ = opt.integer("n", 33, "grid nodes per side, boundary included (ex45: -da_grid_x/y/z)", 3, 1 << 12);
    rtol_ = opt.real("rtol", 1e-10, "KSP relative tolerance (also -poisson_ksp_rtol)");
    distributed_ = opt.flag("distributed", false,
                            "split every solve over all MPI ranks (grids too large for one rank) instead of "
                            "solving each sample on one rank");
    opt.solver_prefix("poisson_", "the Poisson solver's KSP and PC");
    if (opt.help_requested()) return;
    NEUROPS_CHECK(rtol_ > 0, "option -poisson_rtol: expected a tolerance > 0, found " << rtol_);
    split_reason_ = split_if_too_large(
        distributed_, (dim_ == 3 ? kBytesPerNode3d * double(n_) : kBytesPerNode2d) * double(n_) * double(n_),
        memory_per_rank, "-poisson_distributed");
    solver_ = std::make_unique<pde::PoissonSolver>(
        dim_, n_, pde::PoissonSettings{.rtol = rtol_, .comm = distributed_ ? PETSC_COMM_WORLD : PETSC_COMM_SELF});
    const std::vector<index_t> grid = solver_->grid();
    params_.add("problem", std::string("poisson"));
    params_.add("equation", std::string("-Laplacian u = f on the unit box, u = g on the boundary; inputs: b = A u "
                                        "with PETSc ex45's rows (h^d f inside, 2 (sum w) g on the boundary)"));
    params_.add("grid_shape", std::vector<std::int64_t>(grid.begin(), grid.end()));
    params_.add("spacing", 1.0 / double(n_ - 1));
    params_.add("fields",
                std::string("f, g: c + sum_{k in {0..4}^d} a_k |k|^-2 prod cos(pi k_a x_a + phi), a, c ~ N(0,1)"));
    KSPType type = nullptr;
    PC pc = nullptr;
    PCType pc_type = nullptr;
    NEUROPS_PETSC(KSPGetType(solver_->ksp(), &type));
    NEUROPS_PETSC(KSPGetPC(solver_->ksp(), &pc));
    NEUROPS_PETSC(PCGetType(pc, &pc_type));
    ksp_ = std::string(type) + " + " + pc_type;
    params_.add("solver", ksp_);
    params_.add("ksp_rtol", rtol_);
  }
  std::vector<DatasetSpec> datasets() const override {
    std::vector<index_t> sample{1};
    for (index_t g : solver_->grid()) sample.push_back(g);
    return {{"inputs", Shape(sample)}, {"outputs", Shape(sample)}, {"ksp_iterations", {1}, true}};
  }
  const Parameters& parameters() const override { return params_; }
  void generate(index_t index, index_t row, std::vector<Tensor<double>>& chunk) override {
    const auto fields = pde::poisson_sample(*solver_, seed_, index);
    copy_into(fields[2], chunk[0], row);
    copy_into(fields[3], chunk[1], row);
    chunk[2](row, 0) = double(solver_->last_iterations());
  }
  // The iterations of every sample, also of those solved on other ranks.
  void record(const std::vector<Tensor<double>>& rows) override {
    iterations_.insert(iterations_.end(), rows[2].begin(), rows[2].end());
  }
  std::string status() const override {
    return iterations_.empty() ? "" : "KSP its " + fmt(iterations_.back(), "%.0f");
  }
  std::vector<std::pair<std::string, std::string>> summary() const override {
    if (iterations_.empty()) return {};
    return {{"solver", ksp_}, {"KSP iterations (median)", fmt(median(iterations_), "%.0f")}};
  }
  io::UniformGrid preview_grid() const override {
    if (dim_ != 2) return {};  // the preview is a 2-D image
    const double h = 1.0 / double(n_ - 1);
    return {{n_, n_}, {0, 0}, {h, h}};
  }
  std::vector<std::string> preview_datasets() const override { return {"inputs", "outputs"}; }
  bool distributed() const override { return distributed_; }
  bool sample_parallel() const override { return !distributed_; }
  std::string split_reason() const override { return split_reason_; }

 private:
  std::uint64_t seed_;
  int dim_ = 2;
  index_t n_ = 0;
  double rtol_ = 0;
  bool distributed_ = false;
  std::string split_reason_;
  std::string ksp_;
  std::unique_ptr<pde::PoissonSolver> solver_;
  Parameters params_;
  std::vector<double> iterations_;
};

// ---------------------------------------------------------------------------------------------
class NavierStokesGenerator final : public SampleGenerator {
 public:
  NavierStokesGenerator(std::uint64_t seed) : seed_(seed) {
    Options opt("2-D Navier-Stokes data (-gen_problem navier_stokes)", "ns_");
    preset_ = opt.choice("preset", "none", {"none", "sfno"},
                         "sfno: defaults of the Spectral-Refiner's data (torch-cfd data_gen_fno.py): bilinear "
                         "coarsening, warm-up 30, 100 snapshots up to t = 50");
    const bool sfno = preset_ == "sfno";
    s_.n = opt.integer("n", 256, "solver grid points per side (even, >= 8)");
    store_ = opt.integer("store", 64, "stored grid points per side (coarsened copy)");
    coarsening_ = opt.choice("coarsening", sfno ? "bilinear" : "spectral", {"spectral", "subsample", "bilinear"},
                             "coarsening: Fourier truncation to |k| < store/2, every (n/store)-th point, or "
                             "PyTorch's bilinear interpolation (align_corners=False) as the Spectral-Refiner's data");
    store_full_ = opt.flag("store_full", true, "also store the snapshots on the solver grid (when store < n)");
    s_.viscosity = opt.real("viscosity", 1e-3, "kinematic viscosity nu (FNO: 1e-3, 1e-4, 1e-5)");
    s_.dt = opt.real("dt", 1e-3, "time step");
    s_.forcing_amplitude = opt.real("forcing", 0.1, "forcing amplitude A in A (sin + cos)(2 pi (x + y))");
    s_.max_cfl = opt.real("max_cfl", 1.0, "largest CFL number dt max(|u|+|v|)/h accepted");
    times_ = opt.reals("times", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "snapshot times (increasing, multiples of dt)");
    warmup_ = opt.real("warmup", sfno ? 30.0 : 0.0, "with -ns_snapshots: time of the first snapshot (warm-up)");
    snapshots_ = opt.integer("snapshots", sfno ? 100 : 0,
                             "evenly spaced snapshots t_k = warmup + k (t_end - warmup) / snapshots, k = 0 .. "
                             "snapshots-1, instead of -ns_times (0: use -ns_times)",
                             0, 1 << 20);
    t_end_ = opt.real("t_end", sfno ? 50.0 : 0.0, "with -ns_snapshots: end of the snapshot window");
    alpha_ = opt.real("alpha", 2.5, "initial-vorticity GRF exponent alpha");
    grf_n_ = opt.integer("grf_n", 0,
                         "grid of the GRF draw (even, >= ns_n), spectrally truncated to ns_n: the same initial "
                         "field for runs on different solver grids (0: ns_n)",
                         0, 1 << 15);
    tau_ = opt.real("tau", 7.0, "initial-vorticity GRF tau");
    s_.threads = int(opt.integer("threads", 0, "OpenMP/FFTW threads (0: OMP_NUM_THREADS from 256^2 up, 1 below)"));
    if (opt.help_requested()) return;
    NEUROPS_CHECK(tau_ > 0, "option -ns_tau: expected an inverse length scale > 0, found " << tau_);
    NEUROPS_CHECK(alpha_ > 1, "option -ns_alpha: expected alpha > 1 (a 2-D GRF needs it), found " << alpha_);
    NEUROPS_CHECK(s_.viscosity > 0, "option -ns_viscosity: expected a viscosity > 0, found " << s_.viscosity);
    NEUROPS_CHECK(s_.dt > 0, "option -ns_dt: expected a time step > 0, found " << s_.dt);
    if (snapshots_ > 0) {
      PetscBool times_given = PETSC_FALSE;
      NEUROPS_PETSC(PetscOptionsHasName(nullptr, nullptr, "-ns_times", &times_given));
      NEUROPS_CHECK(!times_given, "options -ns_times and -ns_snapshots exclude each other (-ns_snapshots "
                                      << snapshots_ << " gives the times)");
      NEUROPS_CHECK(std::isfinite(warmup_) && warmup_ >= 0,
                    "option -ns_warmup: expected a time >= 0, found " << warmup_);
      NEUROPS_CHECK(std::isfinite(t_end_) && t_end_ > warmup_,
                    "option -ns_t_end: expected an end time > -ns_warmup = " << warmup_ << ", found " << t_end_);
      times_.clear();
      for (index_t k = 0; k < snapshots_; ++k)
        times_.push_back(warmup_ + double(k) * (t_end_ - warmup_) / double(snapshots_));
    }
    NEUROPS_CHECK(!times_.empty(), "option -ns_times: expected at least one snapshot time");
    NEUROPS_CHECK(store_ >= 2 && store_ <= s_.n,
                  "option -ns_store: expected 2 <= store <= ns_n = " << s_.n << ", found " << store_);
    store_full_ = store_full_ && store_ < s_.n;
    solver_ = std::make_unique<pde::NavierStokes2d>(s_);  // checks n first
    if (grf_n_ == 0) grf_n_ = s_.n;
    NEUROPS_CHECK(grf_n_ >= s_.n && grf_n_ % 2 == 0,
                  "option -ns_grf_n: expected an even grid >= ns_n = " << s_.n << ", found " << grf_n_);
    grf_ = std::make_unique<pde::PeriodicGrf>(grf_n_, pde::GrfSpectrum{.alpha = alpha_, .tau = tau_});
    // Snapshot times are checked against dt before any work is done.
    for (std::size_t i = 0; i < times_.size(); ++i) {
      const double steps = std::round(times_[i] / s_.dt);
      NEUROPS_CHECK(times_[i] >= 0 && std::abs(steps * s_.dt - times_[i]) <= 1e-6 * s_.dt &&
                        (i == 0 || times_[i] > times_[i - 1]),
                    (snapshots_ > 0 ? "options -ns_warmup/-ns_t_end/-ns_snapshots" : "option -ns_times")
                        << ": expected increasing multiples of dt = " << s_.dt << " from 0 on, found " << times_[i]);
    }
    params_.add("problem", std::string("navier_stokes"));
    params_.add("equation", std::string("w_t + u.grad w = nu Lap w + f on the unit torus, f = A(sin+cos)(2pi(x+y))"));
    params_.add("scheme",
                std::string("pseudo-spectral, 2/3 dealiasing, Crank-Nicolson (viscosity) + Heun (advection)"));
    params_.add("solver_grid", std::vector<std::int64_t>{s_.n, s_.n});
    params_.add("grid_shape", std::vector<std::int64_t>{store_, store_});
    params_.add("spacing", 1.0 / double(store_));
    params_.add("coarsening", coarsening_);
    params_.add("viscosity", s_.viscosity);
    params_.add("dt", s_.dt);
    params_.add("forcing_amplitude", s_.forcing_amplitude);
    params_.add("max_cfl", s_.max_cfl);
    params_.add("times", times_);
    if (snapshots_ > 0) {  // only then, so that files of -ns_times runs keep their parameter string
      params_.add("preset", preset_);
      params_.add("warmup", warmup_);
      params_.add("snapshots", std::int64_t(snapshots_));
      params_.add("t_end", t_end_);
    }
    params_.add("grf_alpha", alpha_);
    params_.add("grf_tau", tau_);
    params_.add("grf_sigma", grf_->sigma());
    if (grf_n_ != s_.n) params_.add("grf_grid", std::int64_t(grf_n_));  // only then: older files resume
    params_.add("store_full", std::int64_t(store_full_));
  }
  std::vector<DatasetSpec> datasets() const override {
    const index_t T = index_t(times_.size());
    std::vector<DatasetSpec> d{
        {"inputs", {1, store_, store_}}, {"outputs", {T, store_, store_}}, {"diagnostics", {T, 3}}};
    if (store_full_) {
      d.push_back({"inputs_full", {1, s_.n, s_.n}});
      d.push_back({"outputs_full", {T, s_.n, s_.n}});
    }
    return d;
  }
  const Parameters& parameters() const override { return params_; }
  void generate(index_t index, index_t row, std::vector<Tensor<double>>& chunk) override {
    Rng rng = Rng::stream(seed_, std::uint64_t(index));
    const Tensor<double> draw = grf_->sample(rng);
    const Tensor<double> w0 =
        grf_n_ == s_.n ? draw : pde::NavierStokes2d::coarsen(draw, s_.n, pde::Coarsening::spectral);
    solver_->set_vorticity(w0, 0.0);
    const auto mode = coarsening_ == "spectral"   ? pde::Coarsening::spectral
                      : coarsening_ == "bilinear" ? pde::Coarsening::bilinear
                                                  : pde::Coarsening::subsample;
    copy_into(store_ < s_.n ? pde::NavierStokes2d::coarsen(w0, store_, mode) : w0, chunk[0], row);
    const index_t cells = s_.n * s_.n;
    for (std::size_t t = 0; t < times_.size(); ++t) {
      solver_->run_to(times_[t]);
      const Tensor<double> w = solver_->vorticity();
      copy_into(store_ < s_.n ? pde::NavierStokes2d::coarsen(w, store_, mode) : w, chunk[1], row,
                index_t(t) * store_ * store_);
      if (store_full_) copy_into(w, chunk[4], row, index_t(t) * cells);
      last_ = solver_->diagnostics();
      chunk[2](row, index_t(t), 0) = last_.energy;
      chunk[2](row, index_t(t), 1) = last_.enstrophy;
      chunk[2](row, index_t(t), 2) = last_.cfl;
      max_cfl_ = std::max(max_cfl_, last_.cfl);
    }
    if (store_full_) copy_into(w0, chunk[3], row);
  }
  std::string status() const override {
    return "energy " + fmt(last_.energy) + " enstrophy " + fmt(last_.enstrophy) + " CFL " + fmt(last_.cfl, "%.3f");
  }
  std::vector<std::pair<std::string, std::string>> summary() const override {
    return {{"steps per sample", fmt(std::round(times_.back() / s_.dt), "%.0f")},
            {"last energy / enstrophy", fmt(last_.energy) + " / " + fmt(last_.enstrophy)},
            {"largest CFL at snapshots", fmt(max_cfl_, "%.3f")}};
  }
  io::UniformGrid preview_grid() const override {
    const double h = 1.0 / double(store_);
    return {{store_, store_}, {0, 0}, {h, h}};
  }
  std::vector<std::string> preview_datasets() const override { return {"inputs", "outputs"}; }
  bool sample_parallel() const override { return true; }

 private:
  std::uint64_t seed_;
  pde::NavierStokesSettings s_;
  index_t store_ = 0;
  bool store_full_ = true;
  std::string coarsening_;
  std::vector<double> times_;
  std::string preset_;
  index_t snapshots_ = 0, grf_n_ = 0;
  double warmup_ = 0, t_end_ = 0;
  double alpha_ = 0, tau_ = 0, max_cfl_ = 0;
  std::unique_ptr<pde::NavierStokes2d> solver_;
  std::unique_ptr<pde::PeriodicGrf> grf_;
  pde::FlowDiagnostics last_;
  Parameters params_;
};

// ---------------------------------------------------------------------------------------------
class DeepOnetGenerator final : public SampleGenerator {
 public:
  DeepOnetGenerator(pde::DeepOnetProblem problem, std::uint64_t seed) : seed_(seed) {
    Options opt("DeepONet data (-gen_problem antiderivative|ode|pendulum|diffusion_reaction)", "deeponet_");
    pde::DeepOnetDataSettings s;
    s.sensors = opt.integer("sensors", 100, "m sensors (and Nx for diffusion-reaction)");
    s.length_scale = opt.real("length_scale", 0.2, "RBF-GRF length scale");
    s.grf_points = opt.integer("grf_points", 1000, "points of the Cholesky GRF sampler");
    s.T = opt.real("T", 1.0, "time interval of the ODEs");
    s.query_points = opt.integer(
        "queries", 0, "random query points per sample (0: 1 for ODEs, 100 for diffusion-reaction)", 0, 1 << 24);
    s.rk45.rtol = opt.real("rtol", 1e-8, "RK45 relative tolerance");
    s.rk45.atol = opt.real("atol", 1e-10, "RK45 absolute tolerance");
    s.diffusion = opt.real("diffusion", 0.01, "diffusion-reaction D");
    s.reaction = opt.real("reaction", 0.01, "diffusion-reaction k");
    s.time_levels = opt.integer("time_levels", 100, "diffusion-reaction Nt");
    if (opt.help_requested()) return;
    NEUROPS_CHECK(s.sensors >= 2, "option -deeponet_sensors: expected at least 2 sensors, found " << s.sensors);
    NEUROPS_CHECK(s.grf_points >= 2, "option -deeponet_grf_points: expected at least 2 points, found " << s.grf_points);
    NEUROPS_CHECK(s.length_scale > 0, "option -deeponet_length_scale: expected a length > 0, found " << s.length_scale);
    NEUROPS_CHECK(s.T > 0, "option -deeponet_T: expected a time interval > 0, found " << s.T);
    NEUROPS_CHECK(s.time_levels >= 2, "option -deeponet_time_levels: expected at least 2, found " << s.time_levels);
    NEUROPS_CHECK(s.rk45.rtol > 0, "option -deeponet_rtol: expected a tolerance > 0, found " << s.rk45.rtol);
    NEUROPS_CHECK(s.rk45.atol > 0, "option -deeponet_atol: expected a tolerance > 0, found " << s.rk45.atol);
    data_ = std::make_unique<pde::DeepOnetData>(problem, s);
    const bool dr = problem == pde::DeepOnetProblem::diffusion_reaction;
    params_.add("problem", pde::to_string(problem));
    params_.add("sensors", std::int64_t(s.sensors));
    params_.add("grf",
                std::string("RBF kernel exp(-|x-y|^2/(2 l^2)), Cholesky + jitter 1e-13, not-a-knot cubic spline"));
    params_.add("grf_length_scale", s.length_scale);
    params_.add("grf_points", std::int64_t(s.grf_points));
    params_.add("query_points", std::int64_t(data_->query_count()));
    if (dr) {
      params_.add("equation", std::string("s_t = D s_xx + k s^2 + u(x), zero initial and boundary values"));
      params_.add("scheme", std::string("Crank-Nicolson finite differences, reaction linearised about the old level"));
      params_.add("diffusion", s.diffusion);
      params_.add("reaction", s.reaction);
      params_.add("time_levels", std::int64_t(s.time_levels));
      params_.add("grid_shape", std::vector<std::int64_t>{s.time_levels, s.sensors});
    } else {
      params_.add("T", s.T);
      params_.add("integrator", std::string("Dormand-Prince RK45, adaptive"));
      params_.add("rk45_rtol", s.rk45.rtol);
      params_.add("rk45_atol", s.rk45.atol);
    }
  }
  std::vector<DatasetSpec> datasets() const override {
    return {{"inputs", data_->input_shape()},
            {"outputs", data_->dense_shape()},
            {"query_points", data_->query_point_shape()},
            {"query_values", data_->query_value_shape()}};
  }
  const Parameters& parameters() const override { return params_; }
  void generate(index_t index, index_t row, std::vector<Tensor<double>>& chunk) override {
    Rng rng = Rng::stream(seed_, std::uint64_t(index));
    const pde::DeepOnetSample s = data_->sample(rng);
    copy_into(s.input, chunk[0], row);
    copy_into(s.dense, chunk[1], row);
    copy_into(s.query_points, chunk[2], row);
    copy_into(s.query_values, chunk[3], row);
  }
  // Samples are independent and each has its own random stream: a chunk runs in parallel and the
  // result does not depend on the thread count.
  void generate_chunk(index_t first, index_t count, std::vector<Tensor<double>>& chunk) override {
    std::string failure;
#pragma omp parallel for schedule(dynamic)
    for (index_t r = 0; r < count; ++r) {
      try {
        generate(first + r, r, chunk);
      } catch (const std::exception& e) {
#pragma omp critical
        failure = e.what();
      }
    }
    NEUROPS_CHECK(failure.empty(), failure);
  }
  io::UniformGrid preview_grid() const override {
    if (data_->problem() != pde::DeepOnetProblem::diffusion_reaction) return {};
    const auto& s = data_->settings();
    return {{s.time_levels, s.sensors}, {0, 0}, {1.0 / double(s.time_levels - 1), 1.0 / double(s.sensors - 1)}};
  }
  std::vector<std::string> preview_datasets() const override {
    return data_->problem() == pde::DeepOnetProblem::diffusion_reaction ? std::vector<std::string>{"outputs"}
                                                                        : std::vector<std::string>{"inputs", "outputs"};
  }

 private:
  std::uint64_t seed_;
  std::unique_ptr<pde::DeepOnetData> data_;
  Parameters params_;
};

/// Appends generated rows in the dataset's own type: integer datasets (ksp_iterations) are int64,
/// but files written before they were (float64) still resume, and stay float64.
void append_rows(io::H5File& file, const std::string& name, const Tensor<double>& rows) {
  if (file.dtype(name) == io::DType::int64) {
    Tensor<std::int64_t> counts = Tensor<std::int64_t>::uninitialized(rows.shape());
    std::transform(rows.begin(), rows.end(), counts.begin(), [](double v) { return std::llround(v); });
    file.append<std::int64_t>(name, counts);
  } else {
    file.append<double>(name, rows);
  }
}

/// Before resuming: every dataset must hold samples of the expected shape and at least `counted`
/// rows. Fewer rows than the counter means the counter was written before its rows reached the disk
/// (a crash during a flush); resuming would pad with zeros, so it is refused, naming both numbers.
void check_extents(const io::H5File& file, const fs::path& path, const std::vector<DatasetSpec>& specs,
                   index_t counted) {
  for (const auto& d : specs) {
    const std::string name = "/" + d.name;
    NEUROPS_CHECK(file.is_dataset(name), "cannot resume " << path << ": dataset " << name << " is missing");
    const Shape shape = file.shape(name);
    NEUROPS_CHECK(shape.rank() >= 1 && shape.tail(1) == d.sample_shape,
                  "cannot resume " << path << ": dataset " << name << " has shape " << shape
                                   << ", expected samples of shape " << d.sample_shape);
    NEUROPS_CHECK(shape[0] >= counted, "cannot resume " << path << ": counter /completed = " << counted
                                                        << " but dataset " << name << " holds only " << shape[0]
                                                        << " rows; the file is inconsistent (interrupted flush?), "
                                                           "regenerate it with -gen_overwrite");
  }
}

/// Rank 0 decides; every rank gets the decision or the error message.
template <class F>
std::int64_t on_rank0(int rank, F&& f) {
  std::int64_t value = 0;
  std::string error;
  if (rank == 0) {
    try {
      value = f();
    } catch (const Error& e) {
      error = e.message();
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    }
  }
  std::int64_t length = std::int64_t(error.size());
  MPI_Bcast(&length, 1, MPI_INT64_T, 0, PETSC_COMM_WORLD);
  error.resize(std::size_t(length));
  MPI_Bcast(error.data(), int(length), MPI_CHAR, 0, PETSC_COMM_WORLD);
  if (length) NEUROPS_THROW(error);
  MPI_Bcast(&value, 1, MPI_INT64_T, 0, PETSC_COMM_WORLD);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  // PETSc (and HDF5) shut down after the error below has been reported: the session outlives the try.
  PetscSession session(&argc, &argv, "neurops_generate: PDE/ODE training data to HDF5\n");
  try {
    // 1. The options common to every problem.
    const int rank = session.rank(), size = session.size();
    Options opt("neurops_generate", "gen_");
    const std::string problem =
        opt.choice("problem", "darcy",
                   {"darcy", "poisson", "navier_stokes", "antiderivative", "ode", "pendulum", "diffusion_reaction"},
                   "data set to generate");
    const index_t samples = opt.integer("samples", 100, "total number of samples in the file", 1, kMaxSamples);
    const auto seed = static_cast<std::uint64_t>(opt.integer(
        "seed", 0, "random seed; sample i uses Rng::stream(seed, i)", 0, std::numeric_limits<std::int64_t>::max()));
    const std::string out = opt.string("out", "", "output HDF5 file (default <problem>.h5)");
    const index_t chunk =
        opt.integer("chunk", 0, "samples per appended chunk (0: about 1% of the total, at least 1)", 0, kMaxSamples);
    const index_t max_new =
        opt.integer("max_new_samples", -1, "stop after this many new samples (-1: no limit)", -1, kMaxSamples);
    const bool resume = opt.flag("resume", false, "continue an existing file where it stopped");
    const bool overwrite = opt.flag("overwrite", false, "replace an existing file");
    const bool preview =
        opt.flag("preview", true, "write <out>.xdmf (every sample) and PNG previews of the first sample");
    const std::string memory_text = opt.string(
        "memory_per_rank", "auto",
        "memory one rank may use for one sample's solve, e.g. 64MB (auto: MemAvailable / ranks on the node); "
        "a Darcy or Poisson sample that needs more is split across the ranks");

    std::unique_ptr<SampleGenerator> gen;
    if (opt.help_requested()) {  // every problem's options, each generator returning before any work
      DarcyGenerator darcy(seed, 0);
      PoissonGenerator poisson(seed, 0);
      NavierStokesGenerator navier_stokes(seed);
      DeepOnetGenerator deeponet(pde::DeepOnetProblem::antiderivative, seed);
      return 0;
    }
    // Under MPI, the memory one rank may use decides whether a sample is solved on one rank.
    const std::int64_t memory_per_rank = memory_text != "auto"
                                             ? examples::parse_bytes(memory_text, "-gen_memory_per_rank")
                                         : size > 1 ? examples::memory_per_rank(PETSC_COMM_WORLD)
                                                    : 0;
    if (problem == "darcy")
      gen = std::make_unique<DarcyGenerator>(seed, memory_per_rank);
    else if (problem == "poisson")
      gen = std::make_unique<PoissonGenerator>(seed, memory_per_rank);
    else if (problem == "navier_stokes")
      gen = std::make_unique<NavierStokesGenerator>(seed);
    else
      gen = std::make_unique<DeepOnetGenerator>(pde::parse_deeponet_problem(problem), seed);
    NEUROPS_CHECK(samples >= 1, "option -gen_samples: expected at least 1, found " << samples);
    NEUROPS_CHECK(!(resume && overwrite), "options -gen_resume and -gen_overwrite exclude each other");
    NEUROPS_CHECK(size == 1 || gen->distributed() || gen->sample_parallel(),
                  "-gen_problem " << problem << " runs on one MPI rank (found " << size
                                  << "); darcy, poisson and navier_stokes are sample-parallel");
    if (rank == 0 && !gen->split_reason().empty()) std::printf("%s\n", gen->split_reason().c_str());
    const fs::path path = out.empty() ? fs::path(problem + ".h5") : fs::path(out);
    const index_t chunk_rows = chunk > 0 ? chunk : std::max<index_t>(1, samples / 100);
    const auto specs = gen->datasets();

    // 2. The file: refuse, resume or create (header and empty datasets written atomically).
    Timer timer;
    const index_t completed = on_rank0(rank, [&]() -> std::int64_t {
      const bool exists = fs::exists(path);
      NEUROPS_CHECK(!exists || resume || overwrite, "output file " << path
                                                                   << " exists; pass -gen_resume to continue it or "
                                                                      "-gen_overwrite to replace it");
      if (exists && resume) {
        auto file = io::H5File::open(path, io::FileMode::read_write);
        const std::string stored = file.attr_string("/", "parameters");
        NEUROPS_CHECK(stored == gen->parameters().canonical() && file.attr_int("/", "seed") == std::int64_t(seed),
                      "cannot resume " << path << ": it was generated with other parameters\n  file:    " << stored
                                       << " seed=" << file.attr_int("/", "seed")
                                       << "\n  options: " << gen->parameters().canonical() << " seed=" << seed);
        const index_t done = file.attr_int("/", "completed");
        NEUROPS_CHECK(done >= 0 && done <= samples, "cannot resume " << path << ": its counter /completed says " << done
                                                                     << " samples, expected 0 to -gen_samples "
                                                                     << samples);
        check_extents(file, path, specs, done);
        // Rows past the counter (a chunk written but not counted) are dropped and generated again.
        for (const auto& d : specs) file.resize_rows("/" + d.name, done);
        file.set_attr("/", "samples", std::int64_t(samples));
        file.commit();
        return done;
      }
      auto file = io::H5File::create(path);
      for (const auto& [name, value] : gen->parameters().values()) file.set_attr("/", name, value);
      file.set_attr("/", "parameters", gen->parameters().canonical());
      file.set_attr("/", "seed", std::int64_t(seed));
      file.set_attr("/", "sample_streams", std::string("sample i is drawn from Rng::stream(seed, i)"));
      file.set_attr("/", "neurops_version", std::string(NEUROPS_VERSION_STRING));
      file.set_attr("/", "samples", std::int64_t(samples));
      file.set_attr("/", "completed", std::int64_t(0));
      for (const auto& d : specs) {
        if (d.integer)
          file.create_extendable<std::int64_t>("/" + d.name, d.sample_shape, chunk_rows);
        else
          file.create_extendable<double>("/" + d.name, d.sample_shape, chunk_rows);
      }
      file.commit();
      return 0;
    });

    // 3. Generate chunk by chunk; the counter moves only after a chunk is on disk.
    const index_t to_generate = max_new >= 0 ? std::min(samples - completed, max_new) : samples - completed;
    Progress progress(std::max<index_t>(to_generate, 1), "generate " + problem);
    std::unique_ptr<io::H5File> file;
    if (rank == 0) file = std::make_unique<io::H5File>(io::H5File::open(path, io::FileMode::read_write));
    index_t done = 0;
    while (done < to_generate) {
      // Sample-parallel runs take `size` chunks at a time so that every rank has rows to solve; the
      // datasets keep their chunk layout, so the file is the 1-rank file.
      const index_t batch = gen->sample_parallel() && size > 1 ? chunk_rows * size : chunk_rows;
      const index_t first = completed + done, count = std::min(batch, to_generate - done);
      std::vector<Tensor<double>> rows;
      for (const auto& d : specs) {
        std::vector<index_t> dims{count};
        for (auto e : d.sample_shape.dims()) dims.push_back(e);
        rows.emplace_back(Shape(dims));
      }
      if (gen->sample_parallel() && size > 1)
        examples::generate_across_ranks(
            [&gen](index_t index, index_t row, std::vector<Tensor<double>>& chunk) {
              gen->generate(index, row, chunk);
            },
            first, count, rows, PETSC_COMM_WORLD);
      else
        gen->generate_chunk(first, count, rows);
      if (rank == 0) gen->record(rows);
      // The rows reach the disk (checked) before the counter that vouches for them: a crash or a full
      // disk in between leaves uncounted rows, which -gen_resume drops, never a counter ahead of the data.
      // Rank 0 writes; a failure is an error on every rank, so that none waits in the next chunk's
      // solves while rank 0 reports (under mpiexec a full disk hung the job without a message).
      on_rank0(rank, [&]() -> std::int64_t {
        for (std::size_t k = 0; k < specs.size(); ++k) append_rows(*file, "/" + specs[k].name, rows[k]);
        file->flush();
        file->set_attr("/", "completed", std::int64_t(first + count));
        file->flush();
        return 0;
      });
      done += count;
      progress.update(done, gen->status());
    }
    progress.finish(gen->status());
    const index_t total = completed + done;
    on_rank0(rank, [&]() -> std::int64_t {
      file->commit();
      return 0;
    });
    file.reset();

    // 4. XDMF of every sample, PNG preview of the first, and the results table.
    std::vector<std::string> previews;
    if (rank == 0 && preview && total > 0) {
      auto reader = io::H5File::open(path);
      const fs::path stem = path.parent_path() / path.stem();
      const io::UniformGrid grid = gen->preview_grid();
      std::vector<io::XdmfAttribute> attrs;
      for (const auto& name : gen->preview_datasets()) {
        const Tensor<double> first = reader.read_rows<double>("/" + name, 0, 1);
        const index_t per_channel = first.shape().tail_numel(2);
        const index_t channels = first.size(1);
        // The last channel: the latest snapshot for Navier-Stokes, the only one elsewhere.
        const index_t c = channels - 1;
        // 2-D data as an image; 1-D data (ODE inputs/solutions) as a one-row strip; 3-D data (Poisson
        // -poisson_dim 3) as its middle z slice.
        Tensor<double> field(first.rank() >= 4 ? first.shape().tail(2) : Shape({1, per_channel}));
        const index_t slice = first.rank() == 5 ? (first.size(2) / 2) * first.size(3) * first.size(4) : 0;
        std::copy(first.begin() + c * per_channel, first.begin() + (c + 1) * per_channel, field.begin());
        if (first.rank() == 5) {
          Tensor<double> plane(field.shape().tail(1));
          std::copy(field.begin() + slice, field.begin() + slice + plane.numel(), plane.begin());
          field = std::move(plane);
        }
        const fs::path png = stem.string() + "_" + name + ".png";
        io::write_png(png, field);
        previews.push_back(png.string());
        if (grid.rank() == 2) attrs.push_back(io::xdmf_attribute(reader, "/" + name, name, {0, 0}));
      }
      if (!attrs.empty()) {  // every completed sample; Navier-Stokes: one block per sample over its snapshots
        const fs::path xdmf = stem.string() + ".xdmf";
        if (reader.has_attr("/", "times"))
          io::write_xdmf_blocks(xdmf, path, grid,
                                io::xdmf_snapshot_blocks(attrs, reader.attr_reals("/", "times"), total));
        else
          io::write_xdmf_series(xdmf, path, grid, io::xdmf_sample_steps(attrs, total));
        previews.push_back(xdmf.string());
      }
    }
    if (rank == 0) {
      const double seconds = timer.seconds();
      std::printf("\n%-28s %s\n", "result", "value");
      std::printf("%-28s %s\n", "problem", problem.c_str());
      std::printf("%-28s %s\n", "file", path.c_str());
      std::printf("%-28s %lld of %lld (%lld new%s)\n", "samples", (long long)total, (long long)samples, (long long)done,
                  completed ? ", resumed" : "");
      std::printf("%-28s %d\n", "MPI ranks", size);
      std::printf("%-28s %s\n", "time", format_duration(seconds).c_str());
      std::printf("%-28s %.3g\n", "new samples per second", seconds > 0 ? double(done) / seconds : 0.0);
      for (const auto& [k, v] : gen->summary()) std::printf("%-28s %s\n", k.c_str(), v.c_str());
      for (const auto& p : previews) std::printf("%-28s %s\n", "preview", p.c_str());
      if (total < samples)
        std::printf("%-28s stopped at %lld; run again with -gen_resume to continue\n", "status", (long long)total);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neurops_generate: error: %s\n", e.what());
    return 1;
  }
}
