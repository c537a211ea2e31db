// sor_heat — time per solve of neurops' SSOR-PCG against PETSc's CG with SSOR, ICC(0) and GAMG on
// the Crank–Nicolson heat system A = I - kappa dt/2 L_h at kappa = 10 (the hardest part of the
// Learning-to-Relax heat sequence), and the online tuner's overhead relative to the solves.
//
// Every method solves the same system from x0 = 0 to |r| <= 1e-8 |b| (unpreconditioned norm);
// medians of -bench_repeats solves; setup (factorisation, AMG hierarchy) is timed separately. The
// methods run in -bench_rounds alternating rounds (neurops, then PETSc, ...; bench/roofline.hpp); the
// closing table compares neurops' SSOR-PCG with its peer, PETSc's CG + ICC(0), by the median over the
// rounds of each round's ratio, and gives the solve's GFLOP/s (PETSc's flop counter, plus 4 flops per
// nonzero for each of neurops' SSOR sweeps, which PETSc does not count) against Eigen's float64 GEMM
// rate: sparse solves are memory-bound, so this share is small by nature.
//
//   ./bench/sor_heat                              # nx = 100, 200, 400 (159,201 unknowns)
//   ./bench/sor_heat -bench_nx 400 -bench_repeats 7 -bench_rounds 3 -bench_tuner_steps 60
//   ./bench/sor_heat -bench_smoke                 # seconds-long CI run
#include <cstdio>
#include <string>
#include <vector>

#include "neurops/neurops.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/linear_solver.hpp"
#include "neurops/solvers/sor.hpp"
#include "roofline.hpp"

using namespace neurops;
using namespace neurops::solvers;

namespace {
struct Row {
  std::string method;
  PetscInt iterations = 0;
  double setup = 0, solve = 0;
  bool converged = false;
  double flops = 0;  // of one solve
};

/// PETSc's count of the flops this process has done so far.
double petsc_flops() {
  PetscLogDouble f = 0;
  NEUROPS_PETSC(PetscGetFlops(&f));
  return double(f);
}

Row run_petsc(const std::string& name, const std::string& prefix, const SolverDefaults& defaults, Mat A, Vec b, Vec x,
              int repeats) {
  Row row{name};
  std::vector<double> setups, solves;
  for (int k = 0; k < repeats; ++k) {
    LinearSolver solver(PetscObjectComm(reinterpret_cast<PetscObject>(A)), prefix, defaults);
    if (solver.pc_type() == PCSOR) NEUROPS_PETSC(PCSORSetSymmetric(solver.pc(), SOR_LOCAL_SYMMETRIC_SWEEP));
    solver.set_operator(A);
    Timer setup;
    NEUROPS_PETSC(KSPSetUp(solver.ksp()));
    NEUROPS_PETSC(PCSetUp(solver.pc()));
    setups.push_back(setup.seconds());
    const double before = petsc_flops();
    const auto r = solver.solve(b, x);
    row.flops = petsc_flops() - before;
    solves.push_back(r.seconds);
    row.iterations = r.iterations;
    row.converged = r.converged;
  }
  row.setup = median(setups);
  row.solve = median(solves);
  return row;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    PetscSession session(&argc, &argv, "SSOR-PCG vs PETSc CG+SSOR/ICC/GAMG on the heat system\n");
    Options opt("sor_heat benchmark", "bench_");
    const bool smoke = opt.flag("smoke", false, "seconds-long run for CI");
    auto sizes = opt.integers("nx", {100, 200, 400}, "grid intervals per side ((nx-1)^2 unknowns)");
    auto repeats = opt.integer("repeats", 3, "solves per method and round (medians are reported)");
    auto rounds = opt.integer("rounds", 5, "alternating neurops/PETSc rounds");
    auto tuner_steps = opt.integer("tuner_steps", 40, "heat steps with a live tuner at the largest size");
    const double omega = opt.real("omega", 1.5, "omega of the fixed SSOR methods");
    if (opt.help_requested()) return 0;
    if (smoke) {
      sizes = {30};
      repeats = 1;
      rounds = 1;
      tuner_steps = 10;
    }
    NEUROPS_CHECK(repeats >= 1 && rounds >= 1, "options -bench_repeats and -bench_rounds: expected at least 1, found "
                                                   << repeats << " and " << rounds);
    NEUROPS_CHECK(omega > 0 && omega < 2, "option -bench_omega: expected a value in (0, 2), found " << omega);
    char load[256] = "n/a";
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
      if (!std::fgets(load, sizeof load, f)) load[0] = 0;
      std::fclose(f);
    }
    std::printf("load average at start: %s", load);

