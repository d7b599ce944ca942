"""Your own PyTorch loop, perturbed by fpt_core, and its logs analysed by `fpt analyze`.

Trains ``--runs`` small MLPs on MNIST-1D with plain ``torch.optim.SGD``; with ``--tau T`` each run
is shrunk and perturbed (θ ← 0.4θ + 0.1θ_fresh, momentum cleared) every T epochs by
:class:`fpt_core.protocols.plain.Perturber`. Each run's test accuracy per epoch goes to ``OUT/seed_<i>.csv``
(column ``test_acc``), the layout ``fpt analyze`` reads:

    python examples/plain_loop.py runs/plain --runs 16 --epochs 30
    python examples/plain_loop.py runs/sp5 --runs 16 --epochs 30 --tau 5
    fpt analyze runs/plain --target 0.6 --perturbed runs/sp5 --tau0 5
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from fpt_core.protocols.plain import Perturber
from fpt_core.train.data import load_dataset


def train(seed: int, epochs: int, tau: float | None, data) -> list[float]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(40, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    spec = {"kind": "shrink_perturb", "lam": 0.4, "sigma": 0.1, "tau": tau}
    perturber = Perturber(model, opt, spec, seed) if tau else None
    order = torch.Generator().manual_seed(seed)
    accuracy = []
    for epoch in range(1, epochs + 1):
        for idx in torch.randperm(len(data.y_train), generator=order).split(100):
            loss = F.cross_entropy(model(data.prepare(data.x_train[idx])), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            pred = model(data.prepare(data.x_test)).argmax(-1)
        accuracy.append(float((pred == data.y_test).double().mean()))
        if perturber is not None and epoch < epochs:
            perturber.step(epoch)  # after the evaluation, as in the paper
    return accuracy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--tau", type=float, default=None, help="shrink & perturb every tau epochs")
    ap.add_argument("--samples", type=int, default=2000)
    args = ap.parse_args()
    data = load_dataset("mnist1d", num_samples=args.samples, device="cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in range(args.runs):
        acc = train(seed, args.epochs, args.tau, data)
        (args.out / f"seed_{seed}.csv").write_text("test_acc\n" + "\n".join(map(str, acc)) + "\n")
        print(f"seed {seed}: final test accuracy {acc[-1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
