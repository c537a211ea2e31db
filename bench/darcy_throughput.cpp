// Darcy samples per second (thresholded GRF coefficient + PETSc solve with the default CG + GAMG,
// the work of `neurops_generate -gen_problem darcy`) at 128^2 on 1 and 2 MPI ranks, the way the generator
// makes them: each rank solves its own samples on PETSC_COMM_SELF and rank 0 gathers them
// (examples/sample_parallel.hpp); -bench_distributed splits every solve over all ranks instead
// (neurops_generate -darcy_distributed).
//
//   ./darcy_throughput                          # 1 rank here, then itself under mpiexec -n 2
//   ./darcy_throughput -bench_n 256 -bench_samples 20 -darcy_pc_type hypre
//   ./darcy_throughput -bench_distributed       # the same with distributed solves
//   mpiexec -n 2 --oversubscribe ./darcy_throughput -bench_spawn 0   # one measurement on 2 ranks
//   ./darcy_throughput -bench_smoke             # seconds-long check (CTest label bench)
// Each timed run makes `samples` samples; the median over `repeats` runs is reported. The 1-rank and
// 2-rank measurements alternate over -bench_rounds rounds (bench/roofline.hpp); the closing table
// gives the time per sample on 2 ranks against 1 rank (the ratio is the speed-up, median over the
// rounds with its spread) and the GFLOP/s of PETSc's flop counter (the solve; the GRF sampling's FFTs
// are not counted) against Eigen's float64 GEMM rate: a sparse solve is memory-bound, so the share is
// small by nature.
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "../examples/sample_parallel.hpp"
#include "neurops/neurops.hpp"
#include "neurops/pde/darcy.hpp"
#include "neurops/pde/grf.hpp"
#include "roofline.hpp"

using namespace neurops;

namespace {
/// Runs this program under mpiexec with `ranks` ranks and returns its "samples_per_second=" value.
double spawn(int ranks, const std::string& args) {
  char exe[4096];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return NAN;
  exe[len] = 0;
  // A clean environment: the variables of this (singleton) MPI process would confuse the child's launcher.
  // Idle ranks yield the core: on 2 shared cores, busy-polling ranks wait on each other's time slices.
  const std::string cmd =
      "env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp OMPI_ALLOW_RUN_AS_ROOT=1 "
      "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 mpiexec --mca mpi_yield_when_idle 1 -n " +
      std::to_string(ranks) + " --oversubscribe " + exe + " -bench_spawn 0 " + args;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return NAN;
  char line[512];
  double rate = NAN;
  while (std::fgets(line, sizeof line, pipe)) {
    double r;
    if (std::sscanf(line, "samples_per_second=%lf", &r) == 1) rate = r;
  }
  pclose(pipe);
  return rate;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    PetscSession session(&argc, &argv);
    Options opt("Darcy throughput benchmark", "bench_");
    const bool smoke = opt.flag("smoke", false, "small grid, few samples (CI)");
    index_t n = opt.integer("n", 128, "grid nodes per side");
    index_t samples = opt.integer("samples", 10, "samples per timed run");
    int repeats = int(opt.integer("repeats", 3, "timed runs per round (median reported)"));
    int rounds = int(opt.integer("rounds", 5, "alternating 1-rank / 2-rank rounds"));
    const bool spawn_two = opt.flag("spawn", true, "also measure on 2 ranks by running this program under mpiexec");
    const bool distributed =
        opt.flag("distributed", false, "split every solve over all ranks instead of one sample per rank");
    if (opt.help_requested()) return 0;
    if (smoke) {
      n = 33;
      samples = 2;
      repeats = 2;
      rounds = 1;
    }
    pde::DirichletGrf grf(n, {.alpha = 2.0, .tau = 3.0});
    pde::DarcySolver solver(n, {.comm = distributed ? PETSC_COMM_WORLD : PETSC_COMM_SELF});
    std::vector<double> iterations;
    // One sample as neurops_generate makes it: coefficient and solution rows of the chunk.
    auto generate = [&](index_t index, index_t row, std::vector<Tensor<double>>& chunk) {
      Rng rng = Rng::stream(1, std::uint64_t(index));
      const Tensor<double> a = pde::threshold_coefficient(grf.sample(rng));
      const Tensor<double> u = solver.solve(a);
      std::copy(a.begin(), a.end(), chunk[0].begin() + row * a.numel());
      std::copy(u.begin(), u.end(), chunk[1].begin() + row * u.numel());
      iterations.push_back(double(solver.last_solve().iterations));
    };
    double flops_per_sample = 0;
    auto measure = [&] {
      std::vector<double> rates;
      for (int r = 0; r < repeats; ++r) {
        std::vector<Tensor<double>> chunk{Tensor<double>(Shape{samples, n, n}), Tensor<double>(Shape{samples, n, n})};
        MPI_Barrier(PETSC_COMM_WORLD);
        PetscLogDouble flops_before = 0, flops_after = 0;
        NEUROPS_PETSC(PetscGetFlops(&flops_before));
        Timer t;
        if (distributed)
          for (index_t s = 0; s < samples; ++s) generate(s, s, chunk);
        else
          examples::generate_across_ranks(generate, 0, samples, chunk, PETSC_COMM_WORLD);
        MPI_Barrier(PETSC_COMM_WORLD);
        rates.push_back(double(samples) / t.seconds());
        NEUROPS_PETSC(PetscGetFlops(&flops_after));
        flops_per_sample = double(flops_after - flops_before) / double(samples);
      }
      return median(rates);
    };
    if (!spawn_two || session.size() != 1) {
      const double rate = measure();
      if (session.rank() == 0) std::printf("samples_per_second=%.6g\n", rate);
      return 0;
    }

    const std::string args = "-bench_n " + std::to_string(n) + " -bench_samples " + std::to_string(samples) +
                             " -bench_repeats " + std::to_string(repeats) + " -bench_distributed " +
                             (distributed ? "1" : "0");
    std::vector<double> rate1, rate2;
    // Milliseconds per sample: 2 ranks as the measured side, 1 rank as its peer.
    const bench::RoundTimes t = bench::alternate_rounds(
        rounds, smoke,
        [&] {
          rate1.push_back(measure());
          rate2.push_back(spawn(2, args));
          return std::map<std::string, double>{{"2", 1e3 / rate2.back()}};
        },
        [&] {
          return std::map<std::string, double>{{"1", 1e3 / rate1.back()}};
        });
    const double rate = median(rate1), two = median(rate2);
    std::printf(
        "\nDarcy %lldx%lld, %s + %s, %s, %d rounds x median of %d runs x %lld samples (median %.0f KSP iterations)\n",
        (long long)n, (long long)n, solver.last_solve().ksp_type.c_str(), solver.last_solve().pc_type.c_str(),
        distributed ? "every solve split over the ranks" : "one sample per rank (PETSC_COMM_SELF)", rounds, repeats,
        (long long)samples, median(iterations));
    std::printf("%-10s %18s %10s\n", "ranks", "samples/s", "speed-up");
    std::printf("%-10d %18.3f %10.2f\n", 1, rate, 1.0);
    std::printf("%-10d %18.3f %10.2f\n", 2, two, two / rate);
    bench::Report report("darcy_throughput", t.peak(), "1 rank");
    report.add("ms per sample, 2 ranks", t, "2", "1", flops_per_sample, true);
    report.print();
    std::printf("  (GFLOP/s: PETSc-counted flops per sample, %.3g, on 2 ranks' time per sample)\n", flops_per_sample);
    return std::isnan(two) ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "darcy_throughput: error: %s\n", e.what());
    return 1;
  }
}
