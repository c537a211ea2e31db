#!/usr/bin/env python3
"""PyTorch CPU peer of bench/conv_layers.cpp: forward + backward (input, weight and bias gradients)
of the same convolutions, same threads and dtype. Prints one line per case:
    RESULT <case> <forward ms> <backward ms> <total ms>
(medians over --runs). With --check IN OUT it also reads inputs/weights/output gradients written by
the C++ side (HDF5), and writes PyTorch's y, dx, dW, db for them, so both sides can be compared.
With --raw it prints every run instead: RAW <case> <forward ms,...> <backward ms,...>.

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
    return fwd, bwd


def apply_layer(grp, x, params):
    """The torch.nn.functional equivalent of the neurops layer described by the group's attributes."""
    F = torch.nn.functional
    a = grp.attrs
    text = a["text"].decode() if isinstance(a["text"], bytes) else str(a["text"])
    layer = a["layer"].decode() if isinstance(a["layer"], bytes) else str(a["layer"])
    dims = x.dim() - 2
    w, b = params.get("weight"), params.get("bias")
    if layer == "conv":
        conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
        pad, stride = int(a["padding"]), int(a["stride"])
        if text == "zeros":
            return conv(x, w, b, stride=stride, padding=pad)
        return conv(F.pad(x, [pad] * (2 * dims), mode=text), w, b, stride=stride)
    if layer == "conv_transpose":
        conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
        return conv_t(x, w, b, stride=int(a["stride"]), padding=int(a["padding"]),
                      output_padding=int(a["output_padding"]))
    if layer == "upsample":
        mode = "nearest" if text == "nearest" else ("linear", "bilinear", "trilinear")[dims - 1]
        kw = {} if mode == "nearest" else {"align_corners": False}
        return F.interpolate(x, scale_factor=int(a["factor"]), mode=mode, **kw)
    if layer == "avgpool":
        return (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[dims - 1](x, int(a["kernel"]))
    if layer == "layernorm_channels":
        return F.layer_norm(x.movedim(1, -1), (x.shape[1],), w, b, 1e-5).movedim(-1, 1)
    if layer == "layernorm_trailing":
        return F.layer_norm(x, x.shape[1:], w, b, 1e-5)
    if layer == "groupnorm":
        return F.group_norm(x, int(a["groups"]), w, b, 1e-5)
    if layer == "linear":
        return F.linear(x, w, b)
    if layer == "activation":
        return {"gelu": F.gelu, "relu": F.relu, "tanh": torch.tanh, "sin": torch.sin}[text](x)
    raise ValueError("unknown layer " + layer)


def check(path_in, path_out, dtype):
    import os

    import h5py
    with h5py.File(path_in, "r") as f, h5py.File(path_out + ".tmp", "w") as g:
        for name in f.keys():
            grp = f[name]
            x = torch.tensor(grp["x"][...], dtype=dtype, requires_grad=True)
            dy = torch.tensor(grp["dy"][...], dtype=dtype)
            params = {k: torch.tensor(grp[k][...], dtype=dtype, requires_grad=True)
                      for k in grp.keys() if k not in ("x", "dy")}
            y = apply_layer(grp, x, params)
            y.backward(dy)
            g.create_dataset(name + "/y", data=y.detach().numpy())
            g.create_dataset(name + "/dx", data=x.grad.numpy())
            for k, p in params.items():
                g.create_dataset(name + "/d" + k, data=p.grad.numpy())
    os.replace(path_out + ".tmp", path_out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--check", nargs=2, metavar=("IN", "OUT"))
    ap.add_argument("--raw", action="store_true", help="print every run, not medians")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    if args.check:
        check(args.check[0], args.check[1], dtype)
    for name, dims, batch, channels, n in cases(args.smoke):
        fwd, bwd = time_case(dims, batch, channels, n, args.runs, dtype)
        if args.raw:
            ms = lambda v: ",".join(f"{x * 1e3:.4f}" for x in v)
            print(f"RAW {name} {ms(fwd)} {ms(bwd)}", flush=True)
        else:
            tot = [a + b for a, b in zip(fwd, bwd)]
            med = [statistics.median(v) * 1e3 for v in (fwd, bwd, tot)]
            print(f"RESULT {name} {med[0]:.3f} {med[1]:.3f} {med[2]:.3f}", flush=True)


if __name__ == "__main__":
    main()
