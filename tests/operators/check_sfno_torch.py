"""The SFNO of neurops agrees with a float64 PyTorch implementation of the reference's semantics
(scaomath/torch-cfd fno/sfno.py and fno/base.py: SpaceTimePositionalEncoding, LayerNormnd,
SpectralConvT/S with four weight blocks, PointwiseFFN, OutConv with temporal zero-padding and the
delta-scaled spectral bias) built from the weights of a neurops checkpoint: the output, the gradient of
L = <y, dy> with respect to the input and every parameter gradient, on the configured shapes and on a
2x finer grid with other input and output steps. Also prints the parameter count of the reference
configuration (modes 12/12/5, width 20, 4 layers) built with this implementation."""
import os
import subprocess
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
dump, work = sys.argv[1], sys.argv[2]
subprocess.run([dump, work], check=True)


def spectral_conv(v, weights, out_t, bias=None, delta=1.0, temporal_padding=False):
    """SpectralConvT: rfftn over (x, y, t), four corners of +-mx x +-my x [0, mt), irfftn to out_t."""
    t_pad = v.size(-1) if temporal_padding else 0
    if temporal_padding:
        v = F.pad(v, (t_pad, 0))
    *_, nx, ny, nt = v.shape
    vh = torch.fft.rfftn(v, dim=(-3, -2, -1), norm="backward")
    mx, my, mt = weights[0].shape[2:5]
    out = torch.zeros(v.size(0), weights[0].shape[1], nx, ny, nt // 2 + 1, dtype=vh.dtype)
    for ix, sx in enumerate([slice(0, mx), slice(-mx, None)]):
        for iy, sy in enumerate([slice(0, my), slice(-my, None)]):
            w = torch.view_as_complex(weights[ix + 2 * iy])
            out[..., sx, sy, :mt] = torch.einsum("bixyz,ioxyz->boxyz", vh[..., sx, sy, :mt], w)
            if bias is not None:
                out[..., sx, sy, :mt] += delta * torch.view_as_complex(bias[ix + 2 * iy])[None, None]
    v = torch.fft.irfftn(out, s=(nx, ny, out_t + t_pad), dim=(-3, -2, -1), norm="backward")
    return v[..., -out_t:] if temporal_padding else v


def positional_encoding(nx, ny, nt, width, beta, max_time_steps=100):
    gridx = torch.linspace(0, 1, nx)
    gridy = torch.linspace(0, 1, ny)
    gridt = torch.linspace(0, 1, max_time_steps + 1)[1:nt + 1]
    gx, gy, gt = torch.meshgrid(gridx, gridy, gridt, indexing="ij")
    pe = [gx, gy, gt]
    for k in range(width - 3):
        basis = torch.sin if k % 2 == 0 else torch.cos
        pe.append((torch.exp(beta * gridt) * basis(torch.pi * (k + 1) * gridt)).reshape(1, 1, nt).repeat(nx, ny, 1))
    return torch.stack(pe).unsqueeze(0)


def conv1(v, p, name):
    return F.conv3d(v, p[name + ".weight"], p[name + ".bias"])


def ffn(v, p, name, act):
    return conv1(act(conv1(v, p, name + ".linear1")), p, name + ".linear2")


def sfno(x, p, cfg, out_steps):
    """x: (b, x, y, t_in) as the reference; returns (b, x, y, out_steps)."""
    act = {"relu": F.relu, "gelu": F.gelu, "tanh": torch.tanh, "identity": lambda u: u}[cfg["activation"]]
    width, latent = cfg["width"], cfg["latent_steps"]
    corners = lambda name: [p[f"{name}.weight{c}"] for c in range(4)]
    v_res = x
    v = x.unsqueeze(1)
    # Lifting.
    v = v + positional_encoding(*v.shape[-3:], width, cfg["beta"])
    v = F.group_norm(v, 1, p["lifting.norm.weight"], p["lifting.norm.bias"], eps=1e-7)
    v = conv1(v, p, "lifting.proj")
    w = spectral_conv(v, corners("lifting.sconv"), latent)
    if cfg["lift_activation"]:
        v = act(v[..., -1:] + ffn(w, p, "lifting.mlp", act))
    else:
        v = v[..., -1:] + conv1(w, p, "lifting.mlp")
    # Hidden blocks.
    for l in range(cfg["layers"] - 1):
        b = f"blocks.{l}"
        v = act(ffn(spectral_conv(v, corners(b + ".sconv"), v.size(-1)), p, b + ".mlp", act) + conv1(v, p, b + ".w"))
    v = conv1(v, p, "reduction")
    # Output layer.
    v_res = v_res.unsqueeze(1)
    v = torch.cat([v_res[..., -1:], v], dim=-1)
    bias = [p[f"output.conv.spectral_bias{c}"] for c in range(4)]
    v = spectral_conv(v, corners("output.conv"), out_steps + 1, bias, cfg["delta"], temporal_padding=True)
    return (v_res[..., -1:] + v[..., -out_steps:]).squeeze(1)


worst = 0.0
for suffix in ("", "_gelu"):
    with h5py.File(os.path.join(work, f"sfno{suffix}.h5"), "r") as f:
        attrs = f["config"].attrs
        cfg = {k: attrs[k] for k in ("modes_x", "modes_y", "modes_t", "width", "layers", "latent_steps", "beta",
                                     "delta", "lift_activation", "activation")}
        cfg = {k: (v.decode() if isinstance(v, bytes) else v.item()) for k, v in cfg.items()}
        params = {name: torch.tensor(f["parameters"][name][...], requires_grad=True) for name in f["parameters"]}
    print("config:", cfg)
    with h5py.File(os.path.join(work, f"cases{suffix}.h5"), "r") as f:
        for case in ("case0", "case1"):
            g = f[case]
            x_ours = g["x"][...]  # (N, t_in, n0, n1)
            y_ours, dy, dx_ours = g["y"][...], g["dy"][...], g["dx"][...]
            out_steps = y_ours.shape[1]
            x = torch.tensor(x_ours).permute(0, 2, 3, 1).contiguous().requires_grad_(True)
            for t in params.values():
                t.grad = None
            y = sfno(x, params, cfg, out_steps).permute(0, 3, 1, 2)
            (y * torch.tensor(dy)).sum().backward()
            scale = lambda a: max(np.abs(a).max(), 1e-300)
            errors = {"output": np.abs(y.detach().numpy() - y_ours).max() / scale(y_ours),
                      "input gradient": np.abs(x.grad.permute(0, 3, 1, 2).numpy() - dx_ours).max() / scale(dx_ours)}
            for name, t in params.items():
                ours = g["grad"][name][...]
                ref = t.grad.numpy() if t.grad is not None else np.zeros_like(ours)
                errors["grad " + name] = np.abs(ref - ours).max() / scale(ref)
            for k, e in errors.items():
                worst = max(worst, e)
                assert e < 1e-10, f"{suffix or 'relu'} {case}: {k} differs from the PyTorch reference by {e:.2e}"
            print(f"{cfg['activation']} {case}: input {x_ours.shape}, output {y_ours.shape}: worst relative difference "
                  f"{max(errors.values()):.2e} over output, input gradient and {len(params)} parameter gradients")

# Parameter count of the reference configuration, counted on this implementation's tensor shapes.
w, m, e = 20, 12 * 12 * 5, 4
count = 4 * (4 * w * w * m * 2) + 4 * (w * e * w + e * w + e * w * w + w) + 3 * (w * w + w) + (2 * w + w * w + w) \
    + (w + 1) + 2 * 4 * m * 2
print(f"parameters of SFNO(12, 12, 5, width 20, 4 layers): {count}")
print(f"worst relative difference: {worst:.2e}")
