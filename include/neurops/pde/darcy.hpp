#pragma once
// Darcy flow  -div(a grad u) = f  on the unit square with u = 0 on the boundary.
//
// Grid: n x n nodes x_i = i h, h = 1/(n-1), boundary nodes included, so coefficient, source and
// solution are all (n, n) tensors (rows along y), as in FNO's Darcy data. The discretisation is the
// conservative 5-point finite-volume scheme
//     sum_{faces} a_face (u_P - u_N) / h^2 = f_P
// at every interior node P with neighbour N across each face. a_face is the HARMONIC mean
// 2 a_P a_N / (a_P + a_N) of the nodal values by default (flux continuity for the piecewise-constant
// two-valued coefficients; the arithmetic mean is an option). Boundary nodes carry the equation
// u = 0, and their columns are left out of interior rows, so the matrix stays symmetric positive
// definite. Second order in h for smooth a and u.
//
// The matrix is assembled on a PETSc DMDA (distributed over the communicator's ranks) and solved by a
// KSP set from the options database with prefix `darcy_` (default: CG preconditioned by GAMG;
// -darcy_pc_type hypre gives BoomerAMG; -darcy_pc_type mg a geometric V-cycle on the DMDA hierarchy
// with Galerkin coarse operators, which needs n - 1 divisible by 2^(levels - 1)). A solve that does not
// converge (KSPConvergedReason < 0) is an Error naming the reason.
#include <mpi.h>
#include <petscksp.h>

#include <memory>
#include <string>

#include "neurops/core/tensor.hpp"
#include "neurops/nn/data.hpp"

namespace neurops::pde {

enum class FaceAverage { harmonic, arithmetic };

struct DarcySettings {
  FaceAverage face_average = FaceAverage::harmonic;
  double rtol = 1e-10;  // KSP relative tolerance (code default; -darcy_ksp_rtol overrides)
  double atol = 1e-50;
  index_t max_it = 10000;
  std::string options_prefix = "darcy_";
  MPI_Comm comm = MPI_COMM_WORLD;
};

struct DarcySolveInfo {
  index_t iterations = 0;
  double residual_norm = 0;
  std::string reason;             // e.g. "CONVERGED_RTOL"
  std::string ksp_type, pc_type;  // as configured (code defaults + options database)
  double rtol = 0;                // relative tolerance in effect
};

class DarcySolver {
 public:
  /// n x n nodes (n >= 3), every rank of `settings.comm` takes part.
  explicit DarcySolver(index_t n, DarcySettings settings = {});
  ~DarcySolver();
  DarcySolver(DarcySolver&&) noexcept;
  DarcySolver& operator=(DarcySolver&&) noexcept;

  /// Solves with the coefficient a > 0 and source f, both (n, n) and identical on every rank;
  /// returns u (n, n) on every rank.
  Tensor<double> solve(const Tensor<double>& a, const Tensor<double>& f);
  /// The same with f = 1 everywhere (FNO's Darcy data).
  Tensor<double> solve(const Tensor<double>& a);
  /// The same starting from `initial_guess` (n, n) instead of zero, e.g. a neural operator's prediction
  /// (solvers/dmda_bridge.hpp): last_solve().iterations counts what the guess saved.
  Tensor<double> solve(const Tensor<double>& a, const Tensor<double>& f, const Tensor<double>& initial_guess);

  // ---- for host codes: the PETSc objects, to solve one's own systems with this operator ----------
  /// Assembles the matrix and the right-hand side for (a, f) and sets up a fresh KSP on them (solve()
  /// does this itself). The KSP handle changes with every assemble(); the DM, Mat and Vecs do not.
  void assemble(const Tensor<double>& a, const Tensor<double>& f);
  /// Solves A x = b with the assembled matrix; x is the initial guess when `nonzero_guess`. b and x are
  /// global Vecs of dm(). A solve that does not converge is an Error naming the reason.
  void solve(Vec b, Vec x, bool nonzero_guess = false);
  /// The 2-D DMDA (n x n nodes, one dof, unit-square coordinates set).
  DM dm() const;
  /// The matrix of the last assemble() (SPD; boundary rows 4 a_P on the diagonal).
  Mat matrix() const;
  /// The KSP of the last assemble() (prefix settings.options_prefix), set up on matrix().
  KSP ksp() const;
  /// The right-hand side of the last assemble() and the last solution, global Vecs of dm().
  Vec rhs() const;
  Vec solution() const;
  const DarcySolveInfo& last_solve() const noexcept { return info_; }
  index_t n() const noexcept { return n_; }
  /// Applies the discrete operator to u (n, n) (boundary rows: u itself), for residual checks.
  Tensor<double> apply(const Tensor<double>& a, const Tensor<double>& u) const;

 private:
  void configure_ksp();
  Tensor<double> solution_tensor();
  struct Impl;
  index_t n_;
  DarcySettings settings_;
  DarcySolveInfo info_;
  std::unique_ptr<Impl> impl_;
};

/// FNO's two-valued coefficient: `high` where the field is >= 0, `low` elsewhere (12 and 3). A
/// DirichletGrf vanishes on the boundary nodes, so they take `high`; only the faces between the
/// boundary and the first interior nodes see those values.
Tensor<double> threshold_coefficient(const Tensor<double>& field, double high = 12.0, double low = 3.0);
/// Smooth log-normal coefficient exp(field).
Tensor<double> lognormal_coefficient(const Tensor<double>& field);

/// Darcy pairs (coefficient a -> solution u, f = 1, u = 0 on the boundary) on an n x n node grid, as
/// (count, 1, n, n) float fields: a = 12 where a Dirichlet GRF (alpha 2, tau 3, FNO's Darcy setting)
/// is >= 0, 3 elsewhere; solved to rtol 1e-8 on the ranks of `comm`. Sample i (of the sequence that
/// starts at sample `first`) depends on (seed, i) only, so a rank can make its own share of a set.
/// Shows a progress line labelled `label` (none when empty); `mean_iterations` (optional) receives
/// the mean CG iterations per solve.
nn::FieldDataset<float> darcy_dataset(index_t n, index_t count, std::uint64_t seed, const std::string& label = "Darcy",
                                      index_t* mean_iterations = nullptr, index_t first = 0,
                                      MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace neurops::pde
