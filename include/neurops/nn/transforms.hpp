#pragma once
// FFTW plan cache and the spectral transform layers (orthonormal DCT-II/III, rFFT, irFFT).
//
// Plans are created once per (kind, transform dims, loop dims, direction, precision, alignment,
// threads) and reused for the life of the process. Planning runs under one mutex because the FFTW
// planner is not thread-safe; execution goes through the new-array functions
// (fftw_execute_dft_r2c & co.), which are, so several threads may share a plan.
//
// Planner effort: FFTW_ESTIMATE by default, because tests, resolution studies and zero-shot
// super-resolution meet many shapes and MEASURE costs about 0.3 s of planning per new SpectralConv
// shape (64^2). MEASURE made the FNO layer of bench/spectral_conv 0-15% faster (forward+backward,
// batch 16, 32 channels, 64^2, 12 modes), so long training runs should call
// set_fft_planner_effort(FftPlannerEffort::measure) before the first forward pass. (MEASURE may
// choose other algorithms in another process, so results can then differ in the last bits;
// ESTIMATE plans, and so results, are the same on every run of the same build.)
//
// Threading: a transform's outermost loop (batch x channels) is split over the OpenMP threads, each
// executing the same cached plan on its block (FftThreading::openmp_split, the default), or FFTW
// plans with fftw_plan_with_nthreads (FftThreading::fftw_threads). On the shared 2-core build
// machine the OpenMP split was as fast or faster for a 2-D rFFT layer of FNO size (forward+backward
// of (16, 32, 64, 64): 20-22 ms against 23-31 ms; bench/spectral_conv prints both), and it composes
// with the library's own OpenMP loops: called from inside a parallel region it runs on the calling
// thread instead of oversubscribing. So it is the default.
// SpectralConv uses neither: each OpenMP thread transforms its own blocks of signals.
// Transforms of fewer than 32768 elements always run on the calling thread.
//
// Layouts follow PyTorch: complex spectra are real tensors with a trailing (re, im) axis, and the
// normalisation is torch.fft's default "backward" (forward unscaled, inverse scaled by 1/N).
#include <complex>
#include <cstdint>
#include <vector>

#include "neurops/nn/module.hpp"

namespace neurops::nn {

enum class FftPlannerEffort { estimate, measure };
enum class FftThreading { openmp_split, fftw_threads };

void set_fft_planner_effort(FftPlannerEffort effort);
FftPlannerEffort fft_planner_effort();
void set_fft_threading(FftThreading threading);
FftThreading fft_threading();
/// Number of distinct plans created so far (both precisions).
std::size_t fft_plan_count();

/// One loop or transform dimension in FFTW's guru notation (extent, input and output strides, in
/// elements of the respective array type).
struct FftDim {
  int n;
  std::int64_t is, os;
};

/// A cached plan for repeated execution on arrays of the planned layout, e.g. per signal inside an
/// OpenMP loop. `aligned` plans need arrays whose alignment matches FFTW's SIMD alignment
/// (Fft<T>::simd_aligned); the others accept any address.
template <class T>
class FftPlan {
 public:
  FftPlan() = default;
  /// in/out: T* or std::complex<T>* as the plan's kind requires; in == out for in-place plans.
  void execute(void* in, void* out) const;
  bool valid() const noexcept { return plan_ != nullptr; }

