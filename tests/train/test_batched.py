import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state

from fpt_core.train.batched import MLPKernel, is_plain_mlp
from fpt_core.train.models import MLP, SmallCNN


def _stacked(R, in_features, hidden, n_classes=10):
    torch.manual_seed(0)
    models = [MLP(in_features, n_classes, hidden) for _ in range(R)]
    params, _ = stack_module_state(models)
    return models, {k: v.detach().clone() for k, v in params.items()}


@pytest.mark.parametrize(
    "input_shape,hidden,B", [((40,), (32, 16), 25), ((3, 4, 4), (8,), 7), ((40,), (), 5)]
)
@pytest.mark.parametrize("group", [8, 2])  # all replicas at once; groups of 2, 2 and 1
def test_kernel_matches_autograd_per_replica(input_shape, hidden, B, group):
    R = 5
    models, params = _stacked(R, torch.Size(input_shape).numel(), hidden)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(R, B, *input_shape, generator=gen)
    y = torch.randint(0, 10, (R, B), generator=gen)
    kernel = MLPKernel(models[0], group=group)
    grads, losses = kernel.grads(params, x, y)
    for r, m in enumerate(models):
        loss = F.cross_entropy(m(x[r]), y[r])
        ref = torch.autograd.grad(loss, list(m.parameters()))
        torch.testing.assert_close(losses[r], loss.detach(), rtol=1e-6, atol=1e-6)
        for (name, _), g in zip(m.named_parameters(), ref, strict=True):
            torch.testing.assert_close(grads[name][r], g, rtol=1e-5, atol=1e-7)
        logits = kernel.forward(params, x)[0]
        torch.testing.assert_close(logits[r], functional_call(m, dict(m.named_parameters()), x[r]))


def test_replicas_do_not_leak():
    R, B = 3, 10
    models, params = _stacked(R, 40, (16,))
    kernel = MLPKernel(models[0])
    x = torch.randn(R, B, 40)
    y = torch.randint(0, 10, (R, B))
    g1, l1 = (lambda g, l: ({k: v.clone() for k, v in g.items()}, l))(*kernel.grads(params, x, y))
    x2 = x.clone()
    x2[0] = float("nan")  # replica 0 blows up
    g2, l2 = kernel.grads(params, x2, y)
    assert torch.isnan(l2[0]) and torch.equal(l1[1:], l2[1:])
    for k in g1:
        assert torch.isnan(g2[k][0]).any()
        assert torch.equal(g1[k][1:], g2[k][1:])


def test_only_plain_mlp_uses_the_kernel():
    assert is_plain_mlp(MLP(40, 10))
    assert not is_plain_mlp(SmallCNN((40,), 10))
