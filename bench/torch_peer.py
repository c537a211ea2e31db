"""Timing protocol shared by the PyTorch peers of the model benchmarks (bench/*_train_step.py):
a warm-up call, then the median of `runs` timed calls, printed as 'torch_<name>_ms <median>' lines
that the C++ side (bench/torch_peer.hpp) collects, and the process's peak resident memory."""
import resource
import statistics
import time


def report_medians(functions, runs):
    """functions: (name, callable) pairs; prints torch_<name>_ms for each, then torch_peak_rss_mb."""
    for name, fn in functions:
        fn()
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e3)
        print(f"torch_{name}_ms {statistics.median(times):.3f}", flush=True)
    print(f"torch_peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", flush=True)
