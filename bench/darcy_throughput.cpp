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
// Each timed run makes `samples` samples; the median over `repeats` runs is reported.
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "../examples/sample_parallel.hpp"
#include "neurops/neurops.hpp"
#include "neurops/pde/darcy.hpp"
#include "neurops/pde/grf.hpp"

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
    int repeats = int(opt.integer("repeats", 5, "timed runs (median reported)"));
    const bool spawn_two = opt.flag("spawn", true, "also measure on 2 ranks by running this program under mpiexec");
    const bool distributed =
        opt.flag("distributed", false, "split every solve over all ranks instead of one sample per rank");
    if (opt.help_requested()) return 0;
    if (smoke) {
      n = 33;
      samples = 2;
      repeats = 2;
    }
    pde::DirichletGrf grf(n, {.alpha = 2.0, .tau = 3.0});
    pde::DarcySolver solver(n, {.comm = distributed ? PETSC_COMM_WORLD : PETSC_COMM_SELF});
    std::vector<double> rates;
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
    for (int r = 0; r < repeats; ++r) {
      std::vector<Tensor<double>> chunk{Tensor<double>(Shape{samples, n, n}), Tensor<double>(Shape{samples, n, n})};
      MPI_Barrier(PETSC_COMM_WORLD);
      Timer t;
      if (distributed)
        for (index_t s = 0; s < samples; ++s) generate(s, s, chunk);
      else
        examples::generate_across_ranks(generate, 0, samples, chunk, PETSC_COMM_WORLD);
      MPI_Barrier(PETSC_COMM_WORLD);
      rates.push_back(double(samples) / t.seconds());
    }
    const double rate = median(rates);
    if (session.rank() == 0) std::printf("samples_per_second=%.6g\n", rate);
    if (!spawn_two || session.size() != 1) return 0;

    const std::string args = "-bench_n " + std::to_string(n) + " -bench_samples " + std::to_string(samples) +
                             " -bench_repeats " + std::to_string(repeats) + " -bench_distributed " +
                             (distributed ? "1" : "0");
    const double rate2 = spawn(2, args);
    std::printf("\nDarcy %lldx%lld, %s + %s, %s, median of %d runs x %lld samples (median %.0f KSP iterations)\n",
                (long long)n, (long long)n, solver.last_solve().ksp_type.c_str(), solver.last_solve().pc_type.c_str(),
                distributed ? "every solve split over the ranks" : "one sample per rank (PETSC_COMM_SELF)", repeats,
                (long long)samples, median(iterations));
    std::printf("%-10s %18s %10s\n", "ranks", "samples/s", "speed-up");
    std::printf("%-10d %18.3f %10.2f\n", 1, rate, 1.0);
    std::printf("%-10d %18.3f %10.2f\n", 2, rate2, rate2 / rate);
    return std::isnan(rate2) ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "darcy_throughput: error: %s\n", e.what());
    return 1;
  }
}
