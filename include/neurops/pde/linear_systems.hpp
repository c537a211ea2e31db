#pragma once
// Families of sparse SPD linear systems used to test and tune the solvers:
//   * Dirichlet Laplacians (5-point 2-D, 7-point 3-D) on a DMDA, optionally with solid obstacle
//     cells decoupled from the fluid (zero row/column, unit diagonal) as in smoke-simulation
//     pressure solves;
//   * the Learning-to-Relax family A + c I, A = delsq(numgrid('S', 12)) (10 x 10 interior grid,
//     4 on the diagonal, -1 off), c = -0.15 + 0.6 Beta(a, b), right-hand sides drawn from a
//     radially truncated N(0, I);
//   * the Crank–Nicolson heat sequence A_t = I - (1/2) kappa(t) dt L_h on the unit square with a
//     time-varying diffusion coefficient and a moving bump source, produced one system at a time.
#include <cstdint>
#include <functional>
#include <vector>

#include "neurops/core/petsc.hpp"
#include "neurops/core/random.hpp"

namespace neurops::pde {

/// 2-D DMDA of nx x ny interior nodes (star stencil, width 1, one dof, no ghost boundary).
PetscDM dirichlet_grid_2d(MPI_Comm comm, PetscInt nx, PetscInt ny);
/// 3-D DMDA of nx x ny x nz interior nodes.
PetscDM dirichlet_grid_3d(MPI_Comm comm, PetscInt nx, PetscInt ny, PetscInt nz);

/// How a fluid cell next to a solid one sees it.
enum class SolidFace {
  dirichlet,  ///< the solid neighbour counts as a zero value: the diagonal stays 4 (6 in 3-D)
  neumann     ///< no flux through the solid face: the diagonal counts only non-solid neighbours
};

/// Assembles the negative Laplacian with unit spacing (2-D: 4 on the diagonal, -1 to each of the
/// four neighbours; 3-D: 6 and -1) on the DMDA, homogeneous Dirichlet values outside the grid,
/// times `scale` (e.g. 1/h^2). `solid` (optional, one flag per node in natural x-fastest order,
/// size nx*ny[*nz]) marks obstacle cells: their row and column are zero except a unit diagonal.
PetscMat assemble_laplacian(DM grid, const std::vector<std::uint8_t>& solid = {}, double scale = 1.0,
                            SolidFace face = SolidFace::dirichlet);

/// Exact eigenvalues of the unit-spacing Dirichlet Laplacian on an nx x ny [x nz] grid:
/// sum over axes of 2 - 2 cos(k pi / (n + 1)), k = 1..n. Returns {smallest, largest}.
std::pair<double, double> laplacian_eigenvalue_bounds(PetscInt nx, PetscInt ny, PetscInt nz = 0);

/// The Learning-to-Relax instance family (Khodak et al., ICLR 2024): A + c I on 100 unknowns.
class ShiftedLaplacianFamily {
 public:
  /// High variance: Beta(0.5, 1.5); low variance: Beta(2, 6). Offsets c = offset + width * Beta.
  ShiftedLaplacianFamily(double beta_a, double beta_b, double offset = -0.15, double width = 0.6);
  static ShiftedLaplacianFamily high_variance() { return {0.5, 1.5}; }
  static ShiftedLaplacianFamily low_variance() { return {2.0, 6.0}; }

  PetscInt size() const { return 100; }
  /// The base matrix delsq(numgrid('S', 12)) as sequential AIJ (10 x 10 grid, row-major order).
  Mat base() const { return base_; }
  /// Draws the diagonal shift c of the next instance.
  double sample_shift(Rng& rng) const;
  /// Draws b ~ N(0, I) conditioned on |b| <= sqrt(n) (rejection, as in the reference code).
  void sample_rhs(Rng& rng, Vec b) const;
  /// Writes A + c I into `out` (created on first use with the base's nonzero pattern).
  void instance(double c, PetscMat& out) const;
  /// Range [offset, offset + width] the shifts lie in (the context interval of the bandits).
  std::pair<double, double> shift_range() const { return {offset_, offset_ + width_}; }

 private:
  double a_, b_, offset_, width_;
  PetscMat base_;
};

/// Crank–Nicolson heat sequence of the Learning-to-Relax paper (utils/Heat2D.m): u_t = kappa(t) Lap u + f
/// on the unit square with zero Dirichlet values, (nx-1)^2 interior nodes at spacing h = 1/nx,
/// A_t = I - (1/2) kappa(t + dt/2) dt L_h, b_t = (I + (1/2) kappa dt L_h) u + dt f(t + dt/2).
/// Defaults: kappa(t) = max(0.1 sin 2 pi t, -10 sin 2 pi t), dt = 1e-3, f = 32 bump(x; centre moving
/// on a circle of radius 1/4 at angular speed 16 pi, radius 1/8), u0 = bump(x; (1/2, 1/2), 1/4).
class HeatSequence {
 public:
  HeatSequence(MPI_Comm comm, PetscInt nx, double dt = 1e-3);
  static double default_coefficient(double t);

  PetscInt unknowns() const { return (nx_ - 1) * (nx_ - 1); }
  double time() const { return t_; }
  std::int64_t step() const { return step_; }
  /// Diffusion coefficient at the current time (the context the bandits see).
  double coefficient() const { return default_coefficient(t_); }
  /// Builds the system of the next step into A and b (A keeps its nonzero pattern between steps).
  void system(PetscMat& A, PetscVec& b) const;
  /// The current state u(t) (the warm start of the next solve).
  Vec state() const { return u_; }
  /// Accepts the solution of the last system and moves time forward by dt.
  void advance(Vec u_next);
  DM grid() const { return grid_; }

 private:
  PetscInt nx_;
  double dt_, t_ = 0;
  std::int64_t step_ = 0;
  PetscDM grid_;
  PetscMat laplacian_;  // L_h (negative definite, scaled by 1/h^2)
  PetscVec u_, node_x_, node_y_;
};

/// exp(1 - 1/(1 - min(1, |x - c|^2 / r^2))): a smooth bump of height 1 at c, zero outside radius r.
double bump(double x, double y, double cx, double cy, double radius);

}  // namespace neurops::pde
