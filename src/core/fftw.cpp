#include "neurops/core/fftw.hpp"

#include <fftw3.h>

namespace neurops {

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

void fftw_init_threads_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    fftw_init_threads();
    fftwf_init_threads();
  });
}

}  // namespace neurops
