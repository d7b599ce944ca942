"""TempBalance for a plain model: a learning-rate scheduler over ``optimizer.param_groups``.

As the reference code of Zhou et al. (NeurIPS 36, 2023) does, the optimiser holds one parameter
group per parameter (:func:`per_parameter_groups`); once per epoch :meth:`TempBalanceLR.step`
measures α of every Linear/Conv layer (:func:`fpt_core.spectra.layers.layer_alphas`), maps the tuned
layers' α to factors (:func:`fpt_core.protocols.tempbalance.layer_lr_factors`: η_i = η · f_i,
f_i = s1 + (s2 − s1)(α_i − α_min)/(α_max − α_min), the first and last layer at 1) and sets each
group's learning rate to its base rate times the factor of its layer
(:func:`fpt_core.protocols.tempbalance.param_lr_factors`, BatchNorm following its layer). The same
functions as the engine's :class:`fpt_core.protocols.tempbalance.TempBalance`.

Examples
--------
>>> import torch
>>> from torch import nn
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
...                       nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
>>> opt = torch.optim.SGD(per_parameter_groups(model), lr=0.1, momentum=0.9)
>>> tb = TempBalanceLR(model, opt)
>>> factors = tb.step()
>>> sorted(factors)[:2], 0.5 <= min(factors.values()) <= max(factors.values()) <= 1.5
(['0.bias', '0.weight'], True)
"""

from __future__ import annotations

import torch
from torch import nn

from fpt_core.protocols.tempbalance import layer_lr_factors, param_lr_factors
from fpt_core.spectra.htsr import weight_layer_names
from fpt_core.spectra.layers import layer_alphas

__all__ = ["per_parameter_groups", "TempBalanceLR"]


def per_parameter_groups(model: nn.Module) -> list[dict]:
    """One optimiser parameter group per parameter of ``model``, each with its ``name``."""
    return [{"params": [p], "name": n} for n, p in model.named_parameters()]


class TempBalanceLR:
    """Per-layer learning rates from the layers' tail exponents, for any optimiser.

    Parameters
    ----------
    model, optimizer : the optimiser must have one group per parameter
        (:func:`per_parameter_groups`); each group's current ``lr`` is its base rate.
    s1, s2 : the factor range (0.5, 1.5: the reference defaults).
    method : α estimator of :func:`fpt_core.spectra.layers.layer_alphas` ("hill", "clauset", "farms").
    exclude_first_last, batchnorm : as :func:`layer_lr_factors` and :func:`param_lr_factors`.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        s1: float = 0.5,
        s2: float = 1.5,
        method: str = "hill",
        exclude_first_last: bool = True,
        batchnorm: bool = True,
    ) -> None:
        if not 0 <= s1 <= s2:
            raise ValueError(f"s1={s1}, s2={s2}: need 0 ≤ s1 ≤ s2")
        names = {id(p): n for n, p in model.named_parameters()}
        self.groups = []
        for g in optimizer.param_groups:
            if len(g["params"]) != 1 or id(g["params"][0]) not in names:
                raise ValueError(
                    "optimizer: needs one parameter group per parameter of model "
                    "(build it with per_parameter_groups(model))"
                )
            self.groups.append((g, names[id(g["params"][0])], g["lr"]))
        self.model, self.s1, self.s2, self.method = model, s1, s2, method
        self.exclude_first_last, self.batchnorm = exclude_first_last, batchnorm
        self.alphas: dict[str, float] = {}

    def step(self) -> dict[str, float]:
        """Measure α, set every group's ``lr`` = base · factor; return the factor per parameter."""
        fits = layer_alphas(self.model, self.method)
        self.alphas = {n: float(f.alpha) for n, f in fits.items()}
        lf = layer_lr_factors(
            self.alphas, layers=weight_layer_names(self.model),
            exclude_first_last=self.exclude_first_last, s1=self.s1, s2=self.s2,
        )  # fmt: skip
        pf = param_lr_factors(self.model, lf, batchnorm=self.batchnorm)
        for group, name, base in self.groups:
            group["lr"] = base * pf[name]
        return pf
