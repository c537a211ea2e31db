#include "neurops/pde/linear_systems.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace neurops::pde {

PetscDM dirichlet_grid_2d(MPI_Comm comm, PetscInt nx, PetscInt ny) {
  NEUROPS_CHECK(nx >= 1 && ny >= 1, "dirichlet_grid_2d: expected positive extents, found " << nx << " x " << ny);
  PetscDM da;
  NEUROPS_PETSC(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny, PETSC_DECIDE,
                             PETSC_DECIDE, 1, 1, nullptr, nullptr, da.out()));
  NEUROPS_PETSC(DMSetUp(da));
  return da;
}

PetscDM dirichlet_grid_3d(MPI_Comm comm, PetscInt nx, PetscInt ny, PetscInt nz) {
  NEUROPS_CHECK(nx >= 1 && ny >= 1 && nz >= 1,
                "dirichlet_grid_3d: expected positive extents, found " << nx << " x " << ny << " x " << nz);
  PetscDM da;
  NEUROPS_PETSC(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny, nz,
                             PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, nullptr, da.out()));
  NEUROPS_PETSC(DMSetUp(da));
  return da;
}

PetscMat assemble_laplacian(DM grid, const std::vector<std::uint8_t>& solid, double scale, SolidFace face) {
  PetscInt dim = 0, M = 0, N = 0, P = 0;
  NEUROPS_PETSC(DMDAGetInfo(grid, &dim, &M, &N, &P, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                            nullptr, nullptr));
  NEUROPS_CHECK(dim == 2 || dim == 3, "assemble_laplacian: expected a 2-D or 3-D DMDA, found dimension " << dim);
  if (dim == 2) P = 1;
  const std::size_t nodes = static_cast<std::size_t>(M) * N * P;
  NEUROPS_CHECK(solid.empty() || solid.size() == nodes, "assemble_laplacian: solid mask has "
                                                            << solid.size() << " entries, expected " << nodes
                                                            << " (grid " << M << " x " << N << " x " << P << ")");
  auto is_solid = [&](PetscInt i, PetscInt j, PetscInt k) {
    return !solid.empty() && solid[static_cast<std::size_t>((k * N + j) * M + i)] != 0;
  };
  PetscMat A;
  NEUROPS_PETSC(DMCreateMatrix(grid, A.out()));
  PetscInt xs, ys, zs, xm, ym, zm;
  NEUROPS_PETSC(DMDAGetCorners(grid, &xs, &ys, &zs, &xm, &ym, &zm));
  if (dim == 2) {
    zs = 0;
    zm = 1;
  }
  const double centre = dim == 2 ? 4.0 : 6.0;
  for (PetscInt k = zs; k < zs + zm; ++k)
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i) {
        MatStencil row{};
        row.i = i;
        row.j = j;
        row.k = k;
        if (is_solid(i, j, k)) {  // decoupled obstacle cell
          const PetscScalar one = 1.0;
          NEUROPS_PETSC(MatSetValuesStencil(A, 1, &row, 1, &row, &one, INSERT_VALUES));
          continue;
        }
        MatStencil cols[7];
        PetscScalar vals[7];
        int n = 0;
        double diagonal = centre;
        const int offsets[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
        for (int d = 0; d < 2 * dim; ++d) {
          const PetscInt ii = i + offsets[d][0], jj = j + offsets[d][1], kk = k + offsets[d][2];
          if (ii < 0 || ii >= M || jj < 0 || jj >= N || kk < 0 || kk >= P) continue;  // Dirichlet boundary
          if (is_solid(ii, jj, kk)) {
            if (face == SolidFace::neumann) diagonal -= 1.0;
            continue;
          }
          cols[n].i = ii;
          cols[n].j = jj;
          cols[n].k = kk;
          cols[n].c = 0;
          vals[n++] = -scale;
        }
        cols[n] = row;
        vals[n++] = diagonal * scale;
        NEUROPS_PETSC(MatSetValuesStencil(A, 1, &row, n, cols, vals, INSERT_VALUES));
      }
  NEUROPS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatSetOption(A, MAT_SYMMETRIC, PETSC_TRUE));
  return A;
}