    for (const auto nx : sizes) {
      NEUROPS_CHECK(nx >= 3, "option -bench_nx: expected sizes >= 3, found " << nx);
      pde::HeatSequence heat(PETSC_COMM_WORLD, nx);
      for (int step = 0; step < 750; ++step) heat.advance(heat.state());  // to t = 0.75: kappa = 10
      PetscMat A;
      PetscVec b, x;
      heat.system(A, b);
      NEUROPS_PETSC(VecDuplicate(b, x.out()));
      MatInfo info;
      NEUROPS_PETSC(MatGetInfo(A, MAT_GLOBAL_SUM, &info));
      const double nonzeros = info.nz_used;
      // Rounds: neurops' two SSOR-PCG solves, then PETSc's three methods; each keeps its last round's
      // figures and the per-round medians for the ratios.
      const std::string w = std::to_string(omega);
      NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-bench_ssor_pc_sor_omega", w.c_str()));
      std::vector<Row> rows;
      bench::RoundTimes times;
      for (std::int64_t round = 0; round < rounds; ++round) {
        times.gemm.push_back(bench::GemmPeak::measure(smoke));
        rows.clear();
        for (double wk : {1.0, omega}) {
          Row row{"neurops SSOR-PCG omega=" + std::to_string(wk).substr(0, 4)};
          std::vector<double> solves;
          for (int k = 0; k < repeats; ++k) {
            const double before = petsc_flops();
            const auto r = ssor_pcg_solve(A, b, x, wk);
            // Each iteration and the start apply SSOR once: a forward and a backward sweep.
            row.flops = petsc_flops() - before + double(r.iterations + 1) * 4 * nonzeros;
            solves.push_back(r.seconds);
            row.iterations = r.iterations;
            row.converged = r.converged;
          }
          row.solve = median(solves);
          times.ours[row.method].push_back(1e3 * row.solve);
          rows.push_back(row);
        }
        rows.push_back(run_petsc("PETSc CG + SOR symmetric omega=" + w.substr(0, 4), "bench_ssor_",
                                 {.ksp_type = KSPCG, .pc_type = PCSOR}, A, b, x, int(repeats)));
        rows.push_back(
            run_petsc("PETSc CG + ICC(0)", "bench_icc_", {.ksp_type = KSPCG, .pc_type = PCICC}, A, b, x, int(repeats)));
        rows.push_back(
            run_petsc("PETSc CG + GAMG", "bench_gamg_", {.ksp_type = KSPCG, .pc_type = PCGAMG}, A, b, x, int(repeats)));
        for (std::size_t i = 2; i < rows.size(); ++i) times.peer[rows[i].method].push_back(1e3 * rows[i].solve);
      }
      for (auto& r : rows)  // medians over the rounds
        r.solve = 1e-3 * median(r.method.rfind("neurops", 0) == 0 ? times.ours[r.method] : times.peer[r.method]);
      const double ref = rows[1].solve;
      std::printf("\nheat system at kappa = 10, nx = %lld (%lld unknowns), %lld rounds x median of %lld solves\n",
                  static_cast<long long>(nx), static_cast<long long>(heat.unknowns()), static_cast<long long>(rounds),
                  static_cast<long long>(repeats));
      std::printf("  %-38s %6s %10s %12s %18s %9s\n", "method", "iters", "setup s", "solve s", "solve / neurops",
                  "GFLOP/s");
      for (const auto& r : rows)
        std::printf("  %-38s %6lld %10.4f %12.5f %18.2f %9.2f%s\n", r.method.c_str(),
                    static_cast<long long>(r.iterations), r.setup, r.solve, r.solve / ref,
                    bench::gflops(r.flops, 1e3 * r.solve), r.converged ? "" : "  (not converged)");
      bench::Report report("sor_heat", times.peak(), "PETSc ICC");
      for (std::size_t i = 0; i < 2; ++i)
        report.add(rows[i].method.substr(8) + " nx=" + std::to_string(nx), times, rows[i].method, "PETSc CG + ICC(0)",
                   rows[i].flops, true);
      report.print();
    }

    // Tuner overhead: live ChebCB and Tsallis-INF over heat steps at the largest size, starting at
    // t = 0.5 where kappa starts to grow.
    const auto nx = sizes.back();
    for (const std::string learner : {"tsallis", "chebcb"}) {
      pde::HeatSequence heat(PETSC_COMM_WORLD, nx);
      for (int step = 0; step < 500; ++step) heat.advance(heat.state());
      auto tuner = make_tuner({.learner = learner, .context_lo = 0.0, .context_hi = 10.0, .seed = 1});
      PetscMat A;
      PetscVec b, x;
      double solve_s = 0, tuner_s = 0, iterations = 0;
      for (std::int64_t step = 0; step < tuner_steps; ++step) {
        heat.system(A, b);
        if (!x) NEUROPS_PETSC(VecDuplicate(b, x.out()));
        NEUROPS_PETSC(VecCopy(heat.state(), x));
        Timer t;
        const double w = tuner->choose(heat.coefficient());
        tuner_s += t.seconds();
        const auto r = ssor_pcg_solve(A, b, x, w, {.nonzero_guess = true});
        solve_s += r.seconds;
        iterations += double(r.iterations);
        t.restart();
        tuner->observe(double(r.iterations));
        tuner_s += t.seconds();
        heat.advance(x);
      }
      std::printf(
          "\ntuner overhead, %s, nx = %lld (%lld unknowns), %lld warm-started steps from t = 0.5: solves "
          "%.3f s (%.1f iterations/step), tuner %.6f s = %.4f%% of solve time\n",
          learner.c_str(), static_cast<long long>(nx), static_cast<long long>(heat.unknowns()),
          static_cast<long long>(tuner_steps), solve_s, iterations / double(tuner_steps), tuner_s,
          100.0 * tuner_s / solve_s);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sor_heat: %s\n", e.what());
    return 1;
  }
}