 private:
  template <class U>
  friend struct Fft;
  FftPlan(void* plan, int kind) : plan_(plan), kind_(kind) {}
  void* plan_ = nullptr;
  int kind_ = 0;
};

/// Guru-interface transforms with cached plans. `dims` are the transformed axes, `loops` the
/// "howmany" loops; the first loop is split over OpenMP threads (FftThreading::openmp_split).
template <class T>
struct Fft {
  using Complex = std::complex<T>;
  /// Real -> half spectrum along the last transformed axis (unnormalised).
  static void r2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, const T* in, Complex* out);
  /// Half spectrum -> real (unnormalised). Destroys `in`.
  static void c2r(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, Complex* in, T* out);
  /// Complex -> complex, sign -1 (forward) or +1 (backward), unnormalised; in == out allowed.
  static void c2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, Complex* in, Complex* out,
                  int sign);
  /// Unnormalised FFTW REDFT10 (DCT-II, inverse = false) or REDFT01 (DCT-III, inverse = true) on
  /// every transformed axis.
  static void dct(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, const T* in, T* out, bool inverse);

  /// Cached plans for single-threaded execution (FftPlan::execute) on arrays of this layout.
  static FftPlan<T> plan_r2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, bool aligned);
  static FftPlan<T> plan_c2r(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, bool aligned);
  static FftPlan<T> plan_c2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, int sign, bool in_place,
                             bool aligned);
  /// Whether p has the alignment FFTW's SIMD code wants (16 bytes).
  static bool simd_aligned(const void* p);

  // Convenience wrappers for contiguous data: `howmany` transforms over the trailing grid `n`.
  /// (howmany, n...) real -> (howmany, n..., n_last/2+1) complex.
  static void rfftn(const std::vector<index_t>& n, index_t howmany, const T* in, Complex* out);
  /// (howmany, n..., n_last/2+1) complex -> (howmany, n...) real, unnormalised; destroys `in`.
  static void irfftn_unnormalised(const std::vector<index_t>& n, index_t howmany, Complex* in, T* out);
};

/// Orthonormal DCT-II over the trailing `axes` axes (inverse = false), or its inverse and
/// transpose, the orthonormal DCT-III (inverse = true). Matches scipy.fft.dctn(norm="ortho").
template <class T>
Tensor<T> dct_ortho(const Tensor<T>& x, int axes, bool inverse);

/// Orthonormal DCT-II (or DCT-III) over the trailing `axes` axes as a layer; the backward pass is
/// the transpose, i.e. the other transform.
template <class T>
class Dct : public ModuleImpl<Dct<T>, T> {
 public:
  Dct(int axes, bool inverse = false);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return inverse_ ? "DctIII" : "DctII"; }

 private:
  int axes_;
  bool inverse_;
  Shape input_shape_;
};

/// rfftn over the trailing `axes` axes: (..., n1..nd) real -> (..., n1..n_{d-1}, nd/2+1, 2).
template <class T>
class Rfft : public ModuleImpl<Rfft<T>, T> {
 public:
  explicit Rfft(int axes);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "Rfft"; }

 private:
  int axes_;
  Shape input_shape_;
};

/// irfftn over the trailing `axes` axes (before the (re, im) axis):
/// (..., n1..n_{d-1}, h, 2) -> (..., n1..nd) real, with nd = last_size (default 2(h-1)), scaled by 1/N
/// like torch.fft.irfftn. Imaginary parts of self-conjugate entries are ignored, as in torch.
template <class T>
class Irfft : public ModuleImpl<Irfft<T>, T> {
 public:
  explicit Irfft(int axes, index_t last_size = 0);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "Irfft"; }

 private:
  int axes_;
  index_t last_size_;
  Shape input_shape_;
};

namespace detail {
/// Weight of a half-spectrum entry k of the last axis (length n) in the full spectrum: 1 for the
/// self-conjugate entries (k = 0 and, for even n, k = n/2), 2 for the others.
inline int hermitian_multiplicity(index_t k, index_t n) { return (k == 0 || 2 * k == n) ? 1 : 2; }
}  // namespace detail

extern template class FftPlan<float>;
extern template class FftPlan<double>;
extern template struct Fft<float>;
extern template struct Fft<double>;
extern template class Dct<float>;
extern template class Dct<double>;
extern template class Rfft<float>;
extern template class Rfft<double>;
extern template class Irfft<float>;
extern template class Irfft<double>;

}  // namespace neurops::nn
