#pragma once
// When a parallel region pays for itself.
//
// A simulation code calls a trained operator one field at a time, so a forward pass at batch 1 is a
// chain of small loops. Each OpenMP region costs a fork/join, and with OMP_WAIT_POLICY=passive (or an
// oversubscribed machine) a futex wake-up of every sleeping thread: tens of microseconds. Below
// `kParallelMinWork` scalar operations a loop therefore runs on the calling thread, and callers branch
// on `run_parallel(work)` around the pragma rather than writing `#pragma omp parallel if (...)`, because
// libgomp still builds (and allocates) a team for a region whose `if` clause is false.
#include <omp.h>

namespace neurops {

/// Scalar operations (multiply-adds, element updates) below which a loop runs serially.
inline constexpr double kParallelMinWork = double(1 << 20);

/// True when `work` scalar operations are worth a parallel region and more than one thread is
/// available outside any enclosing parallel region.
inline bool run_parallel(double work) {
  return work >= kParallelMinWork && omp_get_max_threads() > 1 && !omp_in_parallel();
}

}  // namespace neurops
