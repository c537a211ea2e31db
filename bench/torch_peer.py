"""Timing protocol shared by the PyTorch peers of the model benchmarks (bench/*_train_step.py):
a warm-up call, then the median of `runs` timed calls, printed as 'torch_<name>_ms <median>' lines
that the C++ side (bench/torch_peer.hpp) collects, and the process's peak resident memory."""
import resource
import statistics
import time

import torch


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


def rel_l2(pred, y):
    """Mean over the batch of the per-sample relative L2 error (neurops' LpLoss(d, 2))."""
    n = pred.shape[0]
    diff = torch.norm(pred.reshape(n, -1) - y.reshape(n, -1), dim=1)
    return torch.mean(diff / torch.norm(y.reshape(n, -1), dim=1))


def report_field_model(model, x, y, runs):
    """Times one Adam training step (relative-L2 loss) and one inference pass of a field-to-field
    model, as bench/torch_peer.hpp's time_field_model does on the neurops side."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = rel_l2(model(x), y)
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model(x)

    report_medians((("train", step), ("infer", infer)), runs)
