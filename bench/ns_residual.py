#!/usr/bin/python3
"""PyTorch CPU peer of neurops' NsResidual: the Spectral-Refiner's residual loss as the reference
(torch-cfd fno/finetune.py OutConvFT._fine_tune + fno/losses.py SobolevLoss) evaluates it, and its
gradient with respect to the trajectory by autograd; float64.

Usage: ns_residual.py --sizes 256 --frames 40 --threads 2 --repeats 5 [--time-derivative frames]
With --time-derivative frames, w_t is torch.gradient(w, spacing=FRAME_DT, edge_order=2) along the
frames (NsResidual's frames mode) and the residual is evaluated at w.
Prints one line per size: "torch n=<n> median_value_s=<t> median_gradient_s=<t> checksum=<loss>".
The trajectory is the smooth field of bench/ns_residual.cpp (same formula), (1, frames, n, n).
"""
import argparse
import math
import time

import torch
import torch.fft as fft

torch.set_default_dtype(torch.float64)  # wavenumbers and grids in float64, as the reference's fine-tuning

VISC, AMPLITUDE, ALPHA, POWER, DT, WEIGHTS, FRAME_DT = 1e-3, 0.1, 10 ** -1.5, -0.25, 1e-2, (0.5, 0.5), 1e-2


def trajectory(n, frames):
    """w(t_k, x, y) on the reference's (x, y) index order (transpose of neurops' (y, x))."""
    g = torch.arange(n, dtype=torch.float64) / n
    y, x = torch.meshgrid(g, g, indexing="ij")  # neurops rows y, columns x
    out = []
    for k in range(frames):
        s = 1.0 + 0.01 * k
        w = s * torch.sin(2 * math.pi * x) * torch.cos(4 * math.pi * y) + 0.5 * torch.cos(
            6 * math.pi * x + 2 * math.pi * y + 0.1 * k) + 0.05 * torch.sin(2 * math.pi * (7 * x + 5 * y))
        out.append(w.T)
    return torch.stack(out)[None]


def make_loss(n, from_frames):
    kmax = n // 2
    kx, ky = torch.meshgrid(fft.fftfreq(n, d=1 / n), fft.fftfreq(n, d=1 / n), indexing="ij")
    weight = torch.sqrt(ALPHA + 4 * math.pi**2 * (kx**2 + ky**2)) ** (4 * POWER / 2)
    kx, ky = kx[..., : kmax + 1], ky[..., : kmax + 1]
    lap = -4 * math.pi**2 * (kx**2 + ky**2)
    lap[0, 0] = 1.0
    keep = torch.logical_and(ky.abs() <= (2.0 / 3.0) * kmax, kx.abs() <= (2.0 / 3.0) * kmax).to(torch.float64)
    g = torch.arange(n, dtype=torch.float64) / n
    X, Y = torch.meshgrid(g, g, indexing="ij")
    f_h = fft.rfft2(AMPLITUDE * (torch.sin(2 * math.pi * (X + Y)) + torch.cos(2 * math.pi * (X + Y))))

    def convection(w_h):
        psi_h = -w_h / lap
        u = fft.irfft2(2 * math.pi * ky * 1j * psi_h, s=(n, n)).real
        v = fft.irfft2(-2 * math.pi * kx * 1j * psi_h, s=(n, n)).real
        w_x = fft.irfft2(2 * math.pi * kx * 1j * w_h, s=(n, n)).real
        w_y = fft.irfft2(2 * math.pi * ky * 1j * w_h, s=(n, n)).real
        return keep * fft.rfft2(u * w_x + v * w_y)

    def frames_loss(w):
        w_h = fft.rfft2(w)
        w_t = torch.gradient(w, spacing=FRAME_DT, dim=1, edge_order=2)[0]
        residual = fft.irfft2(fft.rfft2(w_t) + convection(w_h) - VISC * lap * w_h - f_h, s=(n, n)).real
        q = torch.linalg.norm(fft.fftn(residual, dim=(-2, -1)) * weight, dim=(-2, -1))
        return ((q**2).mean(dim=-1)).sqrt().mean()

    def loss(w):
        w_h = fft.rfft2(w)
        steps = []
        for h in (-DT, DT):
            w_next = (-h * convection(w_h) + h * f_h + (1 + 0.5 * h * VISC * lap) * w_h) / (1 - 0.5 * h * VISC * lap)
            steps.append((w_next, (w_next - w_h) / h))
        w_bar = WEIGHTS[0] * steps[0][0] + WEIGHTS[1] * steps[1][0]
        w_t = WEIGHTS[0] * steps[0][1] + WEIGHTS[1] * steps[1][1]
        residual = fft.irfft2(w_t + convection(w_bar) - VISC * lap * w_bar - f_h, s=(n, n)).real
        q = torch.linalg.norm(fft.fftn(residual, dim=(-2, -1)) * weight, dim=(-2, -1))
        return ((q**2).mean(dim=-1)).sqrt().mean()

    return frames_loss if from_frames else loss


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="256")
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--time-derivative", choices=("reference_imex", "frames"), default="reference_imex")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for n in [int(s) for s in a.sizes.split(",")]:
        loss = make_loss(n, a.time_derivative == "frames")
        w = trajectory(n, a.frames)
        value_times, gradient_times = [], []
        for _ in range(a.repeats + 1):  # the first run warms up
            t = time.perf_counter()
            with torch.no_grad():
                value = loss(w)
            value_times.append(time.perf_counter() - t)
            x = w.clone().requires_grad_(True)
            t = time.perf_counter()
            loss(x).backward()
            gradient_times.append(time.perf_counter() - t)
        med = lambda v: sorted(v[1:])[len(v[1:]) // 2] if len(v) > 1 else v[0]
        print(f"torch n={n} median_value_s={med(value_times):.6e} median_gradient_s={med(gradient_times):.6e} "
              f"checksum={float(value):.15e}", flush=True)


if __name__ == "__main__":
    main()
