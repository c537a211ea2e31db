#!/usr/bin/python3
"""PyTorch CPU peer of neurops' NavierStokes2d step: the same pseudo-spectral scheme (rfft2/irfft2,
2/3-rule dealiasing, Crank-Nicolson viscosity + Heun advection, FNO forcing), float64, written the
way torch-cfd / FNO's ns_2d.py write it (precomputed wavenumber tensors, batched irfft2).

Usage: navier_stokes_step.py --sizes 256,512 --threads 2 --repeats 7 --steps 10
Prints one line per size: "torch n=<n> median_step_s=<t> checksum=<mean w^2 after the run>".
"""
import argparse
import math
import time

import torch


def make_solver(n, visc=1e-3, dt=1e-4, amplitude=0.1):
    k_y = torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64).reshape(n, 1)
    k_x = torch.fft.rfftfreq(n, d=1.0 / n, dtype=torch.float64).reshape(1, n // 2 + 1)
    two_pi = 2 * math.pi
    lap = two_pi ** 2 * (k_x ** 2 + k_y ** 2)
    inv_lap = torch.where(lap > 0, 1.0 / torch.where(lap > 0, lap, torch.ones_like(lap)), torch.zeros_like(lap))
    # Derivative symbols, zero at the Nyquist wavenumbers (as in neurops).
    dx = torch.where(k_x.abs() == n // 2, torch.zeros_like(k_x), two_pi * k_x)
    dy = torch.where(k_y.abs() == n // 2, torch.zeros_like(k_y), two_pi * k_y)
    kmax = (2.0 / 3.0) * (n // 2)
    dealias = ((k_x.abs() <= kmax) & (k_y.abs() <= kmax)).to(torch.float64)
    cn_explicit = 1.0 - 0.5 * dt * visc * lap
    cn_implicit_inv = 1.0 / (1.0 + 0.5 * dt * visc * lap)
    x = torch.arange(n, dtype=torch.float64) / n
    phase = two_pi * (x.reshape(1, n) + x.reshape(n, 1))
    f_hat = torch.fft.rfft2(amplitude * (torch.sin(phase) + torch.cos(phase)))

    def advection(w_hat):
        psi = w_hat * inv_lap
        fields = torch.stack((1j * dy * psi, -1j * dx * psi, 1j * dx * w_hat, 1j * dy * w_hat))
        u, v, wx, wy = torch.fft.irfft2(fields, s=(n, n))
        return -dealias * torch.fft.rfft2(u * wx + v * wy)

    def step(w_hat):
        n0 = advection(w_hat)
        w_star = (cn_explicit * w_hat + dt * (n0 + f_hat)) * cn_implicit_inv
        n1 = advection(w_star)
        return (cn_explicit * w_hat + dt * (0.5 * (n0 + n1) + f_hat)) * cn_implicit_inv

    return step


def initial_vorticity(n):
    x = torch.arange(n, dtype=torch.float64) / n
    X, Y = x.reshape(1, n), x.reshape(n, 1)
    two_pi = 2 * math.pi
    return torch.sin(two_pi * X) * torch.cos(2 * two_pi * Y) + 0.5 * torch.cos(3 * two_pi * X + two_pi * Y)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="256,512")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for n in (int(s) for s in a.sizes.split(",")):
        step = make_solver(n)
        w_hat = torch.fft.rfft2(initial_vorticity(n))
        for _ in range(3):  # warm-up
            w_hat = step(w_hat)
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            for _ in range(a.steps):
                w_hat = step(w_hat)
            times.append((time.perf_counter() - t0) / a.steps)
        times.sort()
        w = torch.fft.irfft2(w_hat, s=(n, n))
        print(f"torch n={n} median_step_s={times[len(times) // 2]:.6e} checksum={float((w * w).mean()):.12e}", flush=True)


if __name__ == "__main__":
    main()
