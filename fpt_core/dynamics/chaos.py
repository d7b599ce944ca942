"""Order and chaos in training dynamics: Lyapunov exponents, Jacobian norms, phase diagrams.

Training is a discrete-time dynamical system ``x_{t+1} = Φ_t(x_t)`` on the optimiser state ``x``
(parameters and, for SGD with momentum, the momentum buffer), with ``Φ_t`` depending on the
minibatch of step ``t``. Its largest Lyapunov exponent

    λ_max = lim_{n→∞} (1/n) ln( ‖δx_n‖ / ‖δx_0‖ )

separates an ordered phase (λ_max < 0: nearby runs that share the minibatch sequence converge)
from a chaotic one (λ_max > 0: they separate exponentially). It is estimated here by the
two-trajectory renormalisation method of Benettin, Galgani, Giorgilli & Strelcyn (1980,
Meccanica 15, 9–20; 21–30). The module also provides the input–output Jacobian norm of a function
(the order parameter family used by Feng, Zhang & Lai, arXiv:1909.05176, and Zhang, Feng, Chen &
Lai, arXiv:2107.09437), an engine-agnostic phase-grid runner, the ``λ = 0`` contour of a grid, and a
data-collapse test of training times against the effective learning rate ``η / (1 − μ)``.

Nothing here imports the training engine: a training step enters only as a callable.

The code lives in :mod:`fpt_core.dynamics.lyapunov` (Benettin), :mod:`fpt_core.dynamics.jacobian` (Jacobian
norms), :mod:`fpt_core.dynamics.phases` (grids, contours, collapse) and :mod:`fpt_core.dynamics.tanh_mlp` (a fully
analytic network trained as replicas, its training-map and network-map exponents); this module
re-exports their public names.
"""

from __future__ import annotations

from fpt_core.dynamics.jacobian import JacobianNorm, jacobian_norm
from fpt_core.dynamics.lyapunov import LyapunovResult, convergence, lyapunov_benettin
from fpt_core.dynamics.phases import ScalingCollapse, edge_contour, phase_grid, scaling_collapse
from fpt_core.dynamics.pytree import State

__all__ = [
    "JacobianNorm",
    "LyapunovResult",
    "ScalingCollapse",
    "State",
    "convergence",
    "edge_contour",
    "jacobian_norm",
    "lyapunov_benettin",
    "phase_grid",
    "scaling_collapse",
]
