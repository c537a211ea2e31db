#pragma once
// Negative-Sobolev norm of the 2-D Navier-Stokes residual of a vorticity trajectory, the error
// indicator and fine-tuning loss of the Spectral-Refiner (torch-cfd `fno/finetune.py` OutConvFT and
// `fno/losses.py` SobolevLoss), computed as that reference computes it, or with the time derivative
// taken from the frames themselves.
//
// Two choices of w_t (NsResidualSettings::time_derivative):
//   - reference_imex (default): the reference's per-frame IMEX rate described below. R -> 0 as dt -> 0
//     for any field, so it does not tell whether the frames evolve by the Navier-Stokes equations; it
//     weighs each frame's fine-scale content. Use it as the reference's fine-tuning loss (and to
//     compare with the reference).
//   - frames: w_t,k from the frames w_0 .. w_{T-1} of each trajectory, spaced by frame_dt, by
//     second-order finite differences: (w_{k+1} - w_{k-1}) / (2 dt_f) inside, (-3 w_0 + 4 w_1 - w_2) /
//     (2 dt_f) and (3 w_{T-1} - 4 w_{T-2} + w_{T-3}) / (2 dt_f) at the ends (T >= 3), and
//         R_k = w_t,k + C(w_k) - A w_k - f,
//     the Navier-Stokes residual of the trajectory itself (the negative of f - w_t - C + nu Lap w; the
//     norm does not see the sign). It vanishes only when consecutive frames are related by the
//     equations: a solver trajectory recorded every step gives R = O(dt_f^2), a trajectory whose frames
//     are off gives a residual that grows with their error (in proportion once that error dominates the
//     difference formula's). Use it as the a-posteriori error indicator of a predicted trajectory
//     (FNO/SFNO rollouts); frames far apart in time add the O(dt_f^2 w_ttt) error of the difference
//     formula. C, A, f, the dealiasing and the Nyquist / k = 0 conventions
//     below are the same in both modes (so a trajectory with a non-zero mean gets nu mean(w) in R),
//     as are the norm, the power, alpha, the per-step values and the total. The gradient includes the
//     difference stencil, which couples neighbouring frames.
//
// The reference mode:
//
// Every frame w (an (n, n) field on the torus [0, 1)^2, rows along y, columns along x, as the rest of
// pde/) is treated on its own: its time derivative is not a difference between frames but the rate of
// one IMEX Crank-Nicolson step of size h from w (solvers.py imex_crank_nicolson_step),
//
//     w_h = (w + h (f - C(w)) + (h/2) A w) / (1 - (h/2) A),      w_t(h) = (w_h - w) / h,
//
// with A = nu Lap and C(w) = dealias(u . grad w), u = (psi_y, -psi_x), -Lap psi = w. The reference
// takes both h = -dt and h = +dt and mixes them with weights (a, b) (OutConvFT.bdf_weight):
//
//     w_t = a w_t(-dt) + b w_t(+dt),     w_bar = a w_{-dt} + b w_{+dt},
//     R   = w_t + C(w_bar) - A w_bar - f          (update_residual, evaluated at w_bar, not at w).
//
// Algebraically w_t(h) = G / (1 - (h/2) A) with G = f - C(w) + A w, so R vanishes as dt -> 0 whatever
// w is: R = O(dt^2) for (a, b) = (1/2, 1/2) (the fine-tuning notebook), R = O(dt) for (0, 1)
// (OutConvFT's default). The indicator therefore weighs how the single-frame NS operator acts on
// w's content (mostly its fine scales, through A^2 and A^3 terms) rather than the time evolution
// between frames. This code evaluates the same R but from the closed form above: the reference's
// (w_h - w)/h loses about |log10 dt| digits to cancellation (at its dt = 1e-6, float64, that rounding
// is of the size of R itself); here no digits are lost.
//
// Reference conventions kept on purpose (they matter for fields that are not mean-free or that carry
// Nyquist content): the Laplacian symbol is 1 (not 0) at k = 0, so A w includes nu mean(w); the
// reference indexes (x, y) and halves y in its rfft2, so its d/dy is 0 on the Nyquist wavenumber
// |k_y| = n/2 and its d/dx uses k_x = -n/2 there for k_y > 0 (+n/2 for k_y < 0, 0 for k_y = 0 or n/2:
// what its irfft2 of the non-Hermitian derivative spectrum keeps); the 2/3 rule keeps
// |k_x|, |k_y| <= (2/3)(n/2).
//
// The norm (SobolevLoss with norm_order = -1, relative = false, time_average = true): per frame
//     q(b, t) = ( sum_k (alpha + 4 pi^2 |k|^2)^(2 p) |R_hat_k|^2 )^(1/2),   R_hat = unnormalised fft2(R),
// summed over the full n x n spectrum (exact through Parseval: q = n^2 RMS_x((alpha - Lap)^p R)); the
// total is mean_b (mean_t q^2)^(1/2). SobolevLoss applies the power p = norm_order / 4 = -1/4 (it
// takes the square root of alpha + 4 pi^2 |k|^2 and raises that to norm_order / 2); p = -1/2 gives
// the H^-1-type norm ||(alpha - Lap)^(-1/2) R||. `grid_mean` divides q and the total by n^2 so that
// values of different grids compare.
#include <cmath>
#include <memory>

