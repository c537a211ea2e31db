// neurops_generate end to end: interrupted + resumed generation equals an uninterrupted run bit for
// bit, existing files are refused, bad options give clear errors, Darcy runs on 2 MPI ranks.
// Arguments (after --): the neurops_generate program and the mpiexec program.
#define BOOST_TEST_MODULE neurops_generate
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "../support/small_disk.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/pde/navier_stokes.hpp"

using namespace neurops;
namespace fs = std::filesystem;

namespace {
std::string program() {
  auto& m = boost::unit_test::framework::master_test_suite();
  BOOST_TEST_REQUIRE(m.argc >= 2);
  return m.argv[m.argc - 2];
}
std::string mpiexec() {
  auto& m = boost::unit_test::framework::master_test_suite();
  return m.argv[m.argc - 1];
}

struct Run {
  int status;
  std::string output;
};
Run run(const std::string& args, const std::string& launcher = "", const std::string& suffix = "") {
  static int counter = 0;
  const fs::path log = fs::temp_directory_path() / ("neurops_generate_test_" + std::to_string(::getpid()) + "_" +
                                                    std::to_string(counter++) + ".log");
  // A launcher ending in a quote wraps the whole command line (bash -c "..."): args then hold the program.
  const bool wrapped = !suffix.empty();
  const std::string cmd =
      launcher + (wrapped ? "" : " " + program()) + " " + args + suffix + " > " + log.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  fs::remove(log);
  BOOST_TEST_MESSAGE("$ " << cmd << "\n" << ss.str());
  return {status, ss.str()};
}

fs::path workdir(const std::string& name) {
  const fs::path d = fs::current_path() / "generate_tests" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

/// Every dataset of a equals the one of b bit for bit.
void require_identical(const fs::path& a, const fs::path& b) {
  auto fa = io::H5File::open(a), fb = io::H5File::open(b);
  const auto names = fa.datasets();
  BOOST_TEST_REQUIRE(names == fb.datasets());
  BOOST_TEST_REQUIRE(!names.empty());
  for (const auto& ds : names) {
    BOOST_TEST_INFO("dataset " << ds);
    BOOST_TEST_REQUIRE(fa.dtype(ds) == fb.dtype(ds));
    if (fa.dtype(ds) == io::DType::int64) {
      BOOST_TEST_REQUIRE(fa.read<std::int64_t>(ds).shape() == fb.read<std::int64_t>(ds).shape());
      BOOST_TEST_REQUIRE(fa.read<std::int64_t>(ds).vec() == fb.read<std::int64_t>(ds).vec());
      continue;
    }
    const Tensor<double> x = fa.read<double>(ds), y = fb.read<double>(ds);
    BOOST_TEST_REQUIRE(x.shape() == y.shape());
    BOOST_TEST_REQUIRE(std::memcmp(x.data(), y.data(), sizeof(double) * std::size_t(x.numel())) == 0);
  }
  BOOST_TEST(fa.attr_int("/", "completed") == fb.attr_int("/", "completed"));
}

void interrupted_equals_uninterrupted(const std::string& name, const std::string& args) {
  const fs::path dir = workdir(name);
  const std::string full = (dir / "full.h5").string(), part = (dir / "part.h5").string();
  BOOST_TEST_REQUIRE(run(args + " -gen_samples 6 -gen_chunk 2 -gen_seed 5 -gen_out " + full).status == 0);
  const Run first = run(args + " -gen_samples 6 -gen_chunk 2 -gen_seed 5 -gen_max_new_samples 3 -gen_out " + part);
  BOOST_TEST_REQUIRE(first.status == 0);
  BOOST_TEST(first.output.find("-gen_resume to continue") != std::string::npos);
  {
    auto f = io::H5File::open(part);
    BOOST_TEST(f.attr_int("/", "completed") == 3);
    BOOST_TEST(f.shape("/inputs")[0] == 3);
  }
  const Run second = run(args + " -gen_samples 6 -gen_chunk 2 -gen_seed 5 -gen_resume -gen_out " + part);
  BOOST_TEST_REQUIRE(second.status == 0);
  BOOST_TEST(second.output.find("resumed") != std::string::npos);
  require_identical(full, part);
}

/// The same inputs bit for bit and outputs equal to rounding: what a solve split across ranks gives
/// against one rank (a distributed solve sums in another order).
void expect_same_inputs_and_outputs_to_rounding(const fs::path& one, const fs::path& other) {
  auto f1 = io::H5File::open(one), f2 = io::H5File::open(other);
  const Tensor<double> a1 = f1.read<double>("/inputs"), a2 = f2.read<double>("/inputs");
  BOOST_TEST(std::memcmp(a1.data(), a2.data(), sizeof(double) * std::size_t(a1.numel())) == 0);
  const Tensor<double> u1 = f1.read<double>("/outputs"), u2 = f2.read<double>("/outputs");
  double diff = 0, umax = 0;
  for (index_t p = 0; p < u1.numel(); ++p) {
    diff = std::max(diff, std::abs(u1[p] - u2[p]));
    umax = std::max(umax, std::abs(u1[p]));
  }
  BOOST_TEST(diff < 1e-9 * umax);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(generate)

BOOST_AUTO_TEST_CASE(resume_darcy) { interrupted_equals_uninterrupted("darcy", "-gen_problem darcy -darcy_n 17"); }
BOOST_AUTO_TEST_CASE(resume_navier_stokes) {
  interrupted_equals_uninterrupted("ns",
                                   "-gen_problem navier_stokes -ns_n 32 -ns_store 16 -ns_dt 0.01 -ns_times 0.05,0.1");
}
BOOST_AUTO_TEST_CASE(resume_diffusion_reaction) {
  interrupted_equals_uninterrupted("dr", "-gen_problem diffusion_reaction -deeponet_grf_points 200");
}
BOOST_AUTO_TEST_CASE(resume_pendulum) {
  interrupted_equals_uninterrupted("pendulum", "-gen_problem pendulum -deeponet_grf_points 200");
}

BOOST_AUTO_TEST_CASE(uncounted_rows_are_regenerated) {
  // A crash after a chunk was appended but before the counter moved leaves extra rows: resume drops them.
  const fs::path dir = workdir("crash");
  const std::string args =
      "-gen_problem antiderivative -deeponet_grf_points 200 -gen_samples 6 -gen_chunk 2 -gen_seed 2";
  BOOST_TEST_REQUIRE(run(args + " -gen_out " + (dir / "full.h5").string()).status == 0);
  BOOST_TEST_REQUIRE(run(args + " -gen_max_new_samples 2 -gen_out " + (dir / "part.h5").string()).status == 0);
  {
    auto f = io::H5File::open(dir / "part.h5", io::FileMode::read_write);
    for (const auto& ds : f.datasets()) {
      Shape s = f.shape(ds);
      f.append<double>(ds, Tensor<double>(s.with(0, 1), 42.0));  // garbage row, counter still 2
    }
    f.commit();
  }
  BOOST_TEST_REQUIRE(run(args + " -gen_resume -gen_out " + (dir / "part.h5").string()).status == 0);
  require_identical(dir / "full.h5", dir / "part.h5");
}

BOOST_AUTO_TEST_CASE(existing_file_is_refused_and_kept) {
  const fs::path dir = workdir("refuse");
  const std::string out = (dir / "a.h5").string();
  const std::string args = "-gen_problem ode -deeponet_grf_points 200 -gen_samples 2 -gen_out " + out;
  BOOST_TEST_REQUIRE(run(args).status == 0);
  const auto size = fs::file_size(out);
  const Run again = run(args);
  BOOST_TEST(again.status != 0);
  BOOST_TEST(again.output.find("exists") != std::string::npos);
  BOOST_TEST(again.output.find("-gen_overwrite") != std::string::npos);
  BOOST_TEST(fs::file_size(out) == size);
  // Resuming with other parameters is refused too; -gen_overwrite replaces the file.
  const Run other = run(args + " -gen_resume -deeponet_sensors 50");
  BOOST_TEST(other.status != 0);
  BOOST_TEST(other.output.find("other parameters") != std::string::npos);
  BOOST_TEST(run(args + " -gen_overwrite -gen_seed 9").status == 0);
  BOOST_TEST(io::H5File::open(out).attr_int("/", "seed") == 9);
}

BOOST_AUTO_TEST_CASE(bad_options_are_reported) {
  const fs::path dir = workdir("bad");
  auto expect_error = [&](const std::string& args, const std::string& text) {
    fs::remove(dir / "x.h5");
    const Run r = run(args + " -gen_samples 2 -gen_out " + (dir / "x.h5").string());
    BOOST_TEST_INFO(args);
    BOOST_TEST(r.status != 0);
    BOOST_TEST_INFO(args);
    BOOST_TEST(r.output.find(text) != std::string::npos);
    // Option errors stop before the file is made; errors during a solve leave a valid file whose
    // counter matches its rows (here 0), ready for -gen_resume once the cause is fixed.
    if (fs::exists(dir / "x.h5")) {
      auto f = io::H5File::open(dir / "x.h5");
      BOOST_TEST(f.attr_int("/", "completed") == f.shape("/inputs")[0]);
    }
  };
  expect_error("-gen_problem navier_stokes -ns_n 32 -ns_viscosity -1e-3", "viscosity");
  expect_error("-gen_problem navier_stokes -ns_n 31 -ns_store 16", "even grid size");
  expect_error("-gen_problem navier_stokes -ns_n 6 -ns_store 6", "even grid size >= 8");
  expect_error("-gen_problem navier_stokes -ns_n 32 -ns_store 16 -ns_dt 0.05 -ns_times 0.5 -ns_forcing 50", "CFL");
  expect_error("-gen_problem ode -deeponet_rtol 0", "tolerance > 0");
  expect_error("-gen_problem pendulum -deeponet_atol -1", "tolerance > 0");
  expect_error("-gen_problem darcy -darcy_n 17 -darcy_rtol 0", "tolerance > 0");
  expect_error("-gen_problem darcy -darcy_n 17 -darcy_ksp_max_it 1", "DIVERGED_ITS");
  expect_error("-gen_problem darcy -darcy_n 20 -darcy_pc_type mg -darcy_pc_mg_levels 4", "cannot coarsen");
  expect_error("-gen_problem heat", "-gen_problem");
  // Range checks and strict parsing (the audit's -darcy_tau 0, negative -deeponet_queries, 32-bit
  // truncation of -gen_samples, an option without its value).
  expect_error("-gen_problem darcy -darcy_n 17 -darcy_tau 0", "-darcy_tau");
  expect_error("-gen_problem ode -deeponet_queries -5", "-deeponet_queries");
  expect_error("-gen_problem ode -gen_chunk", "-gen_chunk was given without a value");
  expect_error("-gen_problem ode -gen_seed 12x", "-gen_seed");
  expect_error("-gen_problem ode -gen_max_new_samples 4294967298000000000000", "-gen_max_new_samples");
}

BOOST_AUTO_TEST_CASE(resume_refuses_a_counter_ahead_of_the_data) {
  // The audit's kill -9 during a flush: completed = 4 but /outputs holds 2 rows. Resuming padded the
  // short dataset with zeros and exited 0; now it refuses, naming the dataset and both numbers.
  const fs::path dir = workdir("torn");
  const std::string out = (dir / "t.h5").string();
  const std::string args =
      "-gen_problem antiderivative -deeponet_grf_points 200 -gen_samples 6 -gen_chunk 2 -gen_out " + out;
  BOOST_TEST_REQUIRE(run(args + " -gen_max_new_samples 4").status == 0);
  {
    auto f = io::H5File::open(out, io::FileMode::read_write);
    f.resize_rows("/outputs", 2);
    f.commit();
  }
  const auto before = fs::file_size(out);
  const Run r = run(args + " -gen_resume");
  BOOST_TEST(r.status != 0);
  BOOST_TEST(r.output.find("/outputs") != std::string::npos);
  BOOST_TEST(r.output.find("completed = 4") != std::string::npos);
  BOOST_TEST(r.output.find("only 2 rows") != std::string::npos);
  BOOST_TEST(fs::file_size(out) == before);
  BOOST_TEST(io::H5File::open(out).attr_int("/", "completed") == 4);
}

BOOST_AUTO_TEST_CASE(ksp_iterations_are_integers_and_older_float_files_still_resume) {
  // Iteration counts were stored as float64; they are int64 now. A file written before (float64
  // counts) still resumes: its new rows are appended as float64.
  const fs::path dir = workdir("integers");
  const std::string part = (dir / "part.h5").string(), full = (dir / "full.h5").string();
  const std::string args =
      "-gen_problem darcy -darcy_n 17 -gen_samples 4 -gen_chunk 2 -gen_seed 2 -gen_preview 0 -gen_out ";
  BOOST_TEST_REQUIRE(run(args + full).status == 0);
  BOOST_TEST_REQUIRE(run(args + part + " -gen_max_new_samples 2").status == 0);
  Tensor<std::int64_t> counted;
  {
    auto f = io::H5File::open(full);
    BOOST_TEST_REQUIRE(f.dtype("/ksp_iterations") == io::DType::int64);
    counted = f.read<std::int64_t>("/ksp_iterations");
    BOOST_TEST(counted.shape() == Shape({4, 1}));
    BOOST_TEST(*std::min_element(counted.begin(), counted.end()) >= 1);
  }
  {
    // The same two rows as a file of the earlier format.
    auto f = io::H5File::open(part, io::FileMode::read_write);
    const Tensor<std::int64_t> first = f.read<std::int64_t>("/ksp_iterations");
    f.remove("/ksp_iterations");
    f.create_extendable<double>("/ksp_iterations", Shape({1}), 2);
    f.append<double>("/ksp_iterations", first.cast<double>());
    f.commit();
  }
  BOOST_TEST_REQUIRE(run(args + part + " -gen_resume").status == 0);
  auto f = io::H5File::open(part);
  BOOST_TEST(f.dtype("/ksp_iterations") == io::DType::float64);
  const Tensor<double> resumed = f.read<double>("/ksp_iterations");
  BOOST_TEST_REQUIRE(resumed.shape() == counted.shape());
  for (index_t i = 0; i < resumed.numel(); ++i) BOOST_TEST(resumed[i] == double(counted[i]));
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_an_error_not_zeros) {
  // The audit: "-gen_samples 50 -darcy_n 65 -gen_chunk 5" into a small tmpfs printed "50 of 50" and exit 0
  // while rows 15-49 were zeros. Now the run fails naming the file, and what the file's counter
  // vouches for is on disk.
  test::SmallDisk disk(fs::absolute(workdir("full")) / "disk", 1 << 20);
  BOOST_TEST_MESSAGE("disk full through " << disk.kind());
  const std::string out = (disk.dir() / "g.h5").string();
  const Run r = run(disk.shell_prefix() + "exec " + program() +
                        " -gen_problem darcy -gen_samples 50 -darcy_n 65 -gen_chunk 5 "
                        "-gen_preview 0 -gen_out " +
                        out,
                    "bash -c \"", "\"");
  // A clean failure: exit status 1 with the driver's error line, not a signal from a crash at shutdown.
  BOOST_TEST((WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1));
  BOOST_TEST(r.output.find("neurops_generate: error:") != std::string::npos);
  BOOST_TEST(r.output.find("g.h5") != std::string::npos);
  BOOST_TEST(r.output.find("50 of 50") == std::string::npos);
  if (fs::exists(out)) {
    try {
      auto f = io::H5File::open(out);
      const index_t counted = f.attr_int("/", "completed");
      BOOST_TEST(counted < 50);
      if (counted > 0) {
        const Tensor<double> a = f.read_rows<double>("/inputs", counted - 1, 1);
        BOOST_TEST(*std::max_element(a.begin(), a.end()) > 0.0);  // coefficients are 3 or 12, never 0
      }
    } catch (const Error& e) {
      BOOST_TEST_MESSAGE("the file left on the full disk is unreadable (a clear error): " << e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_full_disk_on_two_ranks_is_an_error_on_every_rank_not_a_hang) {
  // Rank 0 writes: when its write failed, rank 1 went on into the next chunk's (collective) solves
  // while rank 0 unwound through PETSc's shutdown before printing anything; the job hung with no
  // message. Now the failure reaches every rank, the error is printed and the job exits 1.
  test::SmallDisk disk(fs::absolute(workdir("full_mpi")) / "disk", 1 << 20);
  BOOST_TEST_MESSAGE("disk full through " << disk.kind());
  const std::string out = (disk.dir() / "g.h5").string();
  const Run r = run(disk.shell_prefix() + "exec timeout 60 " + mpiexec() + " -n 2 --oversubscribe " + program() +
                        " -gen_problem darcy -gen_samples 50 -darcy_n 65 -gen_chunk 5 -gen_preview 0 -gen_out " + out,
                    "bash -c \"", "\"");
  BOOST_TEST((WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1));  // 124: the job hung until the timeout
  BOOST_TEST(r.output.find("neurops_generate: error:") != std::string::npos);
  BOOST_TEST(r.output.find("g.h5") != std::string::npos);
  BOOST_TEST(r.output.find("50 of 50") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(darcy_distributed_on_two_ranks) {
  // -darcy_distributed splits every solve over both ranks: the same coefficients, solutions equal to
  // rounding (a distributed solve sums in another order).
  const fs::path dir = workdir("mpi");
  const std::string args =
      "-gen_problem darcy -darcy_n 33 -gen_samples 3 -gen_seed 1 -darcy_rtol 1e-12 -darcy_distributed";
  BOOST_TEST_REQUIRE(run(args + " -gen_out " + (dir / "one.h5").string()).status == 0);
  const Run two = run(args + " -gen_out " + (dir / "two.h5").string(), mpiexec() + " -n 2 --oversubscribe");
  BOOST_TEST_REQUIRE(two.status == 0);
  BOOST_TEST(two.output.find("MPI ranks                    2") != std::string::npos);
  expect_same_inputs_and_outputs_to_rounding(dir / "one.h5", dir / "two.h5");
}

/// 2 ranks (each solving its own samples) give the 1-rank file bit for bit, also when a 2-rank run is
/// interrupted and resumed on 2 ranks or on 1, with chunks whose row count is not a multiple of the
/// rank count.
void sample_parallel_equals_one_rank(const std::string& name, const std::string& problem) {
  const fs::path dir = workdir(name);
  const std::string args = problem + " -gen_samples 5 -gen_chunk 3 -gen_seed 4";
  const std::string one = (dir / "one.h5").string(), two = (dir / "two.h5").string();
  const std::string part2 = (dir / "part2.h5").string(), part1 = (dir / "part1.h5").string();
  const std::string two_ranks = mpiexec() + " -n 2 --oversubscribe";
  BOOST_TEST_REQUIRE(run(args + " -gen_out " + one).status == 0);
  const Run parallel = run(args + " -gen_out " + two, two_ranks);
  BOOST_TEST_REQUIRE(parallel.status == 0);
  BOOST_TEST(parallel.output.find("MPI ranks                    2") != std::string::npos);
  require_identical(one, two);
  for (const auto& [part, resume_with] : {std::pair{part2, two_ranks}, std::pair{part1, std::string()}}) {
    const Run first = run(args + " -gen_max_new_samples 3 -gen_out " + part, two_ranks);
    BOOST_TEST_REQUIRE(first.status == 0);
    BOOST_TEST(first.output.find("-gen_resume to continue") != std::string::npos);
    BOOST_TEST(io::H5File::open(part).attr_int("/", "completed") == 3);
    const Run second = run(args + " -gen_resume -gen_out " + part, resume_with);
    BOOST_TEST_REQUIRE(second.status == 0);
    BOOST_TEST(second.output.find("resumed") != std::string::npos);
    require_identical(one, part);
  }
}

BOOST_AUTO_TEST_CASE(darcy_sample_parallel_equals_one_rank) {
  sample_parallel_equals_one_rank("darcy_mpi", "-gen_problem darcy -darcy_n 33");
}
BOOST_AUTO_TEST_CASE(poisson_sample_parallel_equals_one_rank) {
  sample_parallel_equals_one_rank("poisson_mpi", "-gen_problem poisson -poisson_n 17");
}
BOOST_AUTO_TEST_CASE(poisson_3d_sample_parallel_equals_one_rank) {
  sample_parallel_equals_one_rank("poisson3_mpi", "-gen_problem poisson -poisson_dim 3 -poisson_n 9");
}

BOOST_AUTO_TEST_CASE(navier_stokes_sample_parallel_equals_one_rank) {
  // Warm-up + evenly spaced snapshots, bilinear coarsening (the sfno preset's choices on a tiny grid):
  // 2 ranks give the 1-rank file bit for bit, also when the 2-rank run is interrupted and resumed
  // on 1 rank, and with chunks whose row count is not a multiple of the rank count.
  const fs::path dir = workdir("ns_mpi");
  const std::string args =
      "-gen_problem navier_stokes -ns_preset sfno -ns_n 32 -ns_store 16 -ns_dt 0.01 -ns_warmup 0.05 -ns_t_end 0.15 "
      "-ns_snapshots 5 -gen_samples 5 -gen_chunk 3 -gen_seed 4";
  const std::string one = (dir / "one.h5").string(), two = (dir / "two.h5").string(), part = (dir / "part.h5").string();
  BOOST_TEST_REQUIRE(run(args + " -gen_out " + one).status == 0);
  const Run parallel = run(args + " -gen_out " + two, mpiexec() + " -n 2 --oversubscribe");
  BOOST_TEST_REQUIRE(parallel.status == 0);
  BOOST_TEST(parallel.output.find("MPI ranks                    2") != std::string::npos);
  require_identical(one, two);
  BOOST_TEST_REQUIRE(
      run(args + " -gen_max_new_samples 3 -gen_out " + part, mpiexec() + " -n 2 --oversubscribe").status == 0);
  BOOST_TEST_REQUIRE(run(args + " -gen_resume -gen_out " + part).status == 0);
  require_identical(one, part);
  auto f = io::H5File::open(one);
  const std::vector<double> times = f.attr_reals("/", "times");
  BOOST_TEST_REQUIRE(times.size() == 5u);
  for (std::size_t k = 0; k < 5; ++k)
    BOOST_TEST(times[k] == 0.05 + 0.02 * double(k), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(f.attr_string("/", "coarsening") == "bilinear");
  BOOST_TEST(f.shape("/outputs") == Shape({5, 5, 16, 16}));
  BOOST_TEST(f.shape("/outputs_full") == Shape({5, 5, 32, 32}));
}

BOOST_AUTO_TEST_CASE(navier_stokes_grf_grid_gives_the_same_initial_field_on_coarser_grids) {
  // -ns_grf_n 64 on a 32^2 solver: the 64^2 draw truncated to 32^2 (the 64^2 run's field, coarsened).
  const fs::path dir = workdir("ns_grf");
  const std::string base =
      "-gen_problem navier_stokes -ns_store 16 -ns_dt 0.01 -ns_times 0.01 -gen_samples 2 -gen_seed 3 ";
  BOOST_TEST_REQUIRE(run(base + "-ns_n 64 -gen_out " + (dir / "fine.h5").string()).status == 0);
  BOOST_TEST_REQUIRE(run(base + "-ns_n 32 -ns_grf_n 64 -gen_out " + (dir / "coarse.h5").string()).status == 0);
  auto fine = io::H5File::open(dir / "fine.h5"), coarse = io::H5File::open(dir / "coarse.h5");
  BOOST_TEST(coarse.attr_int("/", "grf_grid") == 64);
  for (index_t i = 0; i < 2; ++i) {
    const Tensor<double> f = fine.read_rows<double>("/inputs_full", i, 1),
                         c = coarse.read_rows<double>("/inputs_full", i, 1);
    const Tensor<double> expected =
        pde::NavierStokes2d::coarsen(Tensor<double>(f.view().reshaped({64, 64})), 32, pde::Coarsening::spectral);
    double err = 0, scale = 0;
    for (index_t p = 0; p < expected.numel(); ++p) {
      err = std::max(err, std::abs(c[p] - expected[p]));
      scale = std::max(scale, std::abs(expected[p]));
    }
    BOOST_TEST(err < 1e-12 * scale);
    BOOST_TEST(scale > 0);
  }
}

BOOST_AUTO_TEST_CASE(navier_stokes_snapshot_options_are_checked) {
  const fs::path dir = workdir("ns_bad");
  const std::string base = "-gen_problem navier_stokes -ns_n 32 -ns_store 16 -ns_dt 0.01 -gen_samples 1 -gen_out " +
                           (dir / "bad.h5").string();
  const Run both = run(base + " -ns_snapshots 4 -ns_t_end 1 -ns_times 0.5,1");
  BOOST_TEST(both.status != 0);
  BOOST_TEST(both.output.find("-ns_times and -ns_snapshots exclude each other") != std::string::npos);
  const Run backwards = run(base + " -ns_snapshots 4 -ns_warmup 2 -ns_t_end 1");
  BOOST_TEST(backwards.status != 0);
  BOOST_TEST(backwards.output.find("option -ns_t_end: expected an end time > -ns_warmup = 2") != std::string::npos);
  const Run small_grf = run(base + " -ns_grf_n 16");
  BOOST_TEST(small_grf.status != 0);
  BOOST_TEST(small_grf.output.find("option -ns_grf_n: expected an even grid >= ns_n = 32, found 16") !=
             std::string::npos);
  const Run off_grid = run(base + " -ns_snapshots 3 -ns_warmup 0 -ns_t_end 0.1");
  BOOST_TEST(off_grid.status != 0);
  BOOST_TEST(off_grid.output.find("expected increasing multiples of dt") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// An option nobody reads is a warning at exit naming the closest valid option, never a silent no-op
// (the audit's -darcy_hihg 20 generated with the default 12), and the run still succeeds.
BOOST_AUTO_TEST_CASE(unused_options_are_reported_with_the_closest_name) {
  const fs::path dir = workdir("unused_options");
  const std::string args =
      "-gen_problem darcy -darcy_n 17 -gen_samples 2 -gen_preview 0 -gen_overwrite -gen_out " + (dir / "d.h5").string();
  const auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  };
  // A typo: the nearest name the program reads.
  const Run typo = run(args + " -darcy_hihg 20");
  BOOST_TEST(typo.status == 0);
  BOOST_TEST(count(typo.output, "WARNING: option -darcy_hihg is not used; did you mean -darcy_high?") == 1u);
  // A renamed option: its new name, here among the two drivers that had a -samples.
  const Run renamed = run(args + " -samples 3");
  BOOST_TEST(renamed.status == 0);
  BOOST_TEST(renamed.output.find("WARNING: option -samples is not used; did you mean -gen_samples?") !=
             std::string::npos);
  BOOST_TEST(io::H5File::open(dir / "d.h5").attr_int("/", "samples") == 2);  // the old name changed nothing
  // A typo in a PETSc option under the solver's prefix; options PETSc used are not reported.
  const Run petsc = run(args + " -darcy_ksp_rtl 1e-6 -darcy_ksp_type cg");
  BOOST_TEST(petsc.output.find("option -darcy_ksp_rtl is not used; did you mean -darcy_ksp_rtol?") !=
             std::string::npos);
  BOOST_TEST(petsc.output.find("-darcy_ksp_type is not used") == std::string::npos);
  // PETSc's own list of unused options does not repeat the report, even when asked for.
  const Run asked = run(args + " -darcy_hihg 20 -options_left");
  BOOST_TEST(count(asked.output, "-darcy_hihg") == 1u);
  BOOST_TEST(asked.output.find("There are options you set that were not used") == std::string::npos);
  // PETSc's switch turns the report off.
  const Run quiet = run(args + " -darcy_hihg 20 -options_left no");
  BOOST_TEST(quiet.status == 0);
  BOOST_TEST(quiet.output.find("-darcy_hihg") == std::string::npos);
  // Under MPI: reported once (rank 0), and still a success.
  const Run two = run(args + " -darcy_hihg 20", mpiexec() + " -n 2 --oversubscribe");
  BOOST_TEST(two.status == 0);
  BOOST_TEST(count(two.output, "WARNING: option -darcy_hihg is not used") == 1u);
}

// -help: the driver's own options first, every problem's options and the solvers' PETSc prefixes,
// then PETSc's generic block at the end.
BOOST_AUTO_TEST_CASE(help_lists_the_driver_options_before_petsc_generic_ones) {
  const Run h = run("-help");
  BOOST_TEST(h.status == 0);
  const auto at = [&h](const std::string& text) {
    const auto p = h.output.find(text);
    BOOST_TEST_INFO("looking for " << text);
    BOOST_TEST(p != std::string::npos);
    return p;
  };
  const auto first_line = h.output.substr(0, h.output.find('\n', h.output.find('\n') + 1));
  BOOST_TEST(first_line.find("this program's options first") != std::string::npos);
  const auto driver = at("neurops_generate options:"), samples = at("-gen_samples <int 100>");
  const auto darcy = at("-darcy_high <real 12>"), ksp = at("-darcy_ksp_*, -darcy_pc_*");
  at("-poisson_ksp_*, -poisson_pc_*");
  at("-ns_viscosity");
  at("-deeponet_sensors");
  const auto generic = at("Options for all PETSc programs:");
  BOOST_TEST(driver < samples);
  BOOST_TEST(samples < darcy);
  BOOST_TEST(darcy < ksp);
  BOOST_TEST(ksp < generic);
  BOOST_TEST(h.output.find("Petsc Release Version") > driver);
}

// A sample that needs more memory than one rank may use is split across the ranks, with a line saying
// why; the data equal a 1-rank run's to rounding. Within the budget each rank solves its own samples.
BOOST_AUTO_TEST_CASE(a_sample_too_large_for_one_rank_is_split_across_the_ranks) {
  const fs::path dir = workdir("memory");
  const std::string args =
      "-gen_problem darcy -darcy_n 33 -gen_samples 3 -gen_seed 1 -darcy_rtol 1e-12 -gen_preview 0 -darcy_ksp_view";
  const std::string two_ranks = mpiexec() + " -n 2 --oversubscribe";
  BOOST_TEST_REQUIRE(run(args + " -gen_out " + (dir / "one.h5").string()).status == 0);
  // 33^2 nodes need about 270 kB.
  const Run split = run(args + " -gen_memory_per_rank 64kB -gen_out " + (dir / "split.h5").string(), two_ranks);
  BOOST_TEST_REQUIRE(split.status == 0);
  BOOST_TEST(split.output.find("more than the 64 kB one rank may use (-gen_memory_per_rank): every solve is split "
                               "across the 2 ranks") != std::string::npos);
  BOOST_TEST(split.output.find("Mat Object: 2 MPI processes") != std::string::npos);  // the solves really are
  expect_same_inputs_and_outputs_to_rounding(dir / "one.h5", dir / "split.h5");
  // A budget the sample fits: sample-parallel, the 1-rank file bit for bit.
  const Run fits = run(args + " -gen_memory_per_rank 1GB -gen_out " + (dir / "fits.h5").string(), two_ranks);
  BOOST_TEST_REQUIRE(fits.status == 0);
  BOOST_TEST(fits.output.find("split across") == std::string::npos);
  BOOST_TEST(fits.output.find("Mat Object: 2 MPI processes") == std::string::npos);
  require_identical(dir / "one.h5", dir / "fits.h5");
  // A size that does not parse is an error naming the option, before any file is made.
  const Run bad = run(args + " -gen_memory_per_rank 64XB -gen_out " + (dir / "bad.h5").string());
  BOOST_TEST(bad.status != 0);
  BOOST_TEST(bad.output.find("option -gen_memory_per_rank: expected a size such as 64MB") != std::string::npos);
  BOOST_TEST(!fs::exists(dir / "bad.h5"));
}
