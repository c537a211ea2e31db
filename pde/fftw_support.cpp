#include "fftw_support.hpp"

#include <fftw3.h>
#include <omp.h>

namespace neurops::pde::detail {

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

void fftw_plan_threads(int threads) {
  static std::once_flag once;
  std::call_once(once, [] { fftw_init_threads(); });
  fftw_plan_with_nthreads(threads > 0 ? threads : omp_get_max_threads());
}

}  // namespace neurops::pde::detail
