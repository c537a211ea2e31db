#!/usr/bin/env python3
"""pde::NsResidual against the Spectral-Refiner reference's formulas, evaluated in PyTorch (float64).

Usage: check_ns_residual_torch.py NS_RESIDUAL_DUMP WORKDIR

Runs ns_residual_dump, then recomputes every setting's residual the way the reference does it
(torch-cfd fno/data_gen/solvers.py imex_crank_nicolson_step + update_residual as combined by
fno/finetune.py OutConvFT._fine_tune and get_temporal_derivative, the norm of fno/losses.py
SobolevLoss with relative=False, time_average=True): two IMEX Crank-Nicolson steps of size -dt and
+dt from each frame, w_t = (w_next - w)/h mixed with the weights, the residual at the mixed w_next,
irfft2, then the full fft2 weighted by sqrt(alpha + 4 pi^2 |k|^2)^(norm_order/2).

The frames mode (time_derivative = frames) has no reference code; it is recomputed here from its
definition with torch.gradient(edge_order=2) along the frames and the same spatial operators, and
its gradient is compared with PyTorch autograd's.

The reference indexes fields (x, y), the first axis x; neurops stores (y, x), so frames are transposed
before the reference formulas see them. The reference's difference quotient (w_next - w)/h loses
about |log10 dt| digits; settings with dt >= 1e-2 must agree to 1e-9 relative, and the notebook's
dt = 1e-6 is reported (there the reference's own value is rounding-dominated).
"""
import math
import subprocess
import sys
from pathlib import Path

import h5py
import torch
import torch.fft as fft

torch.set_default_dtype(torch.float64)


def operators(n, visc, amplitude, dealias):
    """Forcing spectrum, Laplacian symbol and the convection C(w_hat) of the reference."""
    grid = torch.arange(n, dtype=torch.float64) / n
    X, Y = torch.meshgrid(grid, grid, indexing="ij")
    f = amplitude * (torch.sin(2 * math.pi * (X + Y)) + torch.cos(2 * math.pi * (X + Y)))
    kmax = n // 2
    kx, ky = torch.meshgrid(fft.fftfreq(n, d=1 / n), fft.fftfreq(n, d=1 / n), indexing="ij")
    kx, ky = kx[..., : kmax + 1], ky[..., : kmax + 1]
    lap = -4 * math.pi**2 * (kx**2 + ky**2)
    lap[0, 0] = 1.0
    keep = torch.logical_and(ky.abs() <= (2.0 / 3.0) * kmax, kx.abs() <= (2.0 / 3.0) * kmax).to(torch.float64)

    def convection(w_h):
        psi_h = -w_h / lap
        u = fft.irfft2(2 * math.pi * ky * 1j * psi_h, s=(n, n)).real
        v = fft.irfft2(-2 * math.pi * kx * 1j * psi_h, s=(n, n)).real
        w_x = fft.irfft2(2 * math.pi * kx * 1j * w_h, s=(n, n)).real
        w_y = fft.irfft2(2 * math.pi * ky * 1j * w_h, s=(n, n)).real
        c_h = fft.rfft2(u * w_x + v * w_y)
        return keep * c_h if dealias else c_h

    return fft.rfft2(f), lap, convection


def sobolev_norms(residual, alpha, power):
    """SobolevLoss: fftn over the grid, times sqrt(alpha + 4 pi^2 |k|^2) ** (norm_order / 2)."""
    n = residual.shape[-1]
    norm_order = 4 * power
    fx, fy = torch.meshgrid(fft.fftfreq(n, d=1 / n), fft.fftfreq(n, d=1 / n), indexing="ij")
    weight = torch.sqrt(alpha + 4 * math.pi**2 * (fx**2 + fy**2)) ** (norm_order / 2)
    per_step = torch.linalg.norm(fft.fftn(residual, dim=(-2, -1)) * weight, dim=(-2, -1))
    return per_step, ((per_step**2).mean(dim=-1)).sqrt().mean()


