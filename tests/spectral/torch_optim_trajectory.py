#!/usr/bin/python3
"""Runs torch.optim on the quadratic of tests/spectral/test_optim.cpp and prints the final parameters.

usage: torch_optim_trajectory.py STEPS p0 p1 ... p7   (the first 6 values are the weight's (re, im)
pairs, the last 2 the bias). Prints one line per optimizer: sgd_nesterov, adam_groups, adamw_groups.
"""
import math
import sys

import torch

steps, values = int(sys.argv[1]), [float(v) for v in sys.argv[2:]]
torch.set_default_dtype(torch.float64)
curv = torch.tensor([0.5 + 0.3 * (i % 5) for i in range(8)])
centre = torch.tensor([math.sin(i) for i in range(8)])

for name in ("sgd_nesterov", "adam_groups", "adamw_groups"):
    weight = torch.nn.Parameter(torch.view_as_complex(torch.tensor(values[:6]).reshape(3, 2)))
    bias = torch.nn.Parameter(torch.tensor(values[6:]))
    if name == "sgd_nesterov":
        opt = torch.optim.SGD([weight, bias], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)
    else:
        cls = torch.optim.Adam if name == "adam_groups" else torch.optim.AdamW
        opt = cls([{"params": [bias], "lr": 0.2, "weight_decay": 0.0}, {"params": [weight]}],
                  lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)
    for _ in range(steps):
        opt.zero_grad()
        flat = torch.cat([torch.view_as_real(weight).reshape(-1), bias])
        (0.5 * (curv * (flat - centre) ** 2).sum()).backward()
        opt.step()
    flat = torch.cat([torch.view_as_real(weight).reshape(-1), bias]).detach()
    print(name, " ".join(repr(float(v)) for v in flat))
