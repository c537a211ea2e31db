// neurops_tune_sor — tunes the SOR relaxation parameter online over a sequence of linear systems,
// for use from shell scripts.
//
// What it does:
//   1. reads options (-help lists them)
//   2. takes a sequence of systems: HDF5 or PETSc-binary files (-tune_files a.h5,b.h5,... in order;
//      the HDF5 layout is that of neurops::solvers::write_system, read through PETSc's MatLoad/VecLoad)
//      or a generated family (-tune_family ltr_high|ltr_low|heat)
//   3. solves each with SOR (x0 = 0, |r|/|r0| < rtol) or SSOR-PCG (warm starts along the heat
//      sequence) using the omega a bandit learner picks, and feeds the iteration count back
//   4. optionally also solves with every omega of the grid to report the regret against the
//      per-instance grid minimum
//   5. writes per-instance context, omega, iterations, convergence, grid minimum and regret to CSV
//      and HDF5 (both atomically) and prints a summary
//   6. with -tune_state FILE, saves what the learner learned; -tune_resume continues from that file,
//      so a sequence of runs keeps learning (-tune_files gives each run its own systems; the ltr
//      families continue after the systems the learner has seen; heat starts anew)
// Under MPI every rank solves every system on its own (PETSC_COMM_SELF), so the results are those of
// one process; rank 0 alone prints and writes.
// Exit status: 0 on success (systems that hit the iteration cap are counted and reported, and the
// sequence goes on); 1 with a one-line "neurops_tune_sor: error: ..." on stderr otherwise.
//
// Sample runs:
//   ./neurops_tune_sor -tune_family ltr_high -tune_count 1000 -tune_learner chebcb -tune_out run1
//   ./neurops_tune_sor -tune_family heat -tune_heat_nx 50 -tune_count 500 -tune_learner tsallis
//   ./neurops_tune_sor -tune_family ltr_low -tune_count 20 -tune_write_systems systems/   # make files
//   ./neurops_tune_sor -tune_files systems/system_0000.h5,systems/system_0001.h5 -tune_learner binned
//   ./neurops_tune_sor -tune_files day1/*.h5... -tune_state omega.h5               # learns, saves
//   ./neurops_tune_sor -tune_files day2/*.h5... -tune_state omega.h5 -tune_resume  # continues
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "neurops/neurops.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandit_state.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/sor.hpp"
#include "neurops/solvers/system_io.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Record {
  double context = 0, omega = 0, iterations = 0, grid_min = NAN, seconds = 0;
  bool converged = false;
};
}  // namespace

