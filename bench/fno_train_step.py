"""PyTorch CPU peer of bench/fno_train_step.cpp: the same FNO-2D (reference fourier_2d.py layout,
pointwise layers as Linear on the channel axis), relative-L2 loss, Adam, float32.

Prints one line per measurement: 'torch_train_ms <median>', 'torch_infer_ms <median>',
'torch_peak_rss_mb <MB>'.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_peer import report_field_model


class SpectralConv2d(nn.Module):
    def __init__(self, cin, cout, m1, m2):
        super().__init__()
        self.m1, self.m2 = m1, m2
        scale = 1.0 / (cin * cout)
        self.w1 = nn.Parameter(scale * torch.rand(cin, cout, m1, m2, dtype=torch.cfloat))
        self.w2 = nn.Parameter(scale * torch.rand(cin, cout, m1, m2, dtype=torch.cfloat))

    def forward(self, x):
        b, _, h, w = x.shape
        xf = torch.fft.rfft2(x)
        out = torch.zeros(b, self.w1.shape[1], h, w // 2 + 1, dtype=torch.cfloat)
        out[:, :, : self.m1, : self.m2] = torch.einsum("bixy,ioxy->boxy", xf[:, :, : self.m1, : self.m2], self.w1)
        out[:, :, -self.m1 :, : self.m2] = torch.einsum("bixy,ioxy->boxy", xf[:, :, -self.m1 :, : self.m2], self.w2)
        return torch.fft.irfft2(out, s=(h, w))


class FNO2d(nn.Module):
    def __init__(self, cin, cout, width, modes, layers, proj):
        super().__init__()
        self.fc0 = nn.Linear(cin, width)
        self.convs = nn.ModuleList([SpectralConv2d(width, width, modes, modes) for _ in range(layers)])
        self.ws = nn.ModuleList([nn.Conv2d(width, width, 1) for _ in range(layers)])
        self.fc1 = nn.Linear(width, proj)
        self.fc2 = nn.Linear(proj, cout)

    def forward(self, x):  # x: (N, C, H, W) as the neurops layout
        x = self.fc0(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        for i, (conv, w) in enumerate(zip(self.convs, self.ws)):
            x = conv(x) + w(x)
            if i + 1 < len(self.convs):
                x = F.gelu(x)
        x = F.gelu(self.fc1(x.permute(0, 2, 3, 1)))
        return self.fc2(x).permute(0, 3, 1, 2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--grid", type=int, default=64)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--modes", type=int, default=12)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--in-channels", type=int, default=3)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = FNO2d(a.in_channels, 1, a.width, a.modes, a.layers, 128)
    x = torch.randn(a.batch, a.in_channels, a.grid, a.grid)
    y = torch.randn(a.batch, 1, a.grid, a.grid)
    report_field_model(model, x, y, a.runs)


if __name__ == "__main__":
    main()
