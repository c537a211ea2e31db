#pragma once
// FFTW's planner is not thread-safe (plan execution is). Every FFTW plan neurops makes — the
// layers' plan cache in nn/ and the PDE solvers in pde/ — is created under this one lock, and
// FFTW's threading support is initialised once for both precisions.
#include <mutex>

namespace neurops {

std::mutex& fftw_planner_mutex();
/// fftw_init_threads / fftwf_init_threads, once per process (call with the planner lock held or not).
void fftw_init_threads_once();

}  // namespace neurops