int main(int argc, char** argv) {
  // PETSc (and HDF5) shut down after the error below has been reported: the session outlives the try.
  PetscSession session(&argc, &argv, "neurops_tune_sor: online tuning of the SOR parameter over a sequence\n");
  try {
    // 1. Options.
    Options opt("SOR tuning", "tune_");
    const std::string files_option = opt.string("files", "", "comma-separated system files (.h5 or .bin), in order");
    const std::string family =
        opt.choice("family", files_option.empty() ? "ltr_high" : "files", {"ltr_high", "ltr_low", "heat", "files"},
                   "generated family, or files from -tune_files");
    const auto count = opt.integer("count", 200, "systems to generate (generated families)");
    const auto heat_nx = opt.integer("heat_nx", 25, "heat grid intervals per side");
    const std::string method = opt.choice("method", family == "heat" ? "ssor_pcg" : "sor", {"sor", "ssor_pcg"},
                                          "solver: SOR iterations or SSOR-preconditioned CG");
    TunerConfig config;
    config.learner = opt.choice("learner", "tsallis", {"tsallis", "chebcb", "binned", "fixed"}, "bandit learner");
    config.arms = static_cast<int>(opt.integer("arms", 20, "omega grid size"));
    config.omega_min = opt.real("omega_min", 1.0, "smallest omega of the grid");
    config.omega_max = opt.real("omega_max", 1.95, "largest omega of the grid");
    config.fixed_omega = opt.real("omega", 1.5, "omega of the fixed learner");
    const std::vector<double> default_range =
        family == "heat" ? std::vector<double>{0.0, 10.0} : std::vector<double>{-0.15, 0.65};
    const auto range = opt.reals("context_range", default_range, "context interval lo,hi of chebcb/binned");
    config.tsallis_normaliser =
        opt.choice("tsallis_normalizer", "reference", {"reference", "safeguarded"},
                   "Tsallis-INF normalizer (Newton from -1 as the paper's code, or safeguarded)");
    config.bins = static_cast<int>(opt.integer("bins", family == "heat" ? 6 : 5, "bins of the binned learner"));
    config.seed = static_cast<std::uint64_t>(opt.integer("seed", 0, "seed of the learner and the generated family"));
    const bool regret = opt.flag("regret", true, "also solve with every grid omega to report regret");
    const double rtol = opt.real("rtol", 1e-8, "relative residual tolerance");
    const auto max_it = opt.integer("max_it", 10000, "iteration cap per solve");
    const std::string out = opt.string("out", "tune_sor", "output prefix: writes <out>.csv and <out>.h5");
    const std::string write_dir = opt.string("write_systems", "", "also write each system as HDF5 into this folder");
    const std::string state = opt.string("state", "", "HDF5 file of the learner's state, written at the end");
    const bool resume = opt.flag("resume", false, "continue the learner saved in -tune_state");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(range.size() == 2, "option -tune_context_range: expected two values lo,hi, found " << range.size());
    config.context_lo = range[0];
    config.context_hi = range[1];
    NEUROPS_CHECK(count >= 1, "option -tune_count: expected at least 1, found " << count);
    NEUROPS_CHECK(rtol > 0 && rtol < 1, "option -tune_rtol: expected a value in (0, 1), found " << rtol);
    NEUROPS_CHECK(max_it >= 1, "option -tune_max_it: expected at least 1, found " << max_it);
    const auto files = split(files_option);
    NEUROPS_CHECK(family != "files" || !files.empty(), "option -tune_files: no files given for -tune_family files");
    for (const auto& f : files) NEUROPS_CHECK(fs::exists(f), "option -tune_files: file '" << f << "' does not exist");
    NEUROPS_CHECK(!resume || !state.empty(), "option -tune_resume: no -tune_state file to continue from");
    NEUROPS_CHECK(!resume || fs::exists(state), "option -tune_resume: state file '" << state << "' does not exist");
    // Without -tune_resume an existing state would be overwritten by a new learner's: refuse before solving.
    NEUROPS_CHECK(resume || state.empty() || !fs::exists(state),
                  "option -tune_state: '" << state
                                          << "' exists; add -tune_resume to continue from it, or remove it to start a "
                                             "new learner");
    auto tuner = resume ? load_tuner_state(state, config) : make_tuner(config);
    const std::int64_t rounds_before = tuner->rounds();
    const auto grid = linspace(config.omega_min, config.omega_max, config.arms);
    const bool root = session.rank() == 0;  // every rank solves everything; rank 0 prints and writes
    if (!write_dir.empty() && root) fs::create_directories(write_dir);

    // 2.-4. The sequence.
    const std::int64_t n = family == "files" ? static_cast<std::int64_t>(files.size()) : count;
    const RelaxationSettings plain{.rtol = rtol, .max_it = static_cast<PetscInt>(max_it)};
    std::vector<Record> records;
    Rng rng(config.seed);
    const auto ltr = family == "ltr_low" ? pde::ShiftedLaplacianFamily::low_variance()
                                         : pde::ShiftedLaplacianFamily::high_variance();
    std::unique_ptr<pde::HeatSequence> heat;
    if (family == "heat") heat = std::make_unique<pde::HeatSequence>(PETSC_COMM_SELF, heat_nx);
    PetscMat A;
    PetscVec b, x, scratch;
    if (family == "ltr_high" || family == "ltr_low") {
      // A resumed learner continues the shifted-Laplacian sequence after the systems it has seen, so
      // that runs of k and n - k systems are one run of n.
      NEUROPS_PETSC(MatCreateVecs(ltr.base(), nullptr, b.out()));
      for (std::int64_t skip = 0; skip < rounds_before; ++skip) {
        ltr.sample_shift(rng);
        ltr.sample_rhs(rng, b);
      }
    }
    std::int64_t failures = 0;
    Progress progress(n, "tune " + config.learner);
    for (std::int64_t t = 0; t < n; ++t) {
      Record rec;
      if (family == "files") {
        auto sys = read_system(PETSC_COMM_SELF, files[static_cast<std::size_t>(t)]);
        A = std::move(sys.A);
        b = std::move(sys.b);
        x.reset();
        scratch.reset();
        rec.context = sys.context ? *sys.context : diagonal_shift_estimate(A);
      } else if (family == "heat") {
        heat->system(A, b);
        rec.context = heat->coefficient();
      } else {
        rec.context = ltr.sample_shift(rng);
        ltr.instance(rec.context, A);
        if (!b) NEUROPS_PETSC(MatCreateVecs(A, nullptr, b.out()));
        ltr.sample_rhs(rng, b);
      }
      if (!x) {
        NEUROPS_PETSC(VecDuplicate(b, x.out()));
        NEUROPS_PETSC(VecDuplicate(b, scratch.out()));
      }
      if (!write_dir.empty() && root) {
        char name[64];
        std::snprintf(name, sizeof name, "system_%04lld.h5", static_cast<long long>(t));
        write_system(fs::path(write_dir) / name, A, b, rec.context);
      }
      const bool warm = family == "heat";
      auto solve = [&](double w, Vec into) {
        if (warm) NEUROPS_PETSC(VecCopy(heat->state(), into));
        RelaxationSettings s = plain;
        s.nonzero_guess = warm;
        return method == "sor" ? sor_solve(A, b, into, w, s) : ssor_pcg_solve(A, b, into, w, s);
      };
      rec.omega = tuner->choose(rec.context);
      const auto r = solve(rec.omega, x);
      rec.iterations = double(r.iterations);
      rec.converged = r.converged;
      rec.seconds = r.seconds;
      if (!r.converged) {
        ++failures;
        if (root)
          std::fprintf(stderr, "neurops_tune_sor: system %lld: %s\n", static_cast<long long>(t), r.message.c_str());
      }
      tuner->observe(rec.iterations);
      if (regret) {
        rec.grid_min = rec.iterations;
        for (double w : grid) rec.grid_min = std::min(rec.grid_min, double(solve(w, scratch).iterations));
      }
      if (heat) heat->advance(x);
      records.push_back(rec);
      if (t % 25 == 0) progress.update(t, "omega " + std::to_string(rec.omega).substr(0, 4));
    }
    progress.finish();

    // 5.-6. Outputs, written atomically by rank 0.
    if (!root) return 0;
    if (!state.empty()) save_tuner_state(state, *tuner, config);
    const auto rows = static_cast<index_t>(records.size());
    Tensor<double> context({rows}), omega({rows}), iterations({rows}), grid_min({rows}), regret_t({rows}), secs({rows});
    Tensor<std::int32_t> converged({rows});
    std::ostringstream csv;
    csv << "instance,context,omega,iterations,converged,grid_min,regret,solve_seconds\n";
    double total = 0, total_min = 0;
    for (index_t i = 0; i < rows; ++i) {
      const auto& r = records[static_cast<std::size_t>(i)];
      context[i] = r.context;
      omega[i] = r.omega;
      iterations[i] = r.iterations;
      grid_min[i] = r.grid_min;
      regret_t[i] = r.iterations - r.grid_min;
      secs[i] = r.seconds;
      converged[i] = r.converged;
      total += r.iterations;
      total_min += r.grid_min;
      csv << i << "," << r.context << "," << r.omega << "," << r.iterations << "," << int(r.converged) << ","
          << r.grid_min << "," << (r.iterations - r.grid_min) << "," << r.seconds << "\n";
    }
    auto h5 = io::H5File::create(out + ".h5");
    h5.write("/context", context);
    h5.write("/omega", omega);
    h5.write("/iterations", iterations);
    h5.write("/converged", converged);
    h5.write("/grid_min", grid_min);
    h5.write("/regret", regret_t);
    h5.write("/solve_seconds", secs);
    h5.set_attr("/", "learner", config.learner);
    h5.set_attr("/", "family", family);
    h5.set_attr("/", "method", method);
    h5.set_attr("/", "seed", std::int64_t(config.seed));
    h5.set_attr("/", "omega_grid", grid);
    h5.commit();
    io::write_text_atomically(out + ".csv", csv.str());
    std::printf("%s on %s (%s): %lld systems, mean iterations %.2f", config.learner.c_str(), family.c_str(),
                method.c_str(), static_cast<long long>(rows), total / double(rows));
    if (regret)
      std::printf(", per-instance grid minimum %.2f, regret %.0f iterations (%.1f%%)", total_min / double(rows),
                  total - total_min, 100.0 * (total - total_min) / total_min);
    std::printf(", not converged %lld\n%s", static_cast<long long>(failures), tuner->summary().c_str());
    std::printf("wrote %s.csv and %s.h5\n", out.c_str(), out.c_str());
    if (!state.empty())
      std::printf("learner state: %s, %lld solves (%lld before this run)\n", state.c_str(),
                  static_cast<long long>(tuner->rounds()), static_cast<long long>(rounds_before));
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (auto& c : msg)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "neurops_tune_sor: error: %s\n", msg.c_str());
    return 1;
  }
}
