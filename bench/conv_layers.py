#!/usr/bin/env python3
"""PyTorch CPU peer of bench/conv_layers.cpp: forward + backward (input, weight and bias gradients)
of the same convolutions, same threads and dtype. Prints one line per case:
    RESULT <case> <forward ms> <backward ms> <total ms>
(medians over --runs). With --check IN OUT it also reads inputs/weights/output gradients written by
the C++ side (HDF5), and writes PyTorch's y, dx, dW, db for them, so both sides can be compared.

Run with Debian's interpreter: OMP_NUM_THREADS=2 /usr/bin/python3 bench/conv_layers.py --threads 2
"""
import argparse
import statistics
import time

import torch


def cases(smoke):
    # name, dims, batch, channels, grid extent
    if smoke:
        return [("conv2d", 2, 2, 8, 16), ("conv3d", 3, 1, 4, 8)]
    return [("conv2d", 2, 16, 24, 64), ("conv3d", 3, 1, 16, 64)]


def make_conv(dims, channels, dtype):
    cls = torch.nn.Conv2d if dims == 2 else torch.nn.Conv3d
    return cls(channels, channels, 3, padding=1, padding_mode="zeros").to(dtype)


def time_case(dims, batch, channels, n, runs, dtype):
    torch.manual_seed(0)
    conv = make_conv(dims, channels, dtype)
    x = torch.randn([batch, channels] + [n] * dims, dtype=dtype, requires_grad=True)
    dy = torch.randn([batch, channels] + [n] * dims, dtype=dtype)
    fwd, bwd = [], []
    for r in range(runs + 1):  # the first run warms up
        conv.zero_grad()
        x.grad = None
        t0 = time.perf_counter()
        y = conv(x)
        t1 = time.perf_counter()
        y.backward(dy)
        t2 = time.perf_counter()
        if r > 0:
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
    tot = [a + b for a, b in zip(fwd, bwd)]
    return statistics.median(fwd), statistics.median(bwd), statistics.median(tot)


def check(path_in, path_out, dtype):
    import h5py
    with h5py.File(path_in, "r") as f, h5py.File(path_out + ".tmp", "w") as g:
        for name in f.keys():
            grp = f[name]
            x = torch.tensor(grp["x"][...], dtype=dtype, requires_grad=True)
            w = torch.tensor(grp["weight"][...], dtype=dtype, requires_grad=True)
            b = torch.tensor(grp["bias"][...], dtype=dtype, requires_grad=True)
            dy = torch.tensor(grp["dy"][...], dtype=dtype)
            pad = int(grp.attrs["padding"])
            mode = grp.attrs["padding_mode"]
            mode = mode.decode() if isinstance(mode, bytes) else str(mode)
            dims = x.dim() - 2
            conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}[dims]
            if mode == "zeros":
                y = conv(x, w, b, padding=pad)
            else:
                y = conv(torch.nn.functional.pad(x, [pad] * (2 * dims), mode=mode), w, b)
            y.backward(dy)
            for key, val in (("y", y), ("dx", x.grad), ("dweight", w.grad), ("dbias", b.grad)):
                g.create_dataset(name + "/" + key, data=val.detach().numpy())
    import os
    os.replace(path_out + ".tmp", path_out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--check", nargs=2, metavar=("IN", "OUT"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    if args.check:
        check(args.check[0], args.check[1], dtype)
    for name, dims, batch, channels, n in cases(args.smoke):
        f, b, t = time_case(dims, batch, channels, n, args.runs, dtype)
        print(f"RESULT {name} {f * 1e3:.3f} {b * 1e3:.3f} {t * 1e3:.3f}", flush=True)


if __name__ == "__main__":
    main()