def reference_residual(w, visc, amplitude, alpha, power, dt, weights, dealias):
    """w: (B, T, x, y) float64. Returns residual, w_t (B, T, x, y), per-step norms (B, T), total."""
    n = w.shape[-1]
    f_h, lap, convection = operators(n, visc, amplitude, dealias)
    w_h = fft.rfft2(w)
    steps = []
    for h in (-dt, dt):
        w_next = (-h * convection(w_h) + h * f_h + (1 + 0.5 * h * visc * lap) * w_h) / (1 - 0.5 * h * visc * lap)
        steps.append((w_next, (w_next - w_h) / h))
    w_bar = weights[0] * steps[0][0] + weights[1] * steps[1][0]
    w_t = weights[0] * steps[0][1] + weights[1] * steps[1][1]
    res_h = w_t + convection(w_bar) - visc * lap * w_bar - f_h
    residual = fft.irfft2(res_h, s=(n, n)).real
    per_step, total = sobolev_norms(residual, alpha, power)
    return residual, fft.irfft2(w_t, s=(n, n)).real, per_step, total


def frames_residual(w, visc, amplitude, alpha, power, frame_dt, dealias):
    """The frames mode: w_t by second-order differences along dim 1, R = w_t + C(w) - A w - f."""
    n = w.shape[-1]
    f_h, lap, convection = operators(n, visc, amplitude, dealias)
    w_h = fft.rfft2(w)
    w_t = torch.gradient(w, spacing=frame_dt, dim=1, edge_order=2)[0]
    residual = fft.irfft2(fft.rfft2(w_t) + convection(w_h) - visc * lap * w_h - f_h, s=(n, n)).real
    per_step, total = sobolev_norms(residual, alpha, power)
    return residual, w_t, per_step, total


def compare(name, description, ours, theirs, strict, failures):
    line = [f"{name}: {description} total: torch {float(theirs['total']):.6e}, neurops {float(ours['total']):.6e}"]
    for key in ours:
        diff = (ours[key] - theirs[key]).abs().max() / theirs[key].abs().max()
        line.append(f"{key} rel.diff {float(diff):.2e}")
        if strict and not diff < 1e-9:
            failures.append(f"{name} {key}: relative difference {float(diff):.3e} > 1e-9")
    print("  ".join(line))


def main():
    dump, work = Path(sys.argv[1]), Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    out = work / "ns_residual_dump.h5"
    subprocess.run([str(dump), str(out)], check=True)
    failures = []
    with h5py.File(out, "r") as h5:
        w = torch.from_numpy(h5["w"][...]).transpose(-1, -2)
        for name in sorted(k for k in h5.keys() if k.startswith("c")):
            g = h5[name]
            visc, amplitude, alpha, power, dt, a, b, dealias = g["settings"][...].tolist()
            R, W_t, q, total = reference_residual(w, visc, amplitude, alpha, power, dt, (a, b), dealias > 0.5)
            ours = {
                "residual": torch.from_numpy(g["residual"][...]).transpose(-1, -2),
                "w_t": torch.from_numpy(g["w_t"][...]).transpose(-1, -2),
                "per_step": torch.from_numpy(g["per_step"][...]),
                "total": torch.from_numpy(g["total"][...])[0],
            }
            theirs = {"residual": R, "w_t": W_t, "per_step": q, "total": total}
            compare(name, f"nu={visc:g} A={amplitude:g} alpha={alpha:g} p={power:g} dt={dt:g} "
                    f"weights=({a:g}, {b:g}) dealias={int(dealias)}", ours, theirs, dt >= 1e-2, failures)
        for name in sorted(k for k in h5.keys() if k.startswith("f")):
            g = h5[name]
            visc, amplitude, alpha, power, frame_dt, dealias = g["settings"][...].tolist()
            x = w.clone().requires_grad_(True)
            R, W_t, q, total = frames_residual(x, visc, amplitude, alpha, power, frame_dt, dealias > 0.5)
            total.backward()
            ours = {key: torch.from_numpy(g[key][...]).transpose(-1, -2) for key in ("residual", "w_t", "gradient")}
            ours["per_step"] = torch.from_numpy(g["per_step"][...])
            ours["total"] = torch.from_numpy(g["total"][...])[0]
            theirs = {"residual": R.detach(), "w_t": W_t.detach(), "gradient": x.grad, "per_step": q.detach(),
                      "total": total.detach()}
            compare(name, f"frames mode nu={visc:g} A={amplitude:g} alpha={alpha:g} p={power:g} "
                    f"frame_dt={frame_dt:g} dealias={int(dealias)}", ours, theirs, True, failures)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("neurops NsResidual agrees with the reference formulas and, in the frames mode, with its definition")
    return 0


if __name__ == "__main__":
    sys.exit(main())
