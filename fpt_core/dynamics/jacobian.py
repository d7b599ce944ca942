"""Input–output Jacobian norms of a function (the order-parameter family of the network map).

Feng, Zhang & Lai (arXiv:1909.05176) and Zhang, Feng, Chen & Lai (arXiv:2107.09437) locate the
edge of chaos of a network through Jacobian norms of its nonlinear operator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from fpt_core.stats.checks import check_int

__all__ = ["JacobianNorm", "jacobian_norm"]

# --------------------------------------------------------------------------------------------
# Input–output Jacobian norm
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class JacobianNorm:
    """Result of :func:`jacobian_norm`.

    ``mean``, ``sd`` (ddof=1; ``NaN`` for one input), ``stderr`` (``sd/sqrt(n)``) of
    ``per_input`` (ndarray (n,)), the norm ``ord`` used, the flattened input and output
    dimensions ``in_dim`` and ``out_dim``.
    """

    mean: float
    sd: float
    stderr: float
    per_input: np.ndarray
    ord: str
    in_dim: int
    out_dim: int

    @property
    def n(self) -> int:
        return int(self.per_input.shape[0])


_JACOBIAN_ORDS = ("fro", "spectral", "rms")


def jacobian_norm(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    ord: str = "fro",
    batched: bool = True,
    chunk_size: int | None = None,
) -> JacobianNorm:
    """Norm of the input–output Jacobian ``J(x) = ∂f(x)/∂x``, per input, averaged over inputs.

    With inputs and outputs flattened, ``J(x_i)`` is an ``out_dim × in_dim`` matrix, computed by
    ``torch.func.vmap(torch.func.jacrev(f))`` over the leading dimension of ``x``. Per input:

    * ``"fro"``: ``‖J‖_F = sqrt(Σ_ab J_ab²)``;
    * ``"spectral"``: ``‖J‖_2 = σ_max(J)``, the largest singular value (the largest one-step
      stretch factor of an infinitesimal input perturbation);
    * ``"rms"``: ``‖J‖_F / sqrt(in_dim)``, the root-mean-square stretch
      ``sqrt(E‖J u‖² / E‖u‖²)`` of an isotropic random perturbation ``u`` (1 for an orthogonal
      ``J``; dimension-free, unlike ``‖J‖_F`` which is ``sqrt(n)`` for the identity).

    The result reports the mean, sd and standard error of the per-input norm over the inputs.

    Relation to the order parameters of the edge-of-chaos literature. For an iterated map
    ``h_{t+1} = F(h_t)`` with Jacobians ``J_t``, the largest Lyapunov exponent is
    ``lim (1/n) ln ‖J_n ⋯ J_1 u‖`` and obeys ``λ_max ≤ ⟨ln ‖J_t‖_2⟩ ≤ ⟨ln ‖J_t‖_F⟩`` (time
    average along the orbit); for a constant ``J`` it equals ``ln ρ(J)``, the spectral radius.
    Feng, Zhang & Lai (arXiv:1909.05176) locate the edge of chaos through the "asymptotic
    Jacobian norm" of the nonlinear operator, with a threshold that, per their abstract, depends
    on the system's dimensionality; Zhang, Feng, Chen & Lai (arXiv:2107.09437) use it to draw the
    order–chaos phase diagram of training. This function implements no threshold and no
    asymptotic limit: it returns exactly the norms listed above at the inputs given. To follow
    their construction, evaluate it with ``f`` the operator and ``x`` its asymptotic states, and
    consult the papers for the normalisation and the critical value.

    Parameters
    ----------
    f : callable
        With ``batched=True`` (default) ``f`` maps a batch ``(N, *in) → (N, *out)`` like a
        network (each row independently; use eval mode for BatchNorm/dropout); it is applied
        to one input at a time as ``f(x_i[None])[0]``. With ``batched=False`` ``f`` maps a
        single input ``(*in) → (*out)``.
    x : tensor, shape (N, ...)
        Inputs, N ≥ 1, floating point.
    ord : {"fro", "spectral", "rms"}
        Norm per input.
    batched : bool
        See ``f``.
    chunk_size : int ≥ 1, optional
        Passed to ``vmap`` to bound memory (``N × out_dim × in_dim`` Jacobian entries otherwise).
    """
    if not callable(f):
        raise ValueError("f must be a callable")
    if ord not in _JACOBIAN_ORDS:
        raise ValueError(f"ord must be one of {_JACOBIAN_ORDS}, got {ord!r}")
    if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[0] < 1:
        raise ValueError("x must be a tensor (N ≥ 1, *in) with a leading input dimension")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating point tensor, got dtype {x.dtype}")
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", 1)

    def single(xi: torch.Tensor) -> torch.Tensor:
        return f(xi.unsqueeze(0)).squeeze(0) if batched else f(xi)

    x = x.detach()
    jac = torch.func.vmap(torch.func.jacrev(single), chunk_size=chunk_size)(x)
    n = x.shape[0]
    in_dim = int(np.prod(x.shape[1:], dtype=np.int64))
    out_dim = int(jac.numel() // (n * in_dim))
    jac = jac.reshape(n, out_dim, in_dim).detach()
    if ord == "spectral":
        per = torch.linalg.matrix_norm(jac, ord=2)
    else:
        per = torch.linalg.matrix_norm(jac, ord="fro")
        if ord == "rms":
            per = per / math.sqrt(in_dim)
    per_input = per.to(torch.float64).cpu().numpy()
    sd = float(np.std(per_input, ddof=1)) if n > 1 else float("nan")
    return JacobianNorm(
        mean=float(np.mean(per_input)),
        sd=sd,
        stderr=sd / math.sqrt(n),
        per_input=per_input,
        ord=ord,
        in_dim=in_dim,
        out_dim=out_dim,
    )
