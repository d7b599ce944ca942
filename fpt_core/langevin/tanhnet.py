"""The seed paper's 7-weight tanh regression network (Adhikari et al. 2023, arXiv:2306.03521).

A 1–2–1 tanh network fitted to y = exp(−x²) + noise on 200 points; its loss, per-example
gradients and Hessians, a closed-form minibatch gradient for many chains at once, and the
minimum found by trust-region Newton. Used by :mod:`fpt_core.langevin.noneq` and notebook 05.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize as sopt
import torch

from fpt_core.train.device import resolve_device

__all__ = ["TanhNet", "make_tanh_net"]


@dataclass(frozen=True)
class TanhNet:
    """The seed paper's 1–2–1 tanh regression network with 7 weights (w[0..6] = w1…w7).

    f(x) = w5·tanh(w1·x + w3) + w6·tanh(w2·x + w4) + w7; per-example loss
    ℓ_i = (y_i − f(x_i))²/(2σ²) plus the prior share λ‖w‖²/(2σ²), so that the full loss is
    U(w) = Σ_i (y_i − f(x_i))²/(2σ²) + (N/(2σ²))·λ‖w‖² and the minibatch estimate is
    Ũ = (N/B)·Σ_{i∈b} ℓ_i (Adhikari et al. 2023).
    """

    x: torch.Tensor
    y: torch.Tensor
    sigma: float
    weight_decay: float

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def _example_loss(self, w, xi, yi):
        f = w[4] * torch.tanh(w[0] * xi + w[2]) + w[5] * torch.tanh(w[1] * xi + w[3]) + w[6]
        return ((yi - f) ** 2 + self.weight_decay * (w * w).sum()) / (2 * self.sigma**2)

    def predict(self, w, x) -> np.ndarray:
        """f(x) for one weight vector w (7,) at points x (numpy)."""
        w, x = np.asarray(w, float), np.asarray(x, float)
        return w[4] * np.tanh(w[0] * x + w[2]) + w[5] * np.tanh(w[1] * x + w[3]) + w[6]

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        """Full loss U(w) for one weight vector (7,)."""
        return torch.vmap(self._example_loss, in_dims=(None, 0, 0))(w, self.x, self.y).sum()

    def per_example_grads(self, w) -> np.ndarray:
        """∇ℓ_i(w) including the prior share, shape (N, 7); they sum to ∇U."""
        w = torch.as_tensor(w, dtype=torch.float64, device=self.x.device)
        g = torch.func.grad(self._example_loss)
        return torch.vmap(g, in_dims=(None, 0, 0))(w, self.x, self.y).cpu().numpy()

    def per_example_hessians(self, w) -> np.ndarray:
        """∇²ℓ_i(w) including the prior share, shape (N, 7, 7)."""
        w = torch.as_tensor(w, dtype=torch.float64, device=self.x.device)
        h = torch.func.hessian(self._example_loss)
        return torch.vmap(h, in_dims=(None, 0, 0))(w, self.x, self.y).cpu().numpy()

    def minibatch_grad(self, w: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """∇Ũ for weights (C, 7) and batch indices (C, B), in closed form."""
        xb, yb = self.x[idx], self.y[idx]
        t1 = torch.addcmul(w[:, 2:3], w[:, 0:1], xb).tanh_()
        t2 = torch.addcmul(w[:, 3:4], w[:, 1:2], xb).tanh_()
        r = torch.addcmul(w[:, 6:7], w[:, 4:5], t1).addcmul_(w[:, 5:6], t2).sub_(yb)
        u1, u2 = 1 - t1 * t1, 1 - t2 * t2
        feats = torch.stack([u1 * xb, u2 * xb, u1, u2, t1, t2, torch.ones_like(r)], -1)
        g = torch.bmm(r.unsqueeze(1), feats).squeeze(1)  # (C, 7)
        g[:, :4] *= w[:, [4, 5, 4, 5]]
        scale = self.n / (idx.shape[1] * self.sigma**2)
        return torch.add(g * scale, w, alpha=self.n * self.weight_decay / self.sigma**2)

    def minimum(self, n_starts: int = 8, seed: int = 0) -> np.ndarray:
        """Lowest of ``n_starts`` trust-region Newton minimisations from N(0, I) starts."""
        dev = self.x.device
        as_t = lambda v: torch.tensor(v, dtype=torch.float64, device=dev)  # noqa: E731
        fun = lambda v: float(self.loss(as_t(v)))  # noqa: E731
        jac = lambda v: torch.func.grad(self.loss)(as_t(v)).cpu().numpy()  # noqa: E731
        hess = lambda v: torch.func.hessian(self.loss)(as_t(v)).cpu().numpy()  # noqa: E731
        rng = np.random.default_rng(seed)
        best = None
        for _ in range(n_starts):
            r = sopt.minimize(fun, rng.standard_normal(7), jac=jac, hess=hess,
                              method="trust-exact", options={"gtol": 1e-9, "maxiter": 3000})  # fmt: skip
            if best is None or r.fun < best.fun:
                best = r
        w = best.x
        for _ in range(5):  # polish with Newton steps
            w = w - np.linalg.solve(hess(w), jac(w))
        return w


def make_tanh_net(
    n: int = 200,
    x_min: float = -3.0,
    dx: float = 0.03,
    data_noise: float = 0.1,
    sigma: float = 0.1,
    weight_decay: float = 1e-3,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> TanhNet:
    """Data of the seed paper: x = x_min, x_min + dx, …; y = exp(−x²) + data_noise·ε."""
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ValueError(f"n={n!r} must be an integer ≥ 2")
    for name, v in (("dx", dx), ("sigma", sigma)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name}={v!r} must be a finite number > 0")
    for name, v in (("data_noise", data_noise), ("weight_decay", weight_decay)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name}={v!r} must be a finite number ≥ 0")
    x = x_min + dx * np.arange(n)
    y = np.exp(-(x**2)) + data_noise * np.random.default_rng(seed).standard_normal(n)
    dev = resolve_device(device)
    t = lambda a: torch.tensor(a, dtype=torch.float64, device=dev)  # noqa: E731
    return TanhNet(t(x), t(y), float(sigma), float(weight_decay))
