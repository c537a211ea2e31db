#!/usr/bin/python3
"""PyTorch CPU peer of bench/spectral_conv.cpp.

The neuraloperator/FNO-reference SpectralConv2d (torch.fft.rfft2, einsum mixing on the two kept
corners, irfft2) forward+backward, and one torch.optim.Adam step over a flat parameter, timed with
the same sizes, dtype (float32) and thread count as the C++ side. Prints "key value" lines.

With --check DIR it also reads the input, weights and output the C++ side wrote there (raw float32)
and prints the largest difference between the two forward passes.
"""
import argparse
import os
import statistics
import time

import torch


def spectral_conv2d(x, w1, w2, m1, m2):
    b, _, h, w = x.shape
    x_ft = torch.fft.rfft2(x)
    out_ft = torch.zeros(b, w1.shape[1], h, w // 2 + 1, dtype=torch.cfloat)
    out_ft[:, :, :m1, :m2] = torch.einsum("bixy,ioxy->boxy", x_ft[:, :, :m1, :m2], w1)
    out_ft[:, :, -m1:, :m2] = torch.einsum("bixy,ioxy->boxy", x_ft[:, :, -m1:, :m2], w2)
    return torch.fft.irfft2(out_ft, s=(h, w))


def median_ms(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--grid", type=int, default=64)
    ap.add_argument("--modes", type=int, default=12)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--adam-params", type=int, default=1 << 20)
    ap.add_argument("--check", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c, m = a.channels, a.modes
    x = torch.randn(a.batch, c, a.grid, a.grid)
    scale = 1.0 / (c * c)
    w1 = torch.nn.Parameter(scale * torch.rand(c, c, m, m, dtype=torch.cfloat))
    w2 = torch.nn.Parameter(scale * torch.rand(c, c, m, m, dtype=torch.cfloat))
    dy = torch.randn(a.batch, c, a.grid, a.grid)
    xr = x.clone().requires_grad_(True)

    def step():
        w1.grad = w2.grad = xr.grad = None
        y = spectral_conv2d(xr, w1, w2, m, m)
        y.backward(dy)

    print("torch_spectral_conv_ms", median_ms(step, a.runs))
    with torch.no_grad():
        print("torch_spectral_forward_ms", median_ms(lambda: spectral_conv2d(x, w1, w2, m, m), a.runs))

    p = torch.nn.Parameter(torch.randn(a.adam_params))
    p.grad = torch.randn(a.adam_params)
    opt = torch.optim.Adam([p], lr=1e-3)
    print("torch_adam_ms", median_ms(opt.step, max(a.runs, 20)))

    if a.check:
        shape = lambda *s: [int(v) for v in s]
        xb, cb, g, mb = [int(v) for v in open(os.path.join(a.check, "sizes.txt")).read().split()]
        import numpy as np
        def load(name, s):
            return torch.from_numpy(np.fromfile(os.path.join(a.check, name), dtype=np.float32).reshape(s))
        xc = load("x.bin", shape(xb, cb, g, g))
        wc1 = torch.view_as_complex(load("weight0.bin", shape(cb, cb, mb, mb, 2)).contiguous())
        wc2 = torch.view_as_complex(load("weight1.bin", shape(cb, cb, mb, mb, 2)).contiguous())
        yc = load("y.bin", shape(xb, cb, g, g))
        dyc = load("dy.bin", shape(xb, cb, g, g))
        wc1.requires_grad_(True)
        wc2.requires_grad_(True)
        xg = xc.clone().requires_grad_(True)
        ref = spectral_conv2d(xg, wc1, wc2, mb, mb)
        ref.backward(dyc)
        # Gradients of complex weights in torch are dL/dRe + i dL/dIm, the convention of the real pairs.
        pairs = [
            ("forward", ref.detach(), yc),
            ("input gradient", xg.grad, load("dx.bin", shape(xb, cb, g, g))),
            ("weight0 gradient", torch.view_as_real(wc1.grad), load("dweight0.bin", shape(cb, cb, mb, mb, 2))),
            ("weight1 gradient", torch.view_as_real(wc2.grad), load("dweight1.bin", shape(cb, cb, mb, mb, 2))),
        ]
        worst = max(float((a - b).abs().max()) / max(float(a.abs().max()), 1e-30) for _, a, b in pairs)
        print("check_relative_diff", worst)

if __name__ == "__main__":
    main()
