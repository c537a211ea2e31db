#pragma once
// 2-D incompressible Navier-Stokes in vorticity form on the periodic unit torus [0, 1)^2:
//
//     w_t + u . grad w = nu Laplacian w + f,   u = (d psi/dy, -d psi/dx),   -Laplacian psi = w,
//
// with the forcing of the FNO/Spectral-Refiner data, f = A (sin 2 pi (x + y) + cos 2 pi (x + y)),
// A = 0.1 by default. Pseudo-spectral in space (FFTW r2c/c2r, plans made once per solver), the
// advection term dealiased by the 2/3 rule (Fourier modes with |k_x| or |k_y| > (2/3)(n/2) of the
// product are dropped, as in FNO's ns_2d.py), and a second-order IMEX step in time: Crank-Nicolson
// for the viscous term and Heun's method (explicit trapezoidal RK2) for advection and forcing,
//
//     w*      = [(1 - dt nu L/2) w^n + dt (N(w^n) + f)] / (1 + dt nu L/2)
//     w^{n+1} = [(1 - dt nu L/2) w^n + dt ((N(w^n) + N(w*))/2 + f)] / (1 + dt nu L/2),
//
// L = 4 pi^2 |k|^2 the symbol of -Laplacian and N(w) = -dealias(FFT(u . grad w)).
// Grid x_i = i / n; fields are (n, n) tensors with rows along y and columns along x.
//
// Reproducibility: plans default to FFTW_ESTIMATE, whose plans (and so results) are identical from
// run to run; `measure_plans` picks FFTW_MEASURE, faster but chosen by timing, so the last bits of a
// trajectory may differ between runs.
#include <memory>
#include <vector>

#include "neurops/core/tensor.hpp"

namespace neurops::pde {

struct NavierStokesSettings {
  index_t n = 256;                 // grid points per side (even, >= 8)
  double viscosity = 1e-3;         // nu > 0
  double dt = 1e-3;                // time step
  double forcing_amplitude = 0.1;  // A in f = A (sin 2 pi (x+y) + cos 2 pi (x+y)); 0 switches it off
  double max_cfl = 1.0;            // a step with dt max(|u|+|v|)/h above this is an Error
  int threads = 0;                 // OpenMP + FFTW threads; 0: omp_get_max_threads() from n = 256 up, else 1
  bool measure_plans = false;      // FFTW_MEASURE instead of the reproducible FFTW_ESTIMATE
};

struct FlowDiagnostics {
  double time = 0;
  double energy = 0;     // (1/2) mean |u|^2
  double enstrophy = 0;  // (1/2) mean w^2
  double cfl = 0;        // dt max(|u| + |v|) / h
  double max_velocity = 0;
};

/// How a field is brought to a coarser grid.
enum class Coarsening {
  spectral,   // keep the Fourier modes |k| < m/2 of the fine field (exact band-limited restriction)
  subsample,  // take every (n/m)-th point, as FNO's data sets do (n must be a multiple of m)
  bilinear,   // PyTorch F.interpolate(mode="bilinear", align_corners=False), as the Spectral-Refiner's
              // data: point i samples the fine grid at (i + 1/2) n/m - 1/2 (n a multiple of m; for
              // n = 4m the mean of the 2 x 2 fine points 4i+1, 4i+2)
};

class NavierStokes2d {
 public:
  explicit NavierStokes2d(const NavierStokesSettings& settings);
  ~NavierStokes2d();
  NavierStokes2d(NavierStokes2d&&) noexcept;
  NavierStokes2d& operator=(NavierStokes2d&&) noexcept;

  /// Sets the vorticity (shape (n, n)) and the time.
  void set_vorticity(const Tensor<double>& w, double time = 0.0);
  Tensor<double> vorticity() const;
  double time() const noexcept { return time_; }
  index_t steps_taken() const noexcept { return steps_; }
  const NavierStokesSettings& settings() const noexcept { return settings_; }

  /// One IMEX step of size dt. Throws when the CFL number exceeds max_cfl (the state is not advanced).
  void step();
  /// Steps until `t` (must be reached by a whole number of steps from the current time).
  void run_to(double t);
  /// Runs through increasing `times`, returning the vorticity at each, shape (times, m, m) where m is
  /// `coarse_n` (0: the solver's n) obtained by `coarsening`.
  Tensor<double> run(const std::vector<double>& times, index_t coarse_n = 0,
                     Coarsening coarsening = Coarsening::spectral);

  FlowDiagnostics diagnostics() const;
  /// Velocity (u, v) of the current state, shape (2, n, n).
  Tensor<double> velocity() const;

  /// Restricts a periodic (n, n) field to (m, m).
  static Tensor<double> coarsen(const Tensor<double>& field, index_t m, Coarsening coarsening);
  /// The forcing field on an n x n grid.
  static Tensor<double> forcing(index_t n, double amplitude);

 private:
  struct Impl;
  NavierStokesSettings settings_;
  double time_ = 0;
  index_t steps_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neurops::pde
