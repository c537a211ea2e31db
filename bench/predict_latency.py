"""PyTorch CPU peer of bench/predict_latency.cpp: batch-1 latency of one call of each trained operator
as a simulation code makes it, with the normalization a saved neurops model applies (pointwise
Gaussian encode of the input, decode of the output), under torch.inference_mode(). The architectures
are those of the training benchmarks' peers at the neurops defaults: FNO-2D (width 32, 12 modes,
4 layers, projection 128), MgNO (width 24, 4 layers, smoothing 1,1,1,2 / 0,0,0,0), DeepONet (branch
100-40-40, trunk 2-40-40) on one function at the n x n grid points, and the DCDM network (N=64
variant) at n^3 without normalizers. Weights are random: the sizes, not the values, set the time.
Usage: predict_latency.py grids dcdm_n runs   (grids: comma-separated, e.g. 64,128)"""
import sys

import torch

from dcdm_apply import DcdmNet
from deeponet_train_step import mlp
from fno_train_step import FNO2d
from mgno_train_step import MgNO
from torch_peer import report_medians


class Normalized(torch.nn.Module):
    """(x - mean_in) / std_in -> model -> y * std_out + mean_out, statistics per grid point."""

    def __init__(self, model, in_shape, out_shape):
        super().__init__()
        self.model = model
        self.in_mean, self.in_std = torch.randn(in_shape), torch.rand(in_shape) + 0.5
        self.out_mean, self.out_std = torch.randn(out_shape), torch.rand(out_shape) + 0.5

    def forward(self, *inputs):
        x = (inputs[0] - self.in_mean) / self.in_std
        return self.model(x, *inputs[1:]) * self.out_std + self.out_mean


class CartesianDeepONet(torch.nn.Module):
    """branch (1, m), points (1, P, d) -> (1, P): the branch once, the trunk at every point."""

    def __init__(self, branch, trunk):
        super().__init__()
        self.branch = mlp(branch, False)
        self.trunk = mlp(trunk, True)
        self.b = torch.nn.Parameter(torch.tensor(0.0))

    def forward(self, u, y):
        return self.branch(u) @ self.trunk(y[0]).T + self.b


def main():
    grids = [int(g) for g in sys.argv[1].split(",")] if len(sys.argv) > 1 else [64, 128]
    cube = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    torch.manual_seed(0)
    calls = []

    def timed(name, model, *inputs):
        model.eval()

        def call():
            with torch.inference_mode():
                model(*inputs)

        calls.append((name, call))

    for n in grids:
        field = (1, n, n)
        timed(f"fno_{n}", Normalized(FNO2d(1, 1, 32, 12, 4, 128), field, field), torch.randn(1, 1, n, n))
        timed(f"mgno_{n}", Normalized(MgNO(1, 1, 24, 4, [1, 1, 1, 2], [0, 0, 0, 0]), field, field),
              torch.randn(1, 1, n, n))
        timed(f"deeponet_{n}", Normalized(CartesianDeepONet([100, 40, 40], [2, 40, 40]), (100,), (n * n,)),
              torch.randn(1, 100), torch.rand(1, n * n, 2))
    timed(f"dcdm_{cube}", DcdmNet(), torch.randn(1, 1, cube, cube, cube))
    report_medians(calls, runs)


if __name__ == "__main__":
    main()
