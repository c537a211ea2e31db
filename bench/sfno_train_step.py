"""PyTorch CPU peer of bench/sfno_train_step.cpp: the SFNO of the Spectral-Refiner as the reference
builds it (torch-cfd fno/sfno.py: positional encoding, GroupNorm lifting, SpectralConvT/S with four
weight blocks stored as real pairs and contracted with einsum, PointwiseFFN, OutConv with temporal
zero-padding and the delta-scaled spectral bias), relative-L2 loss, Adam, float32.

Prints one line per measurement: 'torch_train_ms <median>', 'torch_infer_ms <median>',
'torch_peak_rss_mb <MB>', and 'torch_parameters <count>'.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_peer import report_field_model


class SpectralConv3d(nn.Module):
    """SpectralConvS/T: rfftn over (x, y, t), +-mx x +-my x [0, mt) in four weight blocks, irfftn."""

    def __init__(self, cin, cout, mx, my, mt, bias=False, delta=1.0, temporal_padding=False):
        super().__init__()
        self.m = (mx, my, mt)
        gain = 0.5 / (cin * cout)
        self.weight = nn.ParameterList([nn.Parameter(gain * torch.rand(cin, cout, mx, my, mt, 2)) for _ in range(4)])
        self.bias = nn.ParameterList([nn.Parameter(torch.zeros(mx, my, mt, 2)) for _ in range(4)]) if bias else None
        self.delta, self.temporal_padding = delta, temporal_padding

    def forward(self, v, out_steps):
        t_pad = v.size(-1) if self.temporal_padding else 0
        if t_pad:
            v = F.pad(v, (t_pad, 0))
        *_, nx, ny, nt = v.shape
        mx, my, mt = self.m
        vh = torch.fft.rfftn(v, dim=(-3, -2, -1))
        out = torch.zeros(v.size(0), self.weight[0].shape[1], nx, ny, nt // 2 + 1, dtype=vh.dtype)
        for ix, sx in enumerate([slice(0, mx), slice(-mx, None)]):
            for iy, sy in enumerate([slice(0, my), slice(-my, None)]):
                k = ix + 2 * iy
                out[..., sx, sy, :mt] = torch.einsum("bixyz,ioxyz->boxyz", vh[..., sx, sy, :mt],
                                                     torch.view_as_complex(self.weight[k]))
                if self.bias is not None:
                    out[..., sx, sy, :mt] += self.delta * torch.view_as_complex(self.bias[k])[None, None]
        v = torch.fft.irfftn(out, s=(nx, ny, out_steps + t_pad), dim=(-3, -2, -1))
        return v[..., -out_steps:] if t_pad else v


class FFN(nn.Module):
    def __init__(self, width, expansion):
        super().__init__()
        self.linear1 = nn.Conv3d(width, expansion * width, 1)
        self.linear2 = nn.Conv3d(expansion * width, width, 1)

    def forward(self, v):
        return self.linear2(F.relu(self.linear1(v)))


class SFNO(nn.Module):
    def __init__(self, mx, my, mt, width, layers, latent_steps, out_steps, beta=-1e-2, delta=0.1, expansion=4):
        super().__init__()
        self.width, self.latent, self.out_steps, self.beta = width, latent_steps, out_steps, beta
        self.norm = nn.GroupNorm(1, width, eps=1e-7)
        self.proj = nn.Conv3d(width, width, 1)
        self.lift_conv = SpectralConv3d(width, width, mx, my, mt)
        self.lift_mlp = FFN(width, expansion)
        self.convs = nn.ModuleList([SpectralConv3d(width, width, mx, my, mt) for _ in range(layers - 1)])
        self.mlps = nn.ModuleList([FFN(width, expansion) for _ in range(layers - 1)])
        self.ws = nn.ModuleList([nn.Conv3d(width, width, 1) for _ in range(layers - 1)])
        self.reduction = nn.Conv3d(width, 1, 1)
        self.out_conv = SpectralConv3d(1, 1, mx, my, mt, bias=True, delta=delta, temporal_padding=True)
        self.pe = None

    def encoding(self, nx, ny, nt):
        if self.pe is None or self.pe.shape[-3:] != (nx, ny, nt):
            gt = torch.linspace(0, 1, 101)[1:nt + 1]
            gx, gy, gtt = torch.meshgrid(torch.linspace(0, 1, nx), torch.linspace(0, 1, ny), gt, indexing="ij")
            pe = [gx, gy, gtt]
            for k in range(self.width - 3):
                basis = torch.sin if k % 2 == 0 else torch.cos
                pe.append((torch.exp(self.beta * gt) * basis(torch.pi * (k + 1) * gt)).reshape(1, 1, nt).repeat(nx, ny, 1))
            self.pe = torch.stack(pe).unsqueeze(0)
        return self.pe

    def forward(self, x):  # x: (N, t_in, n0, n1) as the neurops layout
        x = x.permute(0, 2, 3, 1)  # the reference's (b, x, y, t)
        v = x.unsqueeze(1)
        v = v + self.encoding(*v.shape[-3:])
        v = self.proj(self.norm(v))
        v = F.relu(v[..., -1:] + self.lift_mlp(self.lift_conv(v, self.latent)))
        for conv, mlp, w in zip(self.convs, self.mlps, self.ws):
            v = F.relu(mlp(conv(v, v.size(-1))) + w(v))
        v = self.reduction(v)
        res = x.unsqueeze(1)[..., -1:]
        v = self.out_conv(torch.cat([res, v], dim=-1), self.out_steps + 1)
        return (res + v[..., -self.out_steps:]).squeeze(1).permute(0, 3, 1, 2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--grid", type=int, default=64)
    p.add_argument("--width", type=int, default=20)
    p.add_argument("--modes", type=int, default=12)
    p.add_argument("--modes-t", type=int, default=5)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--input-steps", type=int, default=10)
    p.add_argument("--latent-steps", type=int, default=10)
    p.add_argument("--output-steps", type=int, default=40)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = SFNO(a.modes, a.modes, a.modes_t, a.width, a.layers, a.latent_steps, a.output_steps)
    print(f"torch_parameters {sum(t.numel() for t in model.parameters())}", flush=True)
    x = torch.randn(a.batch, a.input_steps, a.grid, a.grid)
    y = torch.randn(a.batch, a.output_steps, a.grid, a.grid)
    report_field_model(model, x, y, a.runs)


if __name__ == "__main__":
    main()
