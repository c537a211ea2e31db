#pragma once
// FFTW helpers shared by the pde/ sources (not installed): plan creation is not thread-safe in
// FFTW, so every plan is made under one lock; the threading library is initialised once.
#include <fftw3.h>

#include <complex>
#include <cstddef>
#include <memory>
#include <mutex>

namespace neurops::pde::detail {

/// The lock every FFTW planner call in this library takes.
std::mutex& fftw_planner_mutex();
/// Initialises FFTW's OpenMP threading once and sets the thread count for plans made next.
void fftw_plan_threads(int threads);

struct FftwFree {
  void operator()(void* p) const noexcept { fftw_free(p); }
};
/// SIMD-aligned FFTW buffer of n elements (double or fftw_complex), zero-initialised.
template <class T>
std::unique_ptr<T[], FftwFree> fftw_buffer(std::size_t n) {
  auto* p = static_cast<T*>(fftw_malloc(sizeof(T) * (n ? n : 1)));
  if (!p) throw std::bad_alloc();
  for (std::size_t i = 0; i < n; ++i) p[i] = T{};
  return std::unique_ptr<T[], FftwFree>(p);
}
using ComplexBuffer = std::unique_ptr<std::complex<double>[], FftwFree>;
using RealBuffer = std::unique_ptr<double[], FftwFree>;

/// Owning fftw_plan.
class FftwPlan {
 public:
  FftwPlan() = default;
  explicit FftwPlan(fftw_plan p) : p_(p) {}
  ~FftwPlan() { reset(); }
  FftwPlan(const FftwPlan&) = delete;
  FftwPlan& operator=(const FftwPlan&) = delete;
  FftwPlan(FftwPlan&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  FftwPlan& operator=(FftwPlan&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  void reset() noexcept {
    if (p_) {
      std::lock_guard<std::mutex> lock(fftw_planner_mutex());
      fftw_destroy_plan(p_);
    }
    p_ = nullptr;
  }
  fftw_plan get() const noexcept { return p_; }
  void execute() const { fftw_execute(p_); }

 private:
  fftw_plan p_ = nullptr;
};

inline fftw_complex* as_fftw(std::complex<double>* p) { return reinterpret_cast<fftw_complex*>(p); }

}  // namespace neurops::pde::detail
