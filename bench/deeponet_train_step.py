"""PyTorch CPU peer of bench/deeponet_train_step.cpp: DeepXDE's unstacked DeepONet (branch MLP with a
linear last layer, trunk MLP with the activation after every layer, scalar bias b0), ReLU, MSE on
triples, Adam, float32.

Prints 'torch_train_ms <median>', 'torch_infer_ms <median>', 'torch_peak_rss_mb <MB>'.
"""
import argparse

import torch
import torch.nn as nn

from torch_peer import report_medians


def mlp(widths, activate_last):
    layers = []
    for i in range(len(widths) - 1):
        lin = nn.Linear(widths[i], widths[i + 1])
        nn.init.xavier_normal_(lin.weight)
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(widths) or activate_last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DeepONet(nn.Module):
    def __init__(self, branch, trunk):
        super().__init__()
        self.branch = mlp(branch, False)
        self.trunk = mlp(trunk, True)
        self.b = nn.Parameter(torch.tensor(0.0))

    def forward(self, u, y):
        return torch.einsum("bi,bi->b", self.branch(u), self.trunk(y)).unsqueeze(1) + self.b


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=10000)
    p.add_argument("--sensors", type=int, default=100)
    p.add_argument("--width", type=int, default=40)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = DeepONet([a.sensors, a.width, a.width], [1, a.width, a.width])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    u = torch.randn(a.batch, a.sensors)
    y = torch.rand(a.batch, 1)
    s = torch.randn(a.batch, 1)
    loss_fn = nn.MSELoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(u, y), s)
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model(u, y)

    report_medians((("train", step), ("infer", infer)), a.runs)


if __name__ == "__main__":
    main()
