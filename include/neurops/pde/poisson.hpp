#pragma once
// Poisson  -Laplacian u = f  on the unit square or cube, u = g on the boundary, discretised exactly as
// PETSc's KSP tutorial ex45 (3-D) and its 2-D analogue, so operators trained on these data give initial
// guesses to those programs (the KSPGuess type "neurops").
//
// Grid: n_x x n_y [x n_z] nodes, boundary included, H_a = 1/(n_a - 1). With w_a = (prod_b H_b) / H_a^2
// (3-D: HxHy/Hz, HxHz/Hy, HyHz/Hx as in ex45) every interior row is
//     2 (sum_a w_a) u_P - sum_a w_a (u_{P-e_a} + u_{P+e_a}) = (prod_a H_a) f_P
// and every boundary row is  2 (sum_a w_a) u_P = 2 (sum_a w_a) g_P. As in ex45 the interior rows keep
// their boundary columns, so the boundary data reach the interior through the matrix, and the matrix is
// not symmetric: CG with Jacobi or GAMG converges on it (as in ex45), much faster from a start that has
// the right boundary values; CG + ICC does not converge.
//
// The training pair of one sample is (b, u): the right-hand side the KSP sees, b = A u, and the
// solution. Sample fields are smooth random cosine series (random amplitude decaying as |k|^-decay plus
// a random constant), so constant fields such as ex45's own f = 1, g = 1 lie inside the distribution.
//
//   pde::PoissonSolver solver(2, 65);                 // -poisson_ksp_type, -poisson_pc_type, ... apply
//   Tensor<double> b = solver.rhs(f, g);              // f, g: (65, 65)
//   Tensor<double> u = solver.solve(b);               // (65, 65) on every rank
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "neurops/core/petsc.hpp"
#include "neurops/core/random.hpp"
#include "neurops/core/tensor.hpp"
#include "neurops/nn/data.hpp"

namespace neurops::pde {

/// The DMDA of the problem: n nodes per side (boundary included), star stencil of width 1, one dof.
PetscDM poisson_grid(MPI_Comm comm, int dim, PetscInt n);
/// Assembles ex45's matrix (2-D: its 2-D analogue) on a 2-D or 3-D DMDA of any shape.
PetscMat assemble_poisson(DM dm);

struct PoissonSettings {
  double rtol = 1e-10;  // code default; -poisson_ksp_rtol overrides
  std::string options_prefix = "poisson_";
  MPI_Comm comm = MPI_COMM_WORLD;
};

class PoissonSolver {
 public:
  /// dim 2 or 3, n >= 3 nodes per side; KSP GMRES + GAMG (the matrix is not symmetric) unless the options
  /// database says otherwise (prefix settings.options_prefix).
  PoissonSolver(int dim, index_t n, PoissonSettings settings = {});
  ~PoissonSolver();
  PoissonSolver(const PoissonSolver&) = delete;
  PoissonSolver& operator=(const PoissonSolver&) = delete;

  /// b = h^d f inside, 2 (sum w) g on the boundary; f and g are whole (grid...) fields.
  Tensor<double> rhs(const Tensor<double>& f, const Tensor<double>& g) const;
  /// Solves A u = b; b (grid...) identical on every rank; returns u (grid...) on every rank. A solve that
  /// does not converge is an Error naming the reason.
  Tensor<double> solve(const Tensor<double>& b);
  index_t last_iterations() const noexcept { return iterations_; }
  std::vector<index_t> grid() const;  // (n, n) or (n, n, n)

  DM dm() const noexcept { return dm_; }
  Mat matrix() const noexcept { return A_; }
  KSP ksp() const noexcept { return ksp_; }

 private:
  int dim_;
  index_t n_;
  PetscDM dm_;
  PetscMat A_;
  PetscKSP ksp_;
  PetscVec b_, x_;
  index_t iterations_ = 0;
};

/// c + sum over k in {0..modes}^d \ {0} of a_k |k|^-decay prod_a cos(pi k_a x_a + phi_{k,a}), a_k, c
/// ~ N(0, 1): a smooth random field on the n^d unit grid, shape (grid...).
Tensor<double> smooth_random_field(int dim, index_t n, Rng& rng, index_t modes = 4, double decay = 2.0);

/// Poisson pairs (b -> u) for count samples on the n^d grid, (count, 1, grid...) as float; sample i of the
/// sequence starting at `first` depends on (seed, i) only; solved to rtol 1e-10 on the ranks of `comm`.
nn::FieldDataset<float> poisson_dataset(int dim, index_t n, index_t count, std::uint64_t seed, index_t first = 0,
                                        MPI_Comm comm = MPI_COMM_WORLD);
/// The fields of sample (seed, index): {f, g, b, u}, each (grid...).
std::vector<Tensor<double>> poisson_sample(PoissonSolver& solver, std::uint64_t seed, index_t index);

}  // namespace neurops::pde
