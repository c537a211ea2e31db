#include "neurops/pde/darcy.hpp"

#include <petscdmda.h>
#include <petscksp.h>

#include <algorithm>
#include <cmath>

#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/core/random.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/solvers/dmda_bridge.hpp"

namespace neurops::pde {

namespace {
double face_value(FaceAverage avg, double a, double b) {
  return avg == FaceAverage::harmonic ? 2.0 * a * b / (a + b) : 0.5 * (a + b);
}
}  // namespace

struct DarcySolver::Impl {
  PetscDM da;
  PetscMat A;
  PetscVec b, x, natural, gathered;
  PetscKSP ksp;
  VecScatter to_all = nullptr;
  bool assembled = false;
  ~Impl() {
    if (to_all) (void)VecScatterDestroy(&to_all);
  }
};

DarcySolver::DarcySolver(index_t n, DarcySettings settings) : n_(n), settings_(std::move(settings)) {
  NEUROPS_CHECK(n >= 3, "DarcySolver: expected at least 3 nodes per side (one interior node), found n = " << n);
  NEUROPS_CHECK(settings_.rtol > 0, "DarcySolver: expected a relative tolerance > 0, found " << settings_.rtol);
  NEUROPS_CHECK(settings_.atol > 0, "DarcySolver: expected an absolute tolerance > 0, found " << settings_.atol);
  NEUROPS_CHECK(settings_.max_it > 0, "DarcySolver: expected max_it > 0, found " << settings_.max_it);
  impl_ = std::make_unique<Impl>();
  Impl& m = *impl_;
  NEUROPS_PETSC(DMDACreate2d(settings_.comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, PetscInt(n),
                             PetscInt(n), PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, m.da.out()));
  NEUROPS_PETSC(DMSetUp(m.da));
  NEUROPS_PETSC(DMDASetUniformCoordinates(m.da, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0));
  NEUROPS_PETSC(DMCreateMatrix(m.da, m.A.out()));
  NEUROPS_PETSC(MatSetOption(m.A, MAT_SYMMETRIC, PETSC_TRUE));
  NEUROPS_PETSC(DMCreateGlobalVector(m.da, m.b.out()));
  NEUROPS_PETSC(VecDuplicate(m.b, m.x.out()));
  NEUROPS_PETSC(DMDACreateNaturalVector(m.da, m.natural.out()));
  NEUROPS_PETSC(VecScatterCreateToAll(m.natural, &m.to_all, m.gathered.out()));

  configure_ksp();
}

// A fresh KSP for every solve: preconditioners keep internal state between solves (GAMG's
// eigenvalue estimates draw from a random generator that advances), and data generation needs a
// sample to depend on its own inputs only, whatever was solved before it in the same process.
void DarcySolver::configure_ksp() {
  Impl& m = *impl_;
  const index_t n = n_;
  NEUROPS_PETSC(KSPCreate(settings_.comm, m.ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(m.ksp, settings_.options_prefix.c_str()));
  // The DM gives PCMG its grid hierarchy; the operator itself is assembled here, not by the DM.
  NEUROPS_PETSC(KSPSetDM(m.ksp, m.da));
  NEUROPS_PETSC(KSPSetDMActive(m.ksp, PETSC_FALSE));
  NEUROPS_PETSC(KSPSetType(m.ksp, KSPCG));
  PC pc;
  NEUROPS_PETSC(KSPGetPC(m.ksp, &pc));
  NEUROPS_PETSC(PCSetType(pc, PCGAMG));
  NEUROPS_PETSC(KSPSetTolerances(m.ksp, settings_.rtol, settings_.atol, PETSC_DEFAULT, PetscInt(settings_.max_it)));
  NEUROPS_PETSC(KSPSetFromOptions(m.ksp));

  KSPType ksp_type;
  PCType pc_type;
  NEUROPS_PETSC(KSPGetType(m.ksp, &ksp_type));
  NEUROPS_PETSC(PCGetType(pc, &pc_type));
  info_.ksp_type = ksp_type;
  info_.pc_type = pc_type;
  PetscReal rtol, atol, dtol;
  PetscInt max_it;
  NEUROPS_PETSC(KSPGetTolerances(m.ksp, &rtol, &atol, &dtol, &max_it));
  info_.rtol = rtol;
  NEUROPS_CHECK(rtol > 0,
                "option -" << settings_.options_prefix << "ksp_rtol: expected a tolerance > 0, found " << rtol);
  if (info_.pc_type == PCMG) {
    PetscInt levels = 1;
    NEUROPS_PETSC(PCMGGetLevels(pc, &levels));
    const index_t factor = index_t(1) << (levels - 1);
    NEUROPS_CHECK(levels >= 1 && (n - 1) % factor == 0 && (n - 1) / factor >= 2,
                  "DarcySolver: geometric multigrid with "
                      << levels << " levels (-" << settings_.options_prefix
                      << "pc_mg_levels) cannot coarsen a grid of n = " << n << " nodes: n - 1 = " << n - 1
                      << " must be divisible by 2^(levels-1) = " << factor << " with at least 2 cells left");
    NEUROPS_PETSC(PCMGSetGalerkin(pc, PC_MG_GALERKIN_BOTH));
  }
}

DarcySolver::~DarcySolver() = default;
DarcySolver::DarcySolver(DarcySolver&&) noexcept = default;
DarcySolver& DarcySolver::operator=(DarcySolver&&) noexcept = default;

Tensor<double> DarcySolver::solve(const Tensor<double>& a) { return solve(a, Tensor<double>({n_, n_}, 1.0)); }

void DarcySolver::assemble(const Tensor<double>& a, const Tensor<double>& f) {
  check_shape(a.shape(), {n_, n_}, "Darcy coefficient");
  check_shape(f.shape(), {n_, n_}, "Darcy source");
  for (index_t p = 0; p < a.numel(); ++p)
    NEUROPS_CHECK(a[p] > 0 && std::isfinite(a[p]), "Darcy coefficient: expected positive finite values, found "
                                                       << a[p] << " at node (" << p / n_ << ", " << p % n_ << ")");
  Impl& m = *impl_;
  const double h = 1.0 / double(n_ - 1);
  const FaceAverage avg = settings_.face_average;
  PetscInt xs, ys, xm, ym;
  NEUROPS_PETSC(DMDAGetCorners(m.da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  NEUROPS_PETSC(MatZeroEntries(m.A));
  PetscScalar** rhs;
  NEUROPS_PETSC(DMDAVecGetArray(m.da, m.b, &rhs));
  const index_t last = n_ - 1;
  for (PetscInt j = ys; j < ys + ym; ++j)
    for (PetscInt i = xs; i < xs + xm; ++i) {
      MatStencil row{};
      row.i = i;
      row.j = j;
      const double aP = a(j, i);
      if (i == 0 || j == 0 || i == last || j == last) {
        // u = 0, scaled like an interior row so the multigrid smoothers see comparable diagonals.
        const PetscScalar diag = 4.0 * aP;
        NEUROPS_PETSC(MatSetValuesStencil(m.A, 1, &row, 1, &row, &diag, INSERT_VALUES));
        rhs[j][i] = 0.0;
        continue;
      }
      MatStencil cols[5];
      PetscScalar vals[5];
      int count = 1;
      double diag = 0;
      const int di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
      for (int q = 0; q < 4; ++q) {
        const PetscInt ni = i + di[q], nj = j + dj[q];
        const double af = face_value(avg, aP, a(nj, ni));
        diag += af;
        if (ni == 0 || nj == 0 || ni == last || nj == last) continue;  // known boundary value 0
        cols[count].i = ni;
        cols[count].j = nj;
        vals[count] = -af;
        ++count;
      }
      cols[0] = row;
      vals[0] = diag;
      NEUROPS_PETSC(MatSetValuesStencil(m.A, 1, &row, count, cols, vals, INSERT_VALUES));
      rhs[j][i] = h * h * f(j, i);
    }
  NEUROPS_PETSC(DMDAVecRestoreArray(m.da, m.b, &rhs));
  NEUROPS_PETSC(MatAssemblyBegin(m.A, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(m.A, MAT_FINAL_ASSEMBLY));

  configure_ksp();
  NEUROPS_PETSC(KSPSetOperators(m.ksp, m.A, m.A));
  m.assembled = true;
}

void DarcySolver::solve(Vec b, Vec x, bool nonzero_guess) {
  Impl& m = *impl_;
  NEUROPS_CHECK(m.assembled, "DarcySolver: solve(b, x) before assemble() built the matrix");
  NEUROPS_PETSC(KSPSetInitialGuessNonzero(m.ksp, nonzero_guess ? PETSC_TRUE : PETSC_FALSE));
  NEUROPS_PETSC(KSPSolve(m.ksp, b, x));
  KSPConvergedReason reason;
  PetscInt its;
  PetscReal rnorm;
  NEUROPS_PETSC(KSPGetConvergedReason(m.ksp, &reason));
  NEUROPS_PETSC(KSPGetIterationNumber(m.ksp, &its));
  NEUROPS_PETSC(KSPGetResidualNorm(m.ksp, &rnorm));
  info_.iterations = its;
  info_.residual_norm = rnorm;
  info_.reason = KSPConvergedReasons[reason];
  NEUROPS_CHECK(reason > 0, "Darcy linear solve ("
                                << info_.ksp_type << " + " << info_.pc_type << ", " << n_ << "x" << n_
                                << " nodes) did not converge: KSP reason " << info_.reason << " (" << int(reason)
                                << ") after " << its << " iterations, residual norm " << rnorm << "; change -"
                                << settings_.options_prefix << "ksp_type/-" << settings_.options_prefix
                                << "pc_type or raise -" << settings_.options_prefix << "ksp_max_it");
}

Tensor<double> DarcySolver::solution_tensor() {
  Impl& m = *impl_;
  NEUROPS_PETSC(DMDAGlobalToNaturalBegin(m.da, m.x, INSERT_VALUES, m.natural));
  NEUROPS_PETSC(DMDAGlobalToNaturalEnd(m.da, m.x, INSERT_VALUES, m.natural));
  NEUROPS_PETSC(VecScatterBegin(m.to_all, m.natural, m.gathered, INSERT_VALUES, SCATTER_FORWARD));
  NEUROPS_PETSC(VecScatterEnd(m.to_all, m.natural, m.gathered, INSERT_VALUES, SCATTER_FORWARD));
  const PetscScalar* all;
  NEUROPS_PETSC(VecGetArrayRead(m.gathered, &all));
  Tensor<double> u = Tensor<double>::uninitialized({n_, n_});
  std::copy(all, all + n_ * n_, u.begin());
  NEUROPS_PETSC(VecRestoreArrayRead(m.gathered, &all));
  // The boundary values are known exactly; the iterative solve only approximates them.
  for (index_t i = 0; i < n_; ++i) u(0, i) = u(n_ - 1, i) = u(i, 0) = u(i, n_ - 1) = 0.0;
  return u;
}

Tensor<double> DarcySolver::solve(const Tensor<double>& a, const Tensor<double>& f) {
  assemble(a, f);
  NEUROPS_PETSC(VecZeroEntries(impl_->x));
  solve(impl_->b, impl_->x, false);
  return solution_tensor();
}

Tensor<double> DarcySolver::solve(const Tensor<double>& a, const Tensor<double>& f,
                                  const Tensor<double>& initial_guess) {
  check_shape(initial_guess.shape(), {n_, n_}, "Darcy initial guess");
  assemble(a, f);
  Tensor<double> guess = initial_guess;
  guess.reshape({1, 1, n_, n_});
  solvers::from_tensor(impl_->da, guess, impl_->x);
  solve(impl_->b, impl_->x, true);
  return solution_tensor();
}

DM DarcySolver::dm() const { return impl_->da; }
Mat DarcySolver::matrix() const { return impl_->A; }
KSP DarcySolver::ksp() const { return impl_->ksp; }
Vec DarcySolver::rhs() const { return impl_->b; }
Vec DarcySolver::solution() const { return impl_->x; }

Tensor<double> DarcySolver::apply(const Tensor<double>& a, const Tensor<double>& u) const {
  check_shape(a.shape(), {n_, n_}, "Darcy coefficient");
  check_shape(u.shape(), {n_, n_}, "Darcy solution");
  const double h = 1.0 / double(n_ - 1);
  Tensor<double> out(u);
  for (index_t j = 1; j < n_ - 1; ++j)
    for (index_t i = 1; i < n_ - 1; ++i) {
      double s = 0;
      const int di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
      for (int q = 0; q < 4; ++q)
        s += face_value(settings_.face_average, a(j, i), a(j + dj[q], i + di[q])) * (u(j, i) - u(j + dj[q], i + di[q]));
      out(j, i) = s / (h * h);
    }
  return out;
}

Tensor<double> threshold_coefficient(const Tensor<double>& field, double high, double low) {
  Tensor<double> a = Tensor<double>::uninitialized(field.shape());
  for (index_t p = 0; p < field.numel(); ++p) a[p] = field[p] >= 0 ? high : low;
  return a;
}

Tensor<double> lognormal_coefficient(const Tensor<double>& field) {
  Tensor<double> a = Tensor<double>::uninitialized(field.shape());
  for (index_t p = 0; p < field.numel(); ++p) a[p] = std::exp(field[p]);
  return a;
}

nn::FieldDataset<float> darcy_dataset(index_t n, index_t count, std::uint64_t seed, const std::string& label,
                                      index_t* mean_iterations, index_t first, MPI_Comm comm) {
  DirichletGrf grf(n, GrfSpectrum{.alpha = 2.0, .tau = 3.0});
  DarcySettings settings;
  settings.rtol = 1e-8;
  settings.comm = comm;
  DarcySolver solver(n, settings);
  nn::FieldDataset<float> d(Tensor<float>({count, 1, n, n}), Tensor<float>({count, 1, n, n}));
  Progress progress(count, label.empty() ? "Darcy" : label, label.empty() ? 1e300 : 10.0);
  index_t iterations = 0;
  for (index_t s = 0; s < count; ++s) {
    Rng rng = Rng::stream(seed, static_cast<std::uint64_t>(first + s));
    const Tensor<double> a = threshold_coefficient(grf.sample(rng));
    const Tensor<double> u = solver.solve(a);
    iterations += solver.last_solve().iterations;
    std::transform(a.begin(), a.end(), d.inputs.data() + s * n * n, [](double v) { return static_cast<float>(v); });
    std::transform(u.begin(), u.end(), d.targets.data() + s * n * n, [](double v) { return static_cast<float>(v); });
    if (!label.empty()) progress.update(s + 1);
  }
  if (!label.empty()) progress.finish();
  if (mean_iterations) *mean_iterations = count > 0 ? iterations / count : 0;
  return d;
}

}  // namespace neurops::pde
