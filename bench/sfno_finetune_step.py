"""PyTorch CPU peer of bench/sfno_finetune_step.cpp: one Spectral-Refiner fine-tuning iteration as
torch-cfd fno/finetune.py and losses.py do it, float64: the fine-tuning output layer (SpectralConvT
with temporal zero-padding and the delta-scaled spectral bias, bench/sfno_train_step.py) on a cached
latent, the last input frame added, the negative-Sobolev norm of the Navier-Stokes residual of the
predicted frames (bench/ns_residual.py, dt = frame_dt = 1e-2), backward, Adam with two groups
(spectral biases lr 2e-1, weights lr 1e-4).

Prints 'torch_finetune_ms <median>' and 'torch_peak_rss_mb <MB>'.
"""
import argparse

import torch

from ns_residual import make_loss
from sfno_train_step import SpectralConv3d
from torch_peer import report_medians

torch.set_default_dtype(torch.float64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--frames", type=int, default=40, help="output frames")
    p.add_argument("--latent", type=int, default=10, help="latent frames")
    p.add_argument("--modes", type=int, nargs=3, default=(64, 64, 6))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--time-derivative", choices=("reference_imex", "frames"), default="reference_imex")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n = a.n
    latent = 0.1 * torch.randn(1, 1, n, n, a.latent)
    last = torch.randn(1, n, n)
    v = torch.cat([last[:, None, :, :, None], latent], dim=-1)  # [last input frame, latent]
    layer = SpectralConv3d(1, 1, *a.modes, bias=True, delta=1.0, temporal_padding=True)
    loss_fn = make_loss(n, a.time_derivative == "frames")
    opt = torch.optim.Adam([{"params": layer.bias.parameters(), "lr": 2e-1},
                            {"params": layer.weight.parameters(), "lr": 1e-4}])

    def step():
        opt.zero_grad(set_to_none=False)
        z = layer(v, a.frames + 1)[:, 0, ..., 1:]  # (1, n, n, frames)
        w = last[..., None] + z
        loss = loss_fn(w.permute(0, 3, 1, 2))
        loss.backward()
        opt.step()

    report_medians((("finetune", step),), a.runs)


if __name__ == "__main__":
    main()
