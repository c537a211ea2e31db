// Poisson on a DMDA with ex45's discretisation, and its training pairs (poisson.hpp).
#include "neurops/pde/poisson.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <cmath>

#include "neurops/solvers/dmda_bridge.hpp"

namespace neurops::pde {

namespace {

// ex45's weights: w_a = (prod_b H_b) / H_a^2, the cell volume prod_a H_a, and the diagonal 2 sum_a w_a.
struct Weights {
  double w[3] = {0, 0, 0};  // x, y, z
  double volume = 1, diagonal = 0;
};

Weights weights_of(DM dm) {
  PetscInt dim = 0, m[3] = {1, 1, 1};
  NEUROPS_PETSC(DMDAGetInfo(dm, &dim, &m[0], &m[1], &m[2], nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr));
  Weights s;
  double H[3] = {1, 1, 1};
  for (int a = 0; a < dim; ++a) {
    NEUROPS_CHECK(m[a] >= 3, "Poisson: every side needs at least 3 nodes, found " << m[a] << " along axis " << a);
    H[a] = 1.0 / double(m[a] - 1);
    s.volume *= H[a];
  }
  for (int a = 0; a < dim; ++a) {
    s.w[a] = s.volume / (H[a] * H[a]);
    s.diagonal += 2 * s.w[a];
  }
  return s;
}

}  // namespace

PetscDM poisson_grid(MPI_Comm comm, int dim, PetscInt n) {
  NEUROPS_CHECK(dim == 2 || dim == 3, "Poisson: expected 2 or 3 dimensions, found " << dim);
  NEUROPS_CHECK(n >= 3, "Poisson: expected at least 3 nodes per side, found " << n);
  PetscDM dm;
  if (dim == 2)
    NEUROPS_PETSC(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, n, n, PETSC_DECIDE,
                               PETSC_DECIDE, 1, 1, nullptr, nullptr, dm.out()));
  else
    NEUROPS_PETSC(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, n, n, n,
                               PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, nullptr, dm.out()));
  NEUROPS_PETSC(DMSetUp(dm));
  return dm;
}

PetscMat assemble_poisson(DM dm) {
  PetscInt dim = 0, mx = 0, my = 0, mz = 0, xs, ys, zs, xm, ym, zm;
  NEUROPS_PETSC(DMDAGetInfo(dm, &dim, &mx, &my, &mz, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                            nullptr, nullptr));
  const Weights s = weights_of(dm);
  NEUROPS_PETSC(DMDAGetCorners(dm, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscMat A;
  NEUROPS_PETSC(DMCreateMatrix(dm, A.out()));
  for (PetscInt k = zs; k < zs + zm; ++k)
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i) {
        MatStencil row{};
        row.i = i;
        row.j = j;
        row.k = k;
        const bool boundary = i == 0 || j == 0 || i == mx - 1 || j == my - 1 || (dim == 3 && (k == 0 || k == mz - 1));
        MatStencil col[7];
        PetscScalar v[7];
        int c = 0;
        col[c] = row;
        v[c++] = s.diagonal;
        if (!boundary) {
          for (int a = 0; a < dim; ++a)
            for (int side : {-1, 1}) {
              col[c] = row;
              (a == 0 ? col[c].i : a == 1 ? col[c].j : col[c].k) += side;
              v[c++] = -s.w[a];
            }
        }
        NEUROPS_PETSC(MatSetValuesStencil(A, 1, &row, c, col, v, INSERT_VALUES));
      }
  NEUROPS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  return A;
}

PoissonSolver::PoissonSolver(int dim, index_t n, PoissonSettings settings)
    : dim_(dim), n_(n), dm_(poisson_grid(settings.comm, dim, PetscInt(n))), A_(assemble_poisson(dm_)) {
  NEUROPS_PETSC(DMCreateGlobalVector(dm_, b_.out()));
  NEUROPS_PETSC(VecDuplicate(b_, x_.out()));
  NEUROPS_PETSC(KSPCreate(settings.comm, ksp_.out()));
  NEUROPS_PETSC(KSPSetOperators(ksp_, A_, A_));
  // The DM gives KSPGuess "neurops" (-poisson_ksp_guess_type neurops) and PCMG the grid; the operator
  // is assembled here, not by the DM.
  NEUROPS_PETSC(KSPSetDM(ksp_, dm_));
  NEUROPS_PETSC(KSPSetDMActive(ksp_, PETSC_FALSE));
  // GMRES: ex45's matrix is not symmetric (interior rows keep their boundary columns).
  NEUROPS_PETSC(KSPSetType(ksp_, KSPGMRES));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp_, &pc));
  NEUROPS_PETSC(PCSetType(pc, PCGAMG));
  NEUROPS_PETSC(KSPSetTolerances(ksp_, settings.rtol, 1e-50, PETSC_DEFAULT, 10000));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp_, settings.options_prefix.c_str()));
  NEUROPS_PETSC(KSPSetFromOptions(ksp_));
}

PoissonSolver::~PoissonSolver() = default;

std::vector<index_t> PoissonSolver::grid() const {
  return dim_ == 2 ? std::vector<index_t>{n_, n_} : std::vector<index_t>{n_, n_, n_};
}