#include "neurops/core/tensor.hpp"

namespace neurops::pde {

/// How the residual's time derivative is obtained (see the header comment).
enum class NsTimeDerivative {
  reference_imex,  // each frame on its own: the rate of IMEX steps of -+dt (the reference's loss)
  frames,          // second-order finite differences between the frames, spaced by frame_dt
};

struct NsResidualSettings {
  double viscosity = 1e-3;           // nu > 0
  double forcing_amplitude = 0.1;    // f = A (sin + cos)(2 pi (x + y)), as NavierStokes2d
  double alpha = 0.031622776601683;  // 10^(-3/2), the fine-tuning notebook's SobolevLoss alpha
  double power = -0.25;              // p of (alpha + 4 pi^2 |k|^2)^p; SobolevLoss(norm_order=-1) is -1/4
  NsTimeDerivative time_derivative = NsTimeDerivative::reference_imex;  // how w_t is obtained (see above)
  double frame_dt = 0;        // spacing in time of the trajectory's frames; > 0, required by `frames`
  double dt = 1e-6;           // h of the IMEX steps that define w_t (OutConvFT dt); reference_imex only
  double weight_minus = 0.5;  // a, weight of the step of size -dt (notebook: bdf_weight (0.5, 0.5);
  double weight_plus = 0.5;   // b, weight of +dt                    OutConvFT's default is (0, 1))
  bool dealias = true;        // 2/3 rule on C(.)
  bool grid_mean = false;     // q / n^2 (RMS over the grid) instead of the reference's sum
  int threads = 0;            // OpenMP threads over frames; 0: omp_get_max_threads()
};

struct NsResidualNorms {
  Tensor<double> per_step;  // q(b, t), shape (B, T)
  double total = 0;         // mean_b (mean_t q(b, t)^2)^(1/2)
};

/// Holds FFT plans and per-thread buffers: use one object per calling thread.
class NsResidual {
 public:
  /// n x n grid (even n >= 4). Throws on non-finite or out-of-range settings, naming the field.
  NsResidual(index_t n, const NsResidualSettings& settings = {});
  ~NsResidual();
  NsResidual(NsResidual&&) noexcept;
  NsResidual& operator=(NsResidual&&) noexcept;

  /// Replaces the forcing field f (shape (n, n)); the default is settings.forcing_amplitude's.
  void set_forcing(const Tensor<double>& f);

  /// Norms of a trajectory w of shape (T, n, n) (one batch entry) or (B, T, n, n); the frames mode
  /// needs T >= 3.
  NsResidualNorms norms(const Tensor<double>& w) const;
  /// The total norm and its gradient with respect to w (same shape as w).
  double value_and_gradient(const Tensor<double>& w, Tensor<double>& gradient) const;
  /// Single-precision trajectories (a float32 model's output): evaluated in double, the gradient
  /// rounded to float.
  NsResidualNorms norms(const Tensor<float>& w) const;
  double value_and_gradient(const Tensor<float>& w, Tensor<float>& gradient) const;
  /// The residual field R (same shape as w), and w_t (the reference's `w_t`, or the frames'
  /// difference quotient) when asked for.
  Tensor<double> residual(const Tensor<double>& w, Tensor<double>* w_t = nullptr) const;

  index_t n() const noexcept { return n_; }
  const NsResidualSettings& settings() const noexcept { return settings_; }

 private:
  struct Impl;
  index_t n_;
  NsResidualSettings settings_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neurops::pde
