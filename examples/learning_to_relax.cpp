// learning_to_relax — online tuning of the SOR relaxation parameter omega across a sequence of
// linear systems with bandit algorithms (Khodak, Chow, Balcan, Talwalkar, "Learning to Relax",
// ICLR 2024).
//
// What it shows:
//   1. PETSc start-up and options (-help lists them)
//   2. the shifted-Laplacian experiment: A_t = delsq(numgrid('S',12)) + c_t I, c_t = -0.15 + 0.6 Beta
//      (high variance Beta(0.5,1.5), low variance Beta(2,6)), b_t a radially truncated N(0, I),
//      solved by SOR from x0 = 0 to |r|/|r0| < 1e-8. Every omega of the grid linspace(1,1.95,20) is
//      run on every instance once (SOR is deterministic, so this table is exactly what a learner
//      would observe); Tsallis-INF, ChebCB and binned Tsallis-INF-CB then play against it, beside the
//      baselines omega = 1, a fixed omega near omega*, the best fixed omega in hindsight, Young's
//      instance-optimal omega*(A_t) (its own SOR solve per instance) and the per-instance grid minimum
//   3. the Crank–Nicolson heat sequence A_t = I - kappa(t) dt/2 L_h solved by SSOR-PCG with warm
//      starts, the learners choosing omega live before each step (ChebCB and the binned learner see
//      kappa(t)); optionally (-ltr_heat_oracle) the grid of every omega per step for the best fixed
//      and per-step optimal omega
//   4. a results table per experiment, HDF5 with per-instance omega/iterations, CSV summary and PNG
//      plots of cumulative iterations against the instance number
//
// Sample runs:
//   ./learning_to_relax                                          # 1000 instances, 2 trials, nx = 25 heat
//   ./learning_to_relax -ltr_instances 5000 -ltr_trials 3        # the paper's sequence length
//   ./learning_to_relax -ltr_experiment heat -ltr_heat_nx 400 -ltr_heat_steps 200   # 159,201 unknowns
//   ./learning_to_relax -help
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include "neurops/io/plot.hpp"
#include "neurops/neurops.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/sor.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {

// Per-method cost sequences, averaged over trials for the plot.
struct MethodRun {
  std::vector<double> cumulative_mean;  // mean over trials of the cumulative cost
  std::vector<double> totals;           // per trial
  std::vector<double> omegas;           // first trial's choices
  std::vector<double> costs;            // first trial's costs
  double solve_seconds = 0, tuner_seconds = 0;
};

void add_trial(MethodRun& m, const std::vector<double>& costs, const std::vector<double>& omegas, int trials) {
  if (m.cumulative_mean.empty()) {
    m.cumulative_mean.assign(costs.size(), 0.0);
    m.omegas = omegas;
    m.costs = costs;
  }
  double run = 0;
  for (std::size_t t = 0; t < costs.size(); ++t) {
    run += costs[t];
    m.cumulative_mean[t] += run / trials;
  }
  m.totals.push_back(run);
}

std::string two_decimals(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }

/// The heading, then the notes gathered while the experiment ran (so that they stand under their own
/// heading, not under the previous table), then the table.
void print_table(const std::string& title, const std::vector<std::string>& notes, const std::vector<std::string>& order,
                 std::map<std::string, MethodRun>& runs, double instances, const std::string& best_fixed,
                 const std::string& optimal, bool timings) {
  std::printf("\n%s\n", title.c_str());
  for (const auto& note : notes) std::printf("  %s\n", note.c_str());
  std::printf("  %-30s %14s %12s %10s %10s", "method", "total iters", "iters/inst", "/best-fix", "/inst-opt");
  if (timings) std::printf(" %11s %11s %9s", "solve s", "tuner s", "overhead");
  std::printf("\n");
  const double ref_fixed = mean(runs[best_fixed].totals), ref_opt = optimal.empty() ? 0 : mean(runs[optimal].totals);
  for (const auto& name : order) {
    auto& m = runs[name];
    if (m.totals.empty()) continue;
    const double total = mean(m.totals);
    std::printf("  %-30s %14.0f %12.1f %10.3f", name.c_str(), total, total / instances, total / ref_fixed);
    if (ref_opt > 0)
      std::printf(" %10.3f", total / ref_opt);
    else
      std::printf(" %10s", "-");
    if (timings && m.solve_seconds > 0)
      std::printf(" %11.3f %11.5f %8.3f%%", m.solve_seconds, m.tuner_seconds,
                  100.0 * m.tuner_seconds / m.solve_seconds);
    std::printf("\n");
  }
}

