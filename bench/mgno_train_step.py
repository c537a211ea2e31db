"""PyTorch CPU peer of bench/mgno_train_step.cpp: the same MgNO (MgConv_DC V-cycles with separate A/S
3x3 kernels per smoothing step, learnable stride-2 restrictions Pi/R, 4x4 transposed prolongation,
a biased 1x1 path, GELU, bias-free 1x1 head), relative-L2 loss, Adam, float32.

Prints 'torch_train_ms <median>', 'torch_infer_ms <median>', 'torch_peak_rss_mb <MB>'.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_peer import report_field_model


def conv3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False, padding_mode="zeros")


class VCycle(nn.Module):
    def __init__(self, pre, post, cu, cf):
        super().__init__()
        self.levels = len(pre)
        self.pre_s, self.pre_a, self.post_s, self.post_a = (nn.ModuleList() for _ in range(4))
        for l in range(self.levels):
            self.pre_s.append(nn.ModuleList([conv3(cf, cu) for _ in range(pre[l])]))
            self.pre_a.append(nn.ModuleList([conv3(cu, cf) for i in range(pre[l]) if not (l == 0 and i == 0)]))
            self.post_s.append(nn.ModuleList([conv3(cf, cu) for _ in range(post[l])]))
            self.post_a.append(nn.ModuleList([conv3(cu, cf) for _ in range(post[l])]))
        self.pi = nn.ModuleList([conv3(cu, cu, 2) for _ in range(self.levels - 1)])
        self.r = nn.ModuleList([conv3(cf, cf, 2) for _ in range(self.levels - 1)])
        self.p = nn.ModuleList([nn.ConvTranspose2d(cu, cu, 4, stride=2, padding=1, bias=False) for _ in range(self.levels - 1)])

    def forward(self, f):
        us, fs = [], []
        u = None
        for l in range(self.levels):
            if l > 0:
                f = self.r[l - 1](f)
                u = self.pi[l - 1](u)
            ai = 0
            for i, s in enumerate(self.pre_s[l]):
                if l == 0 and i == 0:
                    u = s(f)
                else:
                    u = u + s(f - self.pre_a[l][ai](u))
                    ai += 1
            us.append(u)
            fs.append(f)
        for j in range(self.levels - 2, -1, -1):
            u = us[j] + self.p[j](us[j + 1])
            for s, a in zip(self.post_s[j], self.post_a[j]):
                u = u + s(fs[j] - a(u))
            us[j] = u
        return us[0]


class MgNO(nn.Module):
    def __init__(self, cin, cout, width, layers, pre, post):
        super().__init__()
        self.vcycles = nn.ModuleList([VCycle(pre, post, width, cin if i == 0 else width) for i in range(layers)])
        self.pointwise = nn.ModuleList([nn.Conv2d(cin if i == 0 else width, width, 1) for i in range(layers)])
        self.head = nn.Conv2d(width, cout, 1, bias=False)

    def forward(self, u):
        for v, w in zip(self.vcycles, self.pointwise):
            u = F.gelu(v(u) + w(u))
        return self.head(u)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--grid", type=int, default=64)
    p.add_argument("--width", type=int, default=24)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--pre", type=str, default="1,1,1,2")
    p.add_argument("--post", type=str, default="0,0,0,0")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    pre = [int(v) for v in a.pre.split(",")]
    post = [int(v) for v in a.post.split(",")]
    model = MgNO(1, 1, a.width, a.layers, pre, post)
    print(f"torch_parameters {sum(p.numel() for p in model.parameters())}", flush=True)
    x = torch.randn(a.batch, 1, a.grid, a.grid)
    y = torch.randn(a.batch, 1, a.grid, a.grid)
    report_field_model(model, x, y, a.runs)


if __name__ == "__main__":
    main()
