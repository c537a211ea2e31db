"""PyTorch CPU peer of bench/t1_train_step.cpp: the same T1 model (kairos src/models/t1.py T1_2d with
T1Layer2d blocks, DCT computed through the FFT as kairos src/utils/numerics.py does, no inverse
transform), the RelativeL2DCT loss, Adam, float32.

Prints 'torch_train_ms <median>', 'torch_infer_ms <median>', 'torch_peak_rss_mb <MB>'.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_peer import report_medians


def dct_last_axis(x):
    """Orthonormal DCT-II along the last axis through one complex FFT of length N (Makhoul)."""
    n = x.shape[-1]
    v = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], dim=-1)
    spectrum = torch.fft.fft(v, dim=-1)
    k = torch.arange(n, dtype=x.dtype)
    twiddle = torch.polar(torch.ones(n, dtype=x.dtype), -math.pi * k / (2 * n))
    out = (spectrum * twiddle).real
    scale = torch.full((n,), math.sqrt(2.0 / n), dtype=x.dtype)
    scale[0] = math.sqrt(1.0 / n)
    return out * scale


def dct2d(x):
    return dct_last_axis(dct_last_axis(x).transpose(-1, -2)).transpose(-1, -2)


class T1Layer2d(nn.Module):
    def __init__(self, m1, m2, width, sigma):
        super().__init__()
        self.m1, self.m2 = m1, m2
        self.channel = nn.Parameter(sigma * torch.randn(width, width, m1, m2))
        self.freq1 = nn.Parameter(math.sqrt(1.0 / m1) * torch.randn(m1, m1, width))
        self.freq2 = nn.Parameter(math.sqrt(1.0 / m2) * torch.randn(m2, m2, width))

    def forward(self, x):
        out = torch.zeros_like(x)
        kept = x[..., : self.m1, : self.m2]
        z = F.gelu(torch.einsum("bixy,ioxy->boxy", kept, self.channel))
        z = torch.einsum("bcix,ioc->bcox", z, self.freq1)
        z = torch.einsum("bcyi,ioc->bcyo", z, self.freq2)
        out[..., : self.m1, : self.m2] = z + kept
        return out


class T1(nn.Module):
    def __init__(self, cin, cout, width, modes, layers, grid):
        super().__init__()
        self.fc0 = nn.Linear(cin + 2, width)
        sigma = math.sqrt(grid * grid / (width * modes * modes))  # VP, DCT gain 1
        self.layers = nn.Sequential(*[T1Layer2d(modes, modes, width, sigma) for _ in range(layers)])
        self.fc1 = nn.Parameter(1e-8 * torch.randn(width, 128))
        self.fc2 = nn.Parameter(1e-8 * torch.randn(128, cout))

    def forward(self, x):  # (N, C, H, W)
        b, _, h, w = x.shape
        gx = torch.linspace(0, 1, h).view(1, h, 1, 1).expand(b, h, w, 1)
        gy = torch.linspace(0, 1, w).view(1, 1, w, 1).expand(b, h, w, 1)
        x = torch.cat([x.permute(0, 2, 3, 1), gx, gy], dim=-1)
        x = self.fc0(x).permute(0, 3, 1, 2)
        x = self.layers(dct2d(x))
        x = torch.sin(torch.einsum("bixy,io->boxy", x, self.fc1))
        return torch.einsum("bixy,io->boxy", x, self.fc2)


def rel_l2_dct(pred, y):
    y = dct2d(y)
    n = pred.shape[0]
    diff = torch.norm(pred.reshape(n, -1) - y.reshape(n, -1), dim=1)
    return torch.mean(diff / torch.norm(y.reshape(n, -1), dim=1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--grid", type=int, default=64)
    p.add_argument("--width", type=int, default=48)
    p.add_argument("--modes", type=int, default=24)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = T1(1, 1, a.width, a.modes, a.layers, a.grid)
    x = torch.randn(a.batch, 1, a.grid, a.grid)
    y = torch.randn(a.batch, 1, a.grid, a.grid)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=False)
        rel_l2_dct(model(x), y).backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model(x)

    report_medians((("train", step), ("infer", infer)), a.runs)


if __name__ == "__main__":
    main()
