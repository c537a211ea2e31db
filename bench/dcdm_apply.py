"""PyTorch CPU peer of bench/dcdm_apply.cpp: one application of the DCDM network (the reference's
N=64 variant: 3x3x3 convolutions with 16 channels, 4/6/4 after the first, one 2^3 average pool,
nearest upsampling with the full-resolution skip, linear 1x1x1 head) to a (1, 1, n, n, n) float32
field, and one 3x3x3 16->16 convolution alone, in inference mode. Usage: dcdm_apply.py n runs"""
import sys

import torch
from torch import nn

from torch_peer import report_medians


class Pair(nn.Module):
    """x + relu(conv(relu(conv(x))))"""

    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv3d(c, c, 3, padding=1)
        self.b = nn.Conv3d(c, c, 3, padding=1)

    def forward(self, x):
        return x + torch.relu(self.b(torch.relu(self.a(x))))


class DcdmNet(nn.Module):
    def __init__(self, c=16, pre=4, mid=6, post=4):
        super().__init__()
        self.first = nn.Conv3d(1, c, 3, padding=1)
        self.la = nn.Conv3d(c, c, 3, padding=1)
        self.pre = nn.Sequential(*[Pair(c) for _ in range((pre - 2) // 2)])
        self.lb = nn.Conv3d(c, c, 3, padding=1)
        self.mid = nn.Sequential(*[Pair(c) for _ in range(mid // 2)])
        self.post = nn.Sequential(*[Pair(c) for _ in range(post // 2)])
        self.head = nn.Conv3d(c, 1, 1)

    def forward(self, b):
        lb = torch.relu(self.lb(self.pre(torch.relu(self.la(self.first(b))))))
        a = self.mid(nn.functional.avg_pool3d(lb, 2))
        u = nn.functional.interpolate(a, scale_factor=2, mode="nearest") + lb
        return self.head(self.post(u))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.manual_seed(0)
    net = DcdmNet().eval()
    conv = nn.Conv3d(16, 16, 3, padding=1).eval()
    x = torch.randn(1, 1, n, n, n)
    h = torch.randn(1, 16, n, n, n)
    print(f"torch_parameters {sum(p.numel() for p in net.parameters())}", flush=True)

    def apply():
        with torch.inference_mode():
            net(x)

    def conv_only():
        with torch.inference_mode():
            conv(h)

    report_medians((("apply", apply), ("conv", conv_only)), runs)


if __name__ == "__main__":
    main()
