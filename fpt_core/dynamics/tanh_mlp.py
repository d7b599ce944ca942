"""A fully analytic (tanh) MLP trained by SGD with momentum as a batch of replicas.

Zhang, Feng, Chen & Lai (arXiv:2107.09437) draw the order–chaos phase diagram of training on a
fully analytic network. This module trains ``R`` independent replicas of a tanh MLP at once
(one batched matrix product per layer), each with its own seed, learning rate ``η``, momentum
``μ`` and weight decay ``γ``, and measures the two order parameters of the theory chapter (``theory-chaos``):

* the largest Lyapunov exponent of the *training map* (:func:`training_lyapunov`) by Benettin's
  method, with the one exactly neutral direction of a softmax head (every output bias up by the
  same constant) projected out (:func:`project_softmax_shift`), in the metric ``(θ, η b)``;
* the asymptotic Jacobian norm of the *network map* (:func:`network_map_exponent`): the growth
  rate of tangent vectors under the iterated hidden-to-hidden layer of the trained network.

:func:`weight_decay_floor` is the exact exponent of a direction along which the loss is
invariant: weight decay alone contracts it at this rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from fpt_core.dynamics.lyapunov import LyapunovResult, lyapunov_benettin

__all__ = [
    "NetworkMapExponent",
    "ReplicaSGD",
    "TrainingRun",
    "accuracy",
    "init_tanh_mlp",
    "network_map_exponent",
    "project_softmax_shift",
    "tanh_mlp_logits",
    "training_lyapunov",
    "weight_decay_floor",
]

Params = dict[str, torch.Tensor]


def init_tanh_mlp(
    sizes: Sequence[int], seeds: Sequence[int], *, dtype: torch.dtype = torch.float32
) -> Params:
    """Stacked initial weights of ``len(seeds)`` tanh MLPs with layer widths ``sizes``.

    Layer ``l`` maps ``sizes[l] → sizes[l+1]``; ``W{l}`` has shape (R, out, in) and ``b{l}``
    (R, out), both drawn from ``U(−1/√in, 1/√in)`` (PyTorch's ``nn.Linear`` default) with
    ``torch.Generator().manual_seed(seed)`` per replica.

    Examples
    --------
    >>> p = init_tanh_mlp([40, 8, 10], [0, 1])
    >>> tuple(p["W0"].shape), tuple(p["b1"].shape)
    ((2, 8, 40), (2, 10))
    """
    if len(sizes) < 2 or not all(isinstance(s, int) and s >= 1 for s in sizes):
        raise ValueError(f"sizes must be ≥ 2 integers ≥ 1, got {sizes!r}")
    if len(seeds) < 1:
        raise ValueError("seeds must be non-empty")
    out: dict[str, list[torch.Tensor]] = {}
    for s in seeds:
        g = torch.Generator().manual_seed(int(s))
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            bound = 1.0 / math.sqrt(a)
            w = (torch.rand(b, a, generator=g, dtype=torch.float64) * 2 - 1) * bound
            c = (torch.rand(b, generator=g, dtype=torch.float64) * 2 - 1) * bound
            out.setdefault(f"W{i}", []).append(w)
            out.setdefault(f"b{i}", []).append(c)
    return {k: torch.stack(v).to(dtype) for k, v in out.items()}


def _n_layers(params: Params) -> int:
    return sum(1 for k in params if k.startswith("W"))


def tanh_mlp_logits(params: Params, x: torch.Tensor, *, hidden: bool = False) -> torch.Tensor:
    """Logits (R, B, C) of the replicas on inputs ``x`` (R, B, d) or (B, d) (shared).

    ``h_{l+1} = tanh(W_l h_l + b_l)`` for the hidden layers, a linear last layer. With
    ``hidden=True`` the first hidden layer's activations (R, B, H) are returned instead.
    """
    h = x if x.ndim == 3 else x.unsqueeze(0).expand(params["W0"].shape[0], *x.shape)
    n = _n_layers(params)
    for i in range(n):
        h = torch.baddbmm(params[f"b{i}"].unsqueeze(1), h, params[f"W{i}"].transpose(1, 2))
        if i < n - 1:
            h = torch.tanh(h)
            if hidden:
                return h
    return h


def project_softmax_shift(state: dict) -> dict:
    """Remove the class-mean of the last layer's bias from every sub-state (params, velocity).

    Adding one constant to every output bias leaves all softmax probabilities, hence the loss and
    every gradient, unchanged: the plane spanned by that direction in the weights and in the
    momentum is invariant under the training map, with multiplier 1 at weight decay 0
    (:func:`weight_decay_floor` otherwise). This orthogonal projection removes it.

    Examples
    --------
    >>> s = {"params": {"b0": torch.tensor([[1.0, 3.0]])}, "velocity": {"b0": torch.ones(1, 2)}}
    >>> project_softmax_shift(s)["params"]["b0"].tolist()
    [[-1.0, 1.0]]
    """
    out = {}
    for name, sub in state.items():
        last = f"b{sum(1 for k in sub if k.startswith('b')) - 1}"
        out[name] = {
            k: (v - v.mean(dim=-1, keepdim=True)) if k == last else v for k, v in sub.items()
        }
    return out


def weight_decay_floor(lr: float, momentum: float, weight_decay: float) -> float:
    """``ln ρ(A)`` per step, ``A = [[1 − ηγ, −ημ], [γ, μ]]``: weight decay on a loss-flat direction.

    Along a direction ``e`` with ``L(θ + c e) = L(θ)`` the update ``b ← μ b + ∇L + γ θ``,
    ``θ ← θ − η b`` acts on ``(θ·e, b·e)`` as the matrix ``A`` (theory chapter, eq. chaos-hb-matrix);
    its spectral radius is ``½(1 + μ − ηγ + sqrt((1 + μ − ηγ)² − 4μ))`` for real eigenvalues and
    ``sqrt(μ)`` for complex ones. ``0`` at ``γ = 0``; ``≈ −ηγ/(1 − μ)`` for small ``ηγ``.

    Examples
    --------
    >>> weight_decay_floor(0.1, 0.5, 0.0)
    0.0
    >>> round(weight_decay_floor(0.1, 0.0, 0.5), 6) == round(math.log(0.95), 6)
    True
    """
    for name, v, lo in (("lr", lr, 0.0), ("weight_decay", weight_decay, 0.0)):
        if not (math.isfinite(v) and v >= lo):
            raise ValueError(f"{name} must be ≥ {lo}, got {v}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    a = np.array([[1 - lr * weight_decay, -lr * momentum], [weight_decay, momentum]])
    rho = float(np.max(np.abs(np.linalg.eigvals(a))))
    return 0.0 if weight_decay == 0 else math.log(rho)


class ReplicaSGD:
    """SGD with momentum on ``R`` replicas of a tanh MLP, as a map ``step(state, t)``.

    The state is ``{"params": θ, "velocity": v}`` with ``v = η b`` (``b`` PyTorch's momentum
    buffer), so that the Euclidean norm of a separation measures both halves in weight units:

        v ← μ v + η (∇L_{B_t}(θ) + γ θ),   θ ← θ − v

    (PyTorch's ``SGD(momentum=μ, weight_decay=γ)`` in the variables ``(θ, η b)``). Replica ``r``
    uses seed ``seeds[r]``'s data order: a fresh permutation of the training set every epoch,
    from ``torch.Generator().manual_seed(seed + 7919)``; minibatch of step ``t`` = slice ``t mod
    steps_per_epoch`` of epoch ``t // steps_per_epoch``'s permutation. ``step`` accepts ``k·R``
    rows (row ``i`` is replica ``i mod R``), so a reference and its companion share minibatches.
    A replica whose loss is not finite, or whose largest weight exceeds ``blowup``, becomes NaN.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, *, lr: Sequence[float],
                 momentum: Sequence[float], weight_decay: Sequence[float], seeds: Sequence[int],
                 batch_size: int, blowup: float = 1e3) -> None:  # fmt: skip
        n = len(seeds)
        for name, v in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if len(v) != n:
                raise ValueError(f"{name} must have one value per replica ({n}), got {len(v)}")
        if not all(v > 0 for v in lr):
            raise ValueError("lr values must be > 0")
        if not all(0 <= v < 1 for v in momentum):
            raise ValueError("momentum values must lie in [0, 1)")
        if not all(v >= 0 for v in weight_decay):
            raise ValueError("weight_decay values must be ≥ 0")
        if not 1 <= batch_size <= x.shape[0]:
            raise ValueError(f"batch_size must lie in [1, {x.shape[0]}], got {batch_size}")
        self.x, self.y, self.R, self.batch = x, y, n, int(batch_size)
        self.lr, self.mu, self.wd = (torch.tensor(v, dtype=x.dtype) for v in (lr, momentum, weight_decay))  # fmt: skip
        self.steps_per_epoch = x.shape[0] // self.batch
        self._gens = [torch.Generator().manual_seed(int(s) + 7919) for s in seeds]
        self._perms: list[torch.Tensor] = []
        self.blowup = float(blowup)

    def batch_indices(self, t: int) -> torch.Tensor:
        """Training indices of step ``t`` per replica, shape (R, batch_size)."""
        epoch, pos = divmod(int(t), self.steps_per_epoch)
        while len(self._perms) <= epoch:
            n = self.x.shape[0]
            self._perms.append(torch.stack([torch.randperm(n, generator=g) for g in self._gens]))
        return self._perms[epoch][:, pos * self.batch : (pos + 1) * self.batch]

    def __call__(self, state: dict, t: int) -> dict:
        p, v = state["params"], state["velocity"]
        rows = p["W0"].shape[0]
        if rows % self.R:
            raise ValueError(f"state must have a multiple of R={self.R} rows, got {rows}")
        rep = torch.arange(rows) % self.R
        idx = self.batch_indices(t)[rep]
        with torch.enable_grad():
            q = {k: w.detach().requires_grad_(True) for k, w in p.items()}
            logits = tanh_mlp_logits(q, self.x[idx])
            loss = F.cross_entropy(logits.flatten(0, 1), self.y[idx].flatten(), reduction="none")
            per = loss.view(rows, -1).mean(1)
            grads = torch.autograd.grad(per.sum(), list(q.values()))
        lr, mu, wd = self.lr[rep], self.mu[rep], self.wd[rep]
        bad = ~torch.isfinite(per.detach())
        new_p, new_v = {}, {}
        for (k, th), g in zip(p.items(), grads, strict=True):
            shape = (-1,) + (1,) * (th.ndim - 1)
            new_v[k] = v[k] * mu.view(shape) + lr.view(shape) * (g + th * wd.view(shape))
            new_p[k] = th - new_v[k]
            bad |= new_p[k].flatten(1).abs().amax(1) > self.blowup
        fill = lambda d: {k: w.masked_fill(bad.view((-1,) + (1,) * (w.ndim - 1)), math.nan) for k, w in d.items()}  # noqa: E731  # fmt: skip
        return {"params": fill(new_p), "velocity": fill(new_v)}

    def x0(self, params: Params) -> dict:
        """Initial state: ``params`` (R rows) with zero velocity."""
        return {"params": dict(params), "velocity": {k: torch.zeros_like(w) for k, w in params.items()}}  # fmt: skip


def accuracy(params: Params, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Accuracy of each replica on ``(x, y)`` (shared inputs), shape (R,); NaN if diverged."""
    with torch.no_grad():
        pred = tanh_mlp_logits(params, x).argmax(-1)
        acc = (pred == y.unsqueeze(0)).to(torch.float64).mean(1).numpy()
    ok = torch.isfinite(params["W0"].flatten(1)).all(1).numpy()
    return np.where(ok, acc, np.nan)


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """Output of :func:`training_lyapunov`: ``result`` (per step, pairs = replicas), test
    accuracy ``acc`` (R, n_evals) at the end of every epoch of warm-up and window, their
    ``eval_steps`` (n_evals,), the first window step ``window_start``, the final references."""

    result: LyapunovResult
    acc: np.ndarray
    eval_steps: np.ndarray
    window_start: int
    state: dict


def training_lyapunov(smap: ReplicaSGD, params: Params, x_test: torch.Tensor,
                      y_test: torch.Tensor, *, warmup: int, n_steps: int, transient: int = 0,
                      renorm_every: int = 10, d0: float = 1e-4,
                      generator: torch.Generator | None = None) -> TrainingRun:  # fmt: skip
    """Train every replica ``warmup`` steps, then measure the training map's largest exponent.

    After the warm-up, :func:`fpt_core.dynamics.lyapunov.lyapunov_benettin` advances each replica and a
    companion ``d0`` away on the same minibatches for ``transient + n_steps`` steps, with
    :func:`project_softmax_shift` removing the neutral softmax direction. Test accuracy of the
    references is recorded at the end of every epoch throughout.
    """
    for name, v, lo in (("warmup", warmup, 0), ("n_steps", n_steps, 1), ("transient", transient, 0)):  # fmt: skip
        if not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer ≥ {lo}, got {v!r}")
    spe, accs, steps = smap.steps_per_epoch, [], []
    state = smap.x0(params)
    with torch.no_grad():
        for t in range(warmup):
            state = smap(state, t)
            if (t + 1) % spe == 0:
                accs.append(accuracy(state["params"], x_test, y_test))
                steps.append(t + 1)
    last: dict = {}

    def step(z: dict, t: int) -> dict:
        out = smap(z, warmup + t)
        if (warmup + t + 1) % spe == 0:
            accs.append(accuracy({k: w[: smap.R] for k, w in out["params"].items()}, x_test, y_test))  # fmt: skip
            steps.append(warmup + t + 1)
        last["z"] = out
        return out

    with torch.no_grad():
        res = lyapunov_benettin(step, state, n_steps=n_steps, transient=transient, d0=d0,
                                renorm_every=renorm_every, project=project_softmax_shift,
                                generator=generator)  # fmt: skip
    final = {n: {k: w[: smap.R] for k, w in d.items()} for n, d in last["z"].items()}
    return TrainingRun(res, np.stack(accs, axis=1), np.asarray(steps), warmup, final)


@dataclass(frozen=True, eq=False)
class NetworkMapExponent:
    """Output of :func:`network_map_exponent`: ``full`` and ``half`` (last half of the
    iterations) estimates of ``λ_net``, each (R, N)."""

    full: np.ndarray
    half: np.ndarray


def network_map_exponent(params: Params, x: torch.Tensor, *, n_iter: int = 500,
                         transient: int = 100, seed: int = 0) -> NetworkMapExponent:  # fmt: skip
    """Asymptotic Jacobian growth rate of the iterated hidden-to-hidden map, per replica and input.

    With ``Ψ(h) = tanh(W_1 h + b_1)`` the (square) second layer of the trained network and the
    first-layer activations ``h_0 = tanh(W_0 x + b_0)`` of the inputs as initial states, the orbit
    ``h_{t+1} = Ψ(h_t)`` and a tangent vector ``u_{t+1} = J_t u_t``, ``J_t = diag(1 − h_{t+1}²) W_1``,
    give

        λ_net = (1/n) Σ_{t = T₀}^{T₀+n−1} ln ‖J_t û_t‖,   χ = exp(λ_net)

    (``û`` renormalised each iteration; the first ``T₀ = transient`` iterations are discarded).
    ``χ`` is the asymptotic Jacobian norm of the network map along its orbit: ``χ < 1`` (ordered)
    when every orbit settles on a stable fixed point, ``χ > 1`` on a chaotic attractor, ``χ = 1``
    on a (pseudo)periodic one. Returns ``λ_net`` of shape (R, N) over the whole window and over
    its last half (a convergence check). Cf. Feng, Zhang & Lai
    (arXiv:1909.05176), who locate the edge of chaos by asymptotic Jacobian norms.

    Examples
    --------
    >>> p = {"W0": torch.eye(2)[None], "b0": torch.zeros(1, 2),
    ...      "W1": 0.5 * torch.eye(2)[None], "b1": torch.zeros(1, 2),
    ...      "W2": torch.ones(1, 1, 2), "b2": torch.zeros(1, 1)}
    >>> lam = network_map_exponent(p, torch.ones(3, 2), n_iter=200)
    >>> bool(np.allclose(lam.full, math.log(0.5), atol=1e-4))
    True
    """
    if "W1" not in params or params["W1"].shape[1] != params["W1"].shape[2]:
        raise ValueError("params needs a square second layer W1 (hidden → hidden of equal width)")
    for name, v, lo in (("n_iter", n_iter, 1), ("transient", transient, 0)):
        if not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer ≥ {lo}, got {v!r}")
    w, b = params["W1"].to(torch.float64), params["b1"].to(torch.float64).unsqueeze(1)
    with torch.no_grad():
        h = tanh_mlp_logits(params, x, hidden=True).to(torch.float64)
        g = torch.Generator().manual_seed(seed)
        u = torch.randn(h.shape, generator=g, dtype=torch.float64)
        u = u / u.norm(dim=-1, keepdim=True)
        total = torch.zeros(h.shape[:2], dtype=torch.float64)
        late = torch.zeros_like(total)
        for t in range(transient + n_iter):
            h = torch.tanh(torch.baddbmm(b, h, w.transpose(1, 2)))
            u = (1 - h * h) * torch.bmm(u, w.transpose(1, 2))
            norm = u.norm(dim=-1, keepdim=True)
            if t >= transient:
                total += norm.squeeze(-1).log()
                if t >= transient + n_iter // 2:
                    late += norm.squeeze(-1).log()
            u = u / norm.clamp_min(1e-300)
    n_late = n_iter - n_iter // 2
    return NetworkMapExponent((total / n_iter).numpy(), (late / n_late).numpy())
