#include "fftw_support.hpp"

#include <fftw3.h>
#include <omp.h>

#include "neurops/core/fftw.hpp"

namespace neurops::pde::detail {

std::mutex& fftw_planner_mutex() { return neurops::fftw_planner_mutex(); }

void fftw_plan_threads(int threads) {
  neurops::fftw_init_threads_once();
  fftw_plan_with_nthreads(threads > 0 ? threads : omp_get_max_threads());
}

}  // namespace neurops::pde::detail