Tensor<double> PoissonSolver::rhs(const Tensor<double>& f, const Tensor<double>& g) const {
  const Shape shape(grid());
  NEUROPS_CHECK(f.shape() == shape && g.shape() == shape, "Poisson: f and g must have the grid's shape "
                                                              << shape << ", found " << f.shape() << " and "
                                                              << g.shape());
  const Weights s = weights_of(dm_);
  Tensor<double> b(shape);
  const index_t n = n_, nz = dim_ == 3 ? n : 1;
  for (index_t k = 0; k < nz; ++k)
    for (index_t j = 0; j < n; ++j)
      for (index_t i = 0; i < n; ++i) {
        const index_t p = (k * n + j) * n + i;
        const bool boundary = i == 0 || j == 0 || i == n - 1 || j == n - 1 || (dim_ == 3 && (k == 0 || k == n - 1));
        b[p] = boundary ? s.diagonal * g[p] : s.volume * f[p];
      }
  return b;
}

Tensor<double> PoissonSolver::solve(const Tensor<double>& b) {
  Tensor<double> field = b;
  NEUROPS_CHECK(b.shape() == Shape(grid()),
                "Poisson: b must have the grid's shape " << Shape(grid()) << ", found " << b.shape());
  std::vector<index_t> batched{1, 1};
  for (index_t g : grid()) batched.push_back(g);
  field.reshape(Shape(batched));
  solvers::from_tensor(dm_, field, b_);
  NEUROPS_PETSC(KSPSolve(ksp_, b_, x_));
  KSPConvergedReason reason;
  NEUROPS_PETSC(KSPGetConvergedReason(ksp_, &reason));
  NEUROPS_CHECK(reason > 0, "Poisson: the KSP did not converge: " << KSPConvergedReasons[reason]);
  PetscInt its = 0;
  NEUROPS_PETSC(KSPGetIterationNumber(ksp_, &its));
  iterations_ = its;
  Tensor<double> u = solvers::to_tensor<double>(dm_, x_);
  u.reshape(b.shape());
  return u;
}

Tensor<double> smooth_random_field(int dim, index_t n, Rng& rng, index_t modes, double decay) {
  const index_t nz = dim == 3 ? n : 1, kz_max = dim == 3 ? modes : 0;
  Tensor<double> field(dim == 3 ? Shape{n, n, n} : Shape{n, n}, rng.normal());
  const double h = 1.0 / double(n - 1), pi = std::acos(-1.0);
  for (index_t kz = 0; kz <= kz_max; ++kz)
    for (index_t ky = 0; ky <= modes; ++ky)
      for (index_t kx = 0; kx <= modes; ++kx) {
        if (kx + ky + kz == 0) continue;
        const double amplitude = rng.normal() * std::pow(double(kx * kx + ky * ky + kz * kz), -0.5 * decay);
        const double px = rng.uniform(0, 2 * pi), py = rng.uniform(0, 2 * pi), pz = rng.uniform(0, 2 * pi);
        for (index_t k = 0; k < nz; ++k) {
          const double cz = dim == 3 ? std::cos(pi * double(kz) * double(k) * h + pz) : 1.0;
          for (index_t j = 0; j < n; ++j) {
            const double cyz = cz * std::cos(pi * double(ky) * double(j) * h + py);
            for (index_t i = 0; i < n; ++i)
              field[(k * n + j) * n + i] += amplitude * cyz * std::cos(pi * double(kx) * double(i) * h + px);
          }
        }
      }
  return field;
}

std::vector<Tensor<double>> poisson_sample(PoissonSolver& solver, std::uint64_t seed, index_t index) {
  Rng rng = Rng::stream(seed, std::uint64_t(index));
  const int dim = int(solver.grid().size());
  const index_t n = solver.grid()[0];
  Tensor<double> f = smooth_random_field(dim, n, rng);
  Tensor<double> g = smooth_random_field(dim, n, rng);
  Tensor<double> b = solver.rhs(f, g);
  Tensor<double> u = solver.solve(b);
  return {std::move(f), std::move(g), std::move(b), std::move(u)};
}

nn::FieldDataset<float> poisson_dataset(int dim, index_t n, index_t count, std::uint64_t seed, index_t first,
                                        MPI_Comm comm) {
  PoissonSolver solver(dim, n, PoissonSettings{.comm = comm});
  std::vector<index_t> dims{count, 1};
  for (index_t g : solver.grid()) dims.push_back(g);
  const Shape shape(dims);
  nn::FieldDataset<float> d{Tensor<float>(shape), Tensor<float>(shape)};
  const index_t per = d.inputs.shape().tail_numel(1);
  for (index_t s = 0; s < count; ++s) {
    const auto fields = poisson_sample(solver, seed, first + s);
    std::transform(fields[2].begin(), fields[2].end(), d.inputs.data() + s * per, [](double v) { return float(v); });
    std::transform(fields[3].begin(), fields[3].end(), d.targets.data() + s * per, [](double v) { return float(v); });
  }
  return d;
}

}  // namespace neurops::pde