void plot(const fs::path& path, const std::string& title, const std::vector<std::string>& order,
          std::map<std::string, MethodRun>& runs, const std::string& x_label) {
  std::vector<io::PlotSeries> series;
  int colour = 0;
  for (const auto& name : order) {
    auto& m = runs[name];
    // omega = 1 costs 5-10x the rest and would flatten every other curve; it stays in the table.
    if (m.cumulative_mean.empty() || name == "omega = 1") continue;
    io::PlotSeries s{name, {}, m.cumulative_mean, io::plot_color(colour++)};
    s.x.resize(s.y.size());
    std::iota(s.x.begin(), s.x.end(), 1.0);
    series.push_back(std::move(s));
  }
  io::write_line_plot(path, series, {.title = title, .x_label = x_label, .y_label = "cumulative iterations"});
}

void save_runs(io::H5File& file, const std::string& group, const std::vector<std::string>& order,
               std::map<std::string, MethodRun>& runs) {
  for (const auto& name : order) {
    auto& m = runs[name];
    if (m.costs.empty()) continue;
    std::string key = name;
    std::replace_if(
        key.begin(), key.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    const auto n = static_cast<index_t>(m.costs.size());
    Tensor<double> costs({n}), omegas({n}), cumulative({n}), totals({static_cast<index_t>(m.totals.size())});
    std::copy(m.costs.begin(), m.costs.end(), costs.begin());
    if (m.omegas.size() == m.costs.size()) std::copy(m.omegas.begin(), m.omegas.end(), omegas.begin());
    std::copy(m.cumulative_mean.begin(), m.cumulative_mean.end(), cumulative.begin());
    std::copy(m.totals.begin(), m.totals.end(), totals.begin());
    file.write(group + "/" + key + "/iterations_trial0", costs);
    file.write(group + "/" + key + "/omega_trial0", omegas);
    file.write(group + "/" + key + "/cumulative_mean", cumulative);
    file.write(group + "/" + key + "/total_per_trial", totals);
    file.set_attr(group + "/" + key, "method", name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // PETSc (and HDF5) shut down after the error below has been reported: the session outlives the try.
  PetscSession session(&argc, &argv, "Learning to Relax: bandit tuning of the SOR parameter\n");
  try {
    // 1. PETSc start-up and options.
    Options opt("Learning to Relax", "ltr_");
    const std::string experiment = opt.choice("experiment", "both", {"shifted", "heat", "both"}, "which experiment");
    const auto instances = opt.integer("instances", 1000, "instances per trial of the shifted-Laplacian experiment");
    const auto trials = opt.integer("trials", 2, "seeded trials (the paper uses 40)");
    const auto seed = static_cast<std::uint64_t>(opt.integer("seed", 1, "random seed"));
    const auto variances = opt.choice("variance", "both", {"high", "low", "both"}, "offset distributions to run");
    const auto heat_nx = opt.integer("heat_nx", 25, "heat grid intervals per side ((nx-1)^2 unknowns; 400 -> 159,201)");
    const auto heat_steps = opt.integer("heat_steps", 1000, "Crank-Nicolson steps (the paper runs 5000)");
    const bool heat_oracle =
        opt.flag("heat_oracle", true, "also solve every omega per step (best fixed, per-step optimum)");
    const std::string normaliser =
        opt.choice("tsallis_normalizer", "reference", {"reference", "safeguarded"},
                   "Tsallis-INF normalizer (Newton from -1 as the paper's code, or safeguarded)");
    const std::string out = opt.string("out", "ltr_output", "output folder");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(instances >= 1, "option -ltr_instances: expected at least 1, found " << instances);
    NEUROPS_CHECK(trials >= 1, "option -ltr_trials: expected at least 1, found " << trials);
    NEUROPS_CHECK(heat_nx >= 3, "option -ltr_heat_nx: expected at least 3, found " << heat_nx);
    NEUROPS_CHECK(heat_steps >= 1, "option -ltr_heat_steps: expected at least 1, found " << heat_steps);
    fs::create_directories(out);
    const auto arms = linspace(1.0, 1.95, 20);
    std::ostringstream csv;
    csv << "experiment,method,mean_total_iterations,iterations_per_instance\n";
    auto file = io::H5File::create(fs::path(out) / "learning_to_relax.h5");
    file.set_attr("/", "seed", std::int64_t(seed));
    file.set_attr("/", "omega_grid", arms);

    // 2. Shifted-Laplacian experiment.
    if (experiment != "heat") {
      for (const std::string variance : {"high", "low"}) {
        if (variances != "both" && variances != variance) continue;
        const auto family = variance == "high" ? pde::ShiftedLaplacianFamily::high_variance()
                                               : pde::ShiftedLaplacianFamily::low_variance();
        const double legend_omega = variance == "high" ? 1.8 : 1.6;  // the reference's "approximately omega*"
        const int legend_arm = static_cast<int>(std::lround((legend_omega - 1.0) / 0.05));
        const std::string fixed_name = "omega = " + std::to_string(legend_omega).substr(0, 3);
        std::map<std::string, MethodRun> runs;
        const std::vector<std::string> order = {
            "omega = 1",      fixed_name, "best fixed (hindsight)",   "Tsallis-INF",
            "Tsallis-INF-CB", "ChebCB",   "instance-optimal (Young)", "per-instance grid minimum"};
        Progress progress(trials * instances, "shifted/" + variance);
        std::vector<std::string> notes;
        for (std::int64_t trial = 0; trial < trials; ++trial) {
          Rng rng = Rng::stream(seed, 2 * std::uint64_t(trial) + (variance == "high" ? 0 : 1));
          PetscMat A;
          PetscVec b, x;
          family.instance(0.0, A);
          NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
          std::vector<std::vector<double>> table(static_cast<std::size_t>(instances));
          std::vector<double> contexts, young_costs, young_omegas;
          std::int64_t capped = 0;
          for (std::int64_t t = 0; t < instances; ++t) {
            const double c = family.sample_shift(rng);
            family.instance(c, A);
            family.sample_rhs(rng, b);
            contexts.push_back(c);
            auto& row = table[static_cast<std::size_t>(t)];
            for (double w : arms) {
              const auto r = sor_solve(A, b, x, w);
              capped += !r.converged;
              row.push_back(double(r.iterations));
            }
            const double star = young_optimal_omega(jacobi_spectral_radius(A));
            young_omegas.push_back(star);
            young_costs.push_back(double(sor_solve(A, b, x, star).iterations));
            if (t % 50 == 0) progress.update(trial * instances + t);
          }
          if (capped)
            notes.push_back("note: trial " + std::to_string(trial + 1) + ": " + std::to_string(capped) +
                            " solves hit the 10000-iteration cap (counted at the cap)");
          // Baselines from the table.
          const auto hind = hindsight_baselines(table);
          std::vector<double> c1, cl, cb, cmin, w1, wl, wb, wmin;
          for (const auto& row : table) {
            c1.push_back(row[0]);
            cl.push_back(row[static_cast<std::size_t>(legend_arm)]);
            cb.push_back(row[static_cast<std::size_t>(hind.best_fixed_arm)]);
            const auto best = std::min_element(row.begin(), row.end()) - row.begin();
            cmin.push_back(row[static_cast<std::size_t>(best)]);
            w1.push_back(1.0);
            wl.push_back(legend_omega);
            wb.push_back(arms[static_cast<std::size_t>(hind.best_fixed_arm)]);
            wmin.push_back(arms[static_cast<std::size_t>(best)]);
          }
          add_trial(runs["omega = 1"], c1, w1, int(trials));
          add_trial(runs[fixed_name], cl, wl, int(trials));
          add_trial(runs["best fixed (hindsight)"], cb, wb, int(trials));
          add_trial(runs["per-instance grid minimum"], cmin, wmin, int(trials));
          add_trial(runs["instance-optimal (Young)"], young_costs, young_omegas, int(trials));
          if (trial == 0)
            notes.push_back("best fixed omega in hindsight = " +
                            two_decimals(arms[static_cast<std::size_t>(hind.best_fixed_arm)]));
          // Learners against the table.
          const std::uint64_t learner_seed = seed * 1000 + std::uint64_t(trial);
          const auto [lo, hi] = std::pair{-0.15, 0.65};  // the reference's context interval
          for (const std::string learner : {"tsallis", "binned", "chebcb"}) {
            auto tuner = make_tuner({.learner = learner,
                                     .context_lo = lo,
                                     .context_hi = hi,
                                     .tsallis_normaliser = normaliser,
                                     .seed = learner_seed});
            std::vector<double> costs, omegas;
            for (std::int64_t t = 0; t < instances; ++t) {
              const double w = tuner->choose(contexts[static_cast<std::size_t>(t)]);
              const double cost = table[static_cast<std::size_t>(t)][static_cast<std::size_t>(tuner->last_arm())];
              tuner->observe(cost);
              costs.push_back(cost);
              omegas.push_back(w);
            }
            const std::string name = learner == "tsallis"  ? "Tsallis-INF"
                                     : learner == "binned" ? "Tsallis-INF-CB"
                                                           : "ChebCB";
            add_trial(runs[name], costs, omegas, int(trials));
          }
        }
        progress.finish();
        print_table("Shifted Laplacian, " + variance + " variance: " + std::to_string(instances) + " instances x " +
                        std::to_string(trials) + " trials (mean over trials)",
                    notes, order, runs, double(instances), "best fixed (hindsight)", "instance-optimal (Young)", false);
        const double tsallis_ratio = mean(runs["Tsallis-INF"].totals) / mean(runs["best fixed (hindsight)"].totals);
        const double cheb_ratio = mean(runs["ChebCB"].totals) / mean(runs["instance-optimal (Young)"].totals);
        std::printf(
            "  target: Tsallis-INF within 10%% of best fixed: %.3f (%s); ChebCB within 15%% of instance-optimal: "
            "%.3f (%s)\n",
            tsallis_ratio, tsallis_ratio <= 1.10 ? "met" : "not met", cheb_ratio,
            cheb_ratio <= 1.15 ? "met" : "not met");
        for (const auto& name : order)
          csv << "shifted_" << variance << "," << name << "," << mean(runs[name].totals) << ","
              << mean(runs[name].totals) / double(instances) << "\n";
        save_runs(file, "/shifted_" + variance, order, runs);
        plot(fs::path(out) / ("ltr_" + variance + "_variance.png"),
             "SOR ON A + CI, " + variance + " VARIANCE (" + std::to_string(trials) + " TRIALS)", order, runs,
             "instance");
      }
    }

    // 3. Heat experiment: SSOR-PCG with warm starts, omega chosen live before every step.
    if (experiment != "shifted") {
      const std::vector<std::string> order = {"omega = 1",      "omega = 1.5", "best fixed (hindsight)", "Tsallis-INF",
                                              "Tsallis-INF-CB", "ChebCB",      "per-step grid minimum"};
      std::map<std::string, MethodRun> runs;
      std::vector<std::string> notes;
      const PetscInt unknowns = (heat_nx - 1) * (heat_nx - 1);
      auto run_live = [&](const std::string& name, OmegaTuner& tuner) {
        pde::HeatSequence heat(PETSC_COMM_WORLD, heat_nx);
        PetscMat A;
        PetscVec b, x;
        std::vector<double> costs, omegas;
        MethodRun& m = runs[name];
        std::int64_t failures = 0;
        Progress progress(heat_steps, "heat/" + name);
        for (std::int64_t step = 0; step < heat_steps; ++step) {
          heat.system(A, b);
          if (!x) NEUROPS_PETSC(VecDuplicate(b, x.out()));
          NEUROPS_PETSC(VecCopy(heat.state(), x));  // warm start
          Timer tuner_timer;
          const double w = tuner.choose(heat.coefficient());
          m.tuner_seconds += tuner_timer.seconds();
          const auto r = ssor_pcg_solve(A, b, x, w, {.nonzero_guess = true});
          m.solve_seconds += r.seconds;
          failures += !r.converged;
          tuner_timer.restart();
          tuner.observe(double(r.iterations));
          m.tuner_seconds += tuner_timer.seconds();
          costs.push_back(double(r.iterations));
          omegas.push_back(w);
          heat.advance(x);
          if (step % 20 == 0) progress.update(step, "omega " + std::to_string(w).substr(0, 4));
        }
        progress.finish();
        if (failures)
          notes.push_back("note: " + name + ": " + std::to_string(failures) +
                          " steps did not converge (counted, sequence continued)");
        add_trial(m, costs, omegas, 1);
      };
      const double kappa_hi = 10.0;
      for (const auto& [name, config] : std::vector<std::pair<std::string, TunerConfig>>{
               {"omega = 1", {.learner = "fixed", .fixed_omega = 1.0}},
               {"omega = 1.5", {.learner = "fixed", .fixed_omega = 1.5}},
               {"Tsallis-INF", {.learner = "tsallis", .tsallis_normaliser = normaliser, .seed = seed}},
               {"Tsallis-INF-CB",
                {.learner = "binned",
                .context_lo = 0.0,
                .context_hi = kappa_hi,
                .bins = 6,
                .tsallis_normaliser = normaliser,
                .seed = seed}},
               {"ChebCB", {.learner = "chebcb", .context_lo = 0.0, .context_hi = kappa_hi, .seed = seed}}}) {
        auto tuner = make_tuner(config);
        run_live(name, *tuner);
      }
      if (heat_oracle) {
        // Every omega from the same warm start at every step, along one trajectory.
        pde::HeatSequence heat(PETSC_COMM_WORLD, heat_nx);
        PetscMat A;
        PetscVec b, x, next;
        std::vector<std::vector<double>> table;
        Progress progress(heat_steps, "heat/oracle");
        for (std::int64_t step = 0; step < heat_steps; ++step) {
          heat.system(A, b);
          if (!x) {
            NEUROPS_PETSC(VecDuplicate(b, x.out()));
            NEUROPS_PETSC(VecDuplicate(b, next.out()));
          }
          std::vector<double> row;
          for (std::size_t a = 0; a < arms.size(); ++a) {
            NEUROPS_PETSC(VecCopy(heat.state(), x));
            const auto r = ssor_pcg_solve(A, b, x, arms[a], {.nonzero_guess = true});
            row.push_back(double(r.iterations));
            if (a == 10) NEUROPS_PETSC(VecCopy(x, next));  // continue the trajectory with omega = 1.5
          }
          table.push_back(row);
          heat.advance(next);
          if (step % 20 == 0) progress.update(step);
        }
        progress.finish();
        const auto hind = hindsight_baselines(table);
        std::vector<double> cb, cmin, wb, wmin;
        for (const auto& row : table) {
          cb.push_back(row[static_cast<std::size_t>(hind.best_fixed_arm)]);
          const auto best = std::min_element(row.begin(), row.end()) - row.begin();
          cmin.push_back(row[static_cast<std::size_t>(best)]);
          wb.push_back(arms[static_cast<std::size_t>(hind.best_fixed_arm)]);
          wmin.push_back(arms[static_cast<std::size_t>(best)]);
        }
        add_trial(runs["best fixed (hindsight)"], cb, wb, 1);
        add_trial(runs["per-step grid minimum"], cmin, wmin, 1);
        notes.push_back("best fixed omega in hindsight = " +
                        two_decimals(arms[static_cast<std::size_t>(hind.best_fixed_arm)]));
      }
      const std::string ref = heat_oracle ? "best fixed (hindsight)" : "omega = 1.5";
      print_table("Heat (Crank-Nicolson, SSOR-PCG, warm starts): " + std::to_string(unknowns) + " unknowns, " +
                      std::to_string(heat_steps) + " steps",
                  notes, order, runs, double(heat_steps), ref, heat_oracle ? "per-step grid minimum" : "", true);
      for (const auto& name : order)
        if (!runs[name].totals.empty())
          csv << "heat_nx" << heat_nx << "," << name << "," << mean(runs[name].totals) << ","
              << mean(runs[name].totals) / double(heat_steps) << "\n";
      save_runs(file, "/heat", order, runs);
      file.set_attr("/heat", "unknowns", std::int64_t(unknowns));
      plot(fs::path(out) / "ltr_heat.png", "HEAT, SSOR-PCG, " + std::to_string(unknowns) + " UNKNOWNS", order, runs,
           "time step");
    }

    // 4. Outputs.
    file.commit();
    io::write_text_atomically(fs::path(out) / "learning_to_relax_summary.csv", csv.str());
    std::printf("\nwrote %s/{learning_to_relax.h5, learning_to_relax_summary.csv, ltr_*.png}\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "learning_to_relax: %s\n", e.what());
    return 1;
  }
}