std::pair<double, double> laplacian_eigenvalue_bounds(PetscInt nx, PetscInt ny, PetscInt nz) {
  auto lo = [](PetscInt n) { return 2.0 - 2.0 * std::cos(std::numbers::pi / double(n + 1)); };
  auto hi = [](PetscInt n) { return 2.0 - 2.0 * std::cos(double(n) * std::numbers::pi / double(n + 1)); };
  double a = lo(nx) + lo(ny), b = hi(nx) + hi(ny);
  if (nz > 0) {
    a += lo(nz);
    b += hi(nz);
  }
  return {a, b};
}

// ---------------------------------------------------------------------------------------------
ShiftedLaplacianFamily::ShiftedLaplacianFamily(double beta_a, double beta_b, double offset, double width)
    : a_(beta_a), b_(beta_b), offset_(offset), width_(width) {
  NEUROPS_CHECK(beta_a > 0 && beta_b > 0,
                "ShiftedLaplacianFamily: Beta parameters must be positive, found (" << beta_a << ", " << beta_b << ")");
  NEUROPS_CHECK(width > 0, "ShiftedLaplacianFamily: offset width must be positive, found " << width);
  // delsq(numgrid('S', 12)): the 10 x 10 interior of a 12 x 12 square, 5-point stencil.
  constexpr PetscInt side = 10, n = side * side;
  NEUROPS_PETSC(MatCreateSeqAIJ(PETSC_COMM_SELF, n, n, 5, nullptr, base_.out()));
  for (PetscInt j = 0; j < side; ++j)
    for (PetscInt i = 0; i < side; ++i) {
      const PetscInt row = j * side + i;
      PetscInt cols[5];
      PetscScalar vals[5];
      int m = 0;
      if (j > 0) cols[m] = row - side, vals[m++] = -1;
      if (i > 0) cols[m] = row - 1, vals[m++] = -1;
      cols[m] = row, vals[m++] = 4;
      if (i < side - 1) cols[m] = row + 1, vals[m++] = -1;
      if (j < side - 1) cols[m] = row + side, vals[m++] = -1;
      NEUROPS_PETSC(MatSetValues(base_, 1, &row, m, cols, vals, INSERT_VALUES));
    }
  NEUROPS_PETSC(MatAssemblyBegin(base_, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(base_, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatSetOption(base_, MAT_SYMMETRIC, PETSC_TRUE));
}

double ShiftedLaplacianFamily::sample_shift(Rng& rng) const { return offset_ + width_ * rng.beta(a_, b_); }

void ShiftedLaplacianFamily::sample_rhs(Rng& rng, Vec b) const {
  PetscInt n = 0;
  NEUROPS_PETSC(VecGetSize(b, &n));
  NEUROPS_CHECK(n == size(), "ShiftedLaplacianFamily::sample_rhs: vector has " << n << " entries, expected " << size());
  std::vector<double> v(static_cast<std::size_t>(n));
  for (;;) {
    double norm2 = 0;
    for (auto& x : v) {
      x = rng.normal();
      norm2 += x * x;
    }
    if (norm2 <= double(n)) break;
  }
  PetscScalar* p = nullptr;
  NEUROPS_PETSC(VecGetArray(b, &p));
  std::copy(v.begin(), v.end(), p);
  NEUROPS_PETSC(VecRestoreArray(b, &p));
}

void ShiftedLaplacianFamily::instance(double c, PetscMat& out) const {
  if (!out) {
    NEUROPS_PETSC(MatDuplicate(base_, MAT_COPY_VALUES, out.out()));
  } else {
    NEUROPS_PETSC(MatCopy(base_, out, SAME_NONZERO_PATTERN));
  }
  NEUROPS_PETSC(MatShift(out, c));
}

// ---------------------------------------------------------------------------------------------
double bump(double x, double y, double cx, double cy, double radius) {
  const double q = std::min(1.0, ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (radius * radius));
  if (q >= 1.0) return 0.0;  // exp(1 - 1/0) = exp(-inf)
  return std::exp(1.0 - 1.0 / (1.0 - q));
}

double HeatSequence::default_coefficient(double t) {
  const double s = std::sin(2.0 * std::numbers::pi * t);
  return std::max(0.1 * s, -10.0 * s);
}

namespace {
// Fills v at each interior node (i, j) (i fastest) with f(first, second), where as in Heat2D.m the
// first coordinate runs along the slow axis and the second along the fast one, spacing h.
template <class F>
void fill_nodes(DM grid, Vec v, double h, F&& f) {
  PetscInt xs, ys, xm, ym;
  NEUROPS_PETSC(DMDAGetCorners(grid, &xs, &ys, nullptr, &xm, &ym, nullptr));
  PetscScalar** a = nullptr;
  NEUROPS_PETSC(DMDAVecGetArray(grid, v, &a));
  for (PetscInt j = ys; j < ys + ym; ++j)
    for (PetscInt i = xs; i < xs + xm; ++i) a[j][i] = f(double(j + 1) * h, double(i + 1) * h);
  NEUROPS_PETSC(DMDAVecRestoreArray(grid, v, &a));
}
}  // namespace

HeatSequence::HeatSequence(MPI_Comm comm, PetscInt nx, double dt) : nx_(nx), dt_(dt) {
  NEUROPS_CHECK(nx >= 3, "HeatSequence: expected nx >= 3 (grid intervals per side), found " << nx);
  NEUROPS_CHECK(dt > 0, "HeatSequence: expected a positive time step, found " << dt);
  grid_ = dirichlet_grid_2d(comm, nx - 1, nx - 1);
  const double h = 1.0 / double(nx);
  laplacian_ = assemble_laplacian(grid_, {}, -1.0 / (h * h));
  NEUROPS_PETSC(DMCreateGlobalVector(grid_, u_.out()));
  fill_nodes(grid_, u_, h, [](double x, double y) { return bump(x, y, 0.5, 0.5, 0.25); });
}

void HeatSequence::system(PetscMat& A, PetscVec& b) const {
  const double half = t_ + 0.5 * dt_;
  const double cl = 0.5 * default_coefficient(half) * dt_;
  if (!A) {
    NEUROPS_PETSC(MatDuplicate(laplacian_, MAT_COPY_VALUES, A.out()));
  } else {
    NEUROPS_PETSC(MatCopy(laplacian_, A, SAME_NONZERO_PATTERN));
  }
  NEUROPS_PETSC(MatScale(A, -cl));
  NEUROPS_PETSC(MatShift(A, 1.0));
  NEUROPS_PETSC(MatSetOption(A, MAT_SYMMETRIC, PETSC_TRUE));
  if (!b) NEUROPS_PETSC(DMCreateGlobalVector(grid_, b.out()));
  const double h = 1.0 / double(nx_);
  const double cx = 0.5 + std::cos(16.0 * std::numbers::pi * half) / 4.0;
  const double cy = 0.5 + std::sin(16.0 * std::numbers::pi * half) / 4.0;
  const double dt = dt_;
  fill_nodes(grid_, b, h, [&](double x, double y) { return dt * 32.0 * bump(x, y, cx, cy, 0.125); });
  // b += (I + cl L) u
  NEUROPS_PETSC(VecAXPY(b, 1.0, u_));
  PetscVec lu;
  NEUROPS_PETSC(VecDuplicate(u_, lu.out()));
  NEUROPS_PETSC(MatMult(laplacian_, u_, lu));
  NEUROPS_PETSC(VecAXPY(b, cl, lu));
}

void HeatSequence::advance(Vec u_next) {
  NEUROPS_PETSC(VecCopy(u_next, u_));
  t_ += dt_;
  ++step_;
}

}  // namespace neurops::pde
