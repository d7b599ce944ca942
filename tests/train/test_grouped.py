import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import stack_module_state
from torchvision.models.resnet import BasicBlock, ResNet

from fpt_core.train.grouped import GroupedLinear, grouped_forward, grouped_grads, grouped_module
from fpt_core.train.models import build_model

R, B, K = 3, 8, 10


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Small tensors on a shared CPU: one intra-op thread is much faster (conftest)."""
    yield


class NarrowResNet(ResNet):
    """torchvision's ResNet-18 graph (BasicBlock [2, 2, 2, 2], CIFAR stem as in
    ``models.resnet18_cifar``, strided 1×1-conv + BN downsample, adaptive average pool) with small
    widths, so the float64 check of the architecture is cheap."""

    def __init__(self, widths=(4, 6, 8, 10), n_classes=K):
        nn.Module.__init__(self)
        self._norm_layer, self.dilation, self.groups, self.base_width = nn.BatchNorm2d, 1, 1, 64
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 3, stride=1, padding=1, bias=False)
        self.bn1, self.relu, self.maxpool = nn.BatchNorm2d(widths[0]), nn.ReLU(True), nn.Identity()
        self.layer1 = self._make_layer(BasicBlock, widths[0], 2)
        self.layer2 = self._make_layer(BasicBlock, widths[1], 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, widths[2], 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, widths[3], 2, stride=2)
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d((1, 1)), nn.Linear(widths[3], n_classes)


def _model(name, **kw):
    return lambda shape: build_model(name, shape, K, **kw)


# name → (builder(input_shape), input_shape, dtypes tested)
BOTH = (torch.float32, torch.float64)
CASES = {
    "resnet18": (_model("resnet18"), (3, 8, 8), (torch.float32,)),  # full width: fp32 only
    "resnet_narrow": (lambda shape: NarrowResNet(), (3, 8, 8), BOTH),
    "cnn1d": (_model("cnn", channels=[4, 5]), (40,), BOTH),
    "cnn2d": (_model("cnn", channels=[4, 5]), (3, 8, 8), BOTH),
    "mlp1d": (_model("mlp", hidden=[16, 8]), (40,), BOTH),
    "mlp2d": (_model("mlp", hidden=[16]), (3, 8, 8), BOTH),
}


def _setup(case, seed=0, dtype=torch.float32):
    build, shape, _ = CASES[case]
    models = []
    for r in range(R):
        torch.manual_seed(seed + r)
        models.append(build(shape).to(dtype))
    params, buffers = stack_module_state(copy.deepcopy(models))
    params = {k: v.detach().clone() for k, v in params.items()}
    buffers = {k: v.detach().clone() for k, v in buffers.items()}
    gen = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(R, B, *shape, generator=gen, dtype=dtype)
    y = torch.randint(0, K, (R, B), generator=gen)
    base = copy.deepcopy(models[0]).to("meta")
    return models, base, params, buffers, x, y


def _separate(models, x, y):
    """Reference: each model on its own batch, in train mode, plain autograd."""
    out, grads, losses = [], [], []
    for r, m in enumerate(models):
        m.train()
        logits = m(x[r])
        loss = F.cross_entropy(logits, y[r])
        names = [k for k, _ in m.named_parameters()]
        g = torch.autograd.grad(loss, [p for _, p in m.named_parameters()])
        out.append(logits.detach())
        grads.append(dict(zip(names, g, strict=True)))
        losses.append(loss.detach())
    return torch.stack(out), grads, torch.stack(losses)


def _assert_buffers(buffers, models):
    for k, v in buffers.items():
        ref = torch.stack([dict(m.named_buffers())[k] for m in models])
        if v.dtype == torch.long:
            assert torch.equal(v, ref), k
        else:
            torch.testing.assert_close(v, ref, rtol=1e-5, atol=1e-6, msg=k)


def _close_grads(grads, ref_grads, dtype):
    # fp32: 18 layers of accumulation in a different order (grouped vs dense kernels) give
    # relative differences ~1e-5 of a tensor's scale; fp64 shows the construction is exact
    rtol, rel_atol = (1e-4, 1e-5) if dtype == torch.float32 else (1e-10, 1e-12)
    for k, g in grads.items():
        for r in range(R):
            ref = ref_grads[r][k]
            atol = rel_atol * float(ref.abs().max())
            torch.testing.assert_close(g[r], ref, rtol=rtol, atol=atol, msg=f"{k}[{r}]")


TOL = {torch.float32: {"rtol": 1e-5, "atol": 2e-5}, torch.float64: {"rtol": 1e-10, "atol": 1e-12}}
DTYPE_CASES = [(c, dt) for c, (_, _, dts) in CASES.items() for dt in dts]


@pytest.mark.parametrize("case,dtype", DTYPE_CASES, ids=lambda v: str(v).replace("torch.", ""))
def test_grouped_matches_separate_models(case, dtype):
    models, base, params, buffers, x, y = _setup(case, dtype=dtype)
    buf_fwd = {k: v.clone() for k, v in buffers.items()}
    logits = grouped_forward(base, params, buf_fwd, x, training=True)
    ref_out, ref_grads, ref_losses = _separate(models, x, y)
    assert logits.shape == (R, B, K) and logits.dtype == dtype
    torch.testing.assert_close(logits, ref_out, **TOL[dtype])
    _assert_buffers(buf_fwd, models)  # running stats after one training forward

    grads, losses = grouped_grads(base, params, buffers, x, y, torch.ones(R, dtype=torch.bool))
    torch.testing.assert_close(losses, ref_losses, **TOL[dtype])
    assert set(grads) == set(params)
    assert all(g.shape == params[k].shape for k, g in grads.items())
    _close_grads(grads, ref_grads, dtype)
    _assert_buffers(buffers, models)  # grouped_grads did one training forward too

    # eval mode uses the running statistics (after one training step, so they are not trivial)
    ev = grouped_forward(base, params, buffers, x, training=False)
    ref_ev = torch.stack([m.eval()(x[r]) for r, m in enumerate(models)]).detach()
    torch.testing.assert_close(ev, ref_ev, **TOL[dtype])
    ev_shared = grouped_forward(base, params, buffers, x[1], training=False, shared_input=True)
    ref_shared = torch.stack([m(x[1]) for m in models]).detach()
    torch.testing.assert_close(ev_shared, ref_shared, **TOL[dtype])
    _assert_buffers(buffers, models)  # eval mode left the statistics alone


def test_narrow_resnet_has_the_resnet18_structure():
    full, narrow = build_model("resnet18", (3, 8, 8), K), NarrowResNet()
    kinds = lambda m: [(n, type(c).__name__) for n, c in m.named_modules()]  # noqa: E731
    assert kinds(full)[1:] == kinds(narrow)[1:]  # all but the root's class name


@pytest.mark.parametrize("case", ["resnet_narrow", "cnn2d", "mlp1d"])
def test_replicas_do_not_leak(case):
    """Changing replica 0's input (even to NaN) leaves the other replicas bit-identical."""
    _, base, params, buffers, x, y = _setup(case, dtype=torch.float64)
    buf_a = {k: v.clone() for k, v in buffers.items()}
    grads_a, losses_a = grouped_grads(base, params, buf_a, x, y)
    for bad in (x[0] * 3.0 + 1.0, torch.full_like(x[0], float("nan"))):
        x2 = x.clone()
        x2[0] = bad
        buf_b = {k: v.clone() for k, v in buffers.items()}
        grads_b, losses_b = grouped_grads(base, params, buf_b, x2, y)
        assert losses_b[0] != losses_a[0] or torch.isnan(losses_b[0])
        torch.testing.assert_close(losses_b[1:], losses_a[1:], rtol=1e-12, atol=0)
        for k in grads_a:
            torch.testing.assert_close(grads_b[k][1:], grads_a[k][1:], rtol=1e-12, atol=1e-15)
        for k in buf_a:
            torch.testing.assert_close(buf_b[k][1:], buf_a[k][1:], rtol=1e-12, atol=0)
        out_b = grouped_forward(base, params, buf_b, x2, training=False)
        out_a = grouped_forward(base, params, buf_a, x, training=False)
        torch.testing.assert_close(out_b[1:], out_a[1:], rtol=1e-12, atol=1e-15)


def test_dead_replicas_are_skipped():
    """As the engine's loop: zero gradient, NaN loss, BatchNorm buffers untouched."""
    _, base, params, buffers, x, y = _setup("resnet_narrow", dtype=torch.float64)
    buf_all = {k: v.clone() for k, v in buffers.items()}
    grads_all, losses_all = grouped_grads(base, params, buf_all, x, y)
    alive = torch.tensor([True, False, True])
    buf = {k: v.clone() for k, v in buffers.items()}
    grads, losses = grouped_grads(base, params, buf, x, y, alive)
    assert torch.isnan(losses[1]) and torch.isfinite(losses[[0, 2]]).all()
    torch.testing.assert_close(losses[[0, 2]], losses_all[[0, 2]], rtol=1e-12, atol=0)
    for k, g in grads.items():
        assert torch.equal(g[1], torch.zeros_like(g[1])), k
        torch.testing.assert_close(g[[0, 2]], grads_all[k][[0, 2]], rtol=1e-12, atol=1e-15)
    for k, v in buf.items():
        assert torch.equal(v[1], buffers[k][1]), k  # untouched
        assert torch.equal(v[[0, 2]], buf_all[k][[0, 2]]), k
    nbt = buf["bn1.num_batches_tracked"]
    assert nbt.tolist() == [1, 0, 1]


def test_non_contiguous_buffers_are_written_back_and_module_is_cached():
    models, base, params, buffers, x, y = _setup("resnet_narrow")
    ref = {k: v.clone() for k, v in buffers.items()}
    grouped_forward(base, params, ref, x)
    # (C, R) storage transposed to (R, C): a reshape would copy, updates must still land
    odd = {k: (v.t().contiguous().t() if v.ndim == 2 else v.clone()) for k, v in buffers.items()}
    assert not odd["bn1.running_mean"].is_contiguous()
    grouped_forward(base, params, odd, x)
    for k in ref:
        torch.testing.assert_close(odd[k], ref[k], rtol=0, atol=0, msg=k)
    assert grouped_module(base, R) is grouped_module(base, R)
    assert grouped_module(base, R) is not grouped_module(base, R + 1)
    assert isinstance(grouped_module(base, R).fc, GroupedLinear)
    assert grouped_module(base, R).layer2[0].downsample[0].groups == R


def test_channels_last_and_bf16_autocast():
    _, base, params, buffers, x, y = _setup("resnet_narrow")
    ref = grouped_forward(base, params, {k: v.clone() for k, v in buffers.items()}, x)
    cl = grouped_forward(
        base, params, {k: v.clone() for k, v in buffers.items()}, x, channels_last=True
    )
    torch.testing.assert_close(cl, ref, rtol=1e-5, atol=2e-5)
    grads, losses = grouped_grads(base, params, buffers, x, y, autocast_dtype=torch.bfloat16)
    grads32, losses32 = grouped_grads(
        base, params, {k: v.clone() for k, v in buffers.items()}, x, y
    )
    assert losses.dtype == torch.float32 and grads["conv1.weight"].dtype == torch.float32
    # bf16 has 8 mantissa bits: the loss agrees to a few 1e-2
    torch.testing.assert_close(losses, losses32, rtol=0.05, atol=0.05)


def test_unsupported_layer_is_refused():
    base = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    params, buffers = stack_module_state([copy.deepcopy(base) for _ in range(2)])
    with pytest.raises(NotImplementedError, match="LayerNorm"):
        grouped_forward(base, params, buffers, torch.zeros(2, 3, 4))


def test_equals_engine_grads_loop():
    """Drop-in for the engine's replica-by-replica BatchNorm path (float64: exact)."""
    from fpt_core.train.config import TrainConfig
    from fpt_core.train.data import Data
    from fpt_core.train.engine import _grads_loop, _new_state

    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 3, 8, 8, generator=gen), torch.randint(0, K, (16,), generator=gen)
    data = Data("cifar10", x, y, x[:4], y[:4], K)
    cfg = TrainConfig(dataset="cifar10", model="resnet18", batch_size=4, epochs=1)
    state = _new_state(cfg, [0, 1], data)
    state.params = {k: v.double() for k, v in state.params.items()}
    state.buffers = {
        k: v.double() if v.is_floating_point() else v for k, v in state.buffers.items()
    }
    state.alive[1] = False
    idx = torch.randint(0, 16, (2, 4), generator=gen)
    xb, yb = x[idx].double(), y[idx]
    before = {k: v.clone() for k, v in state.buffers.items()}
    ref_grads, ref_losses = _grads_loop(state, xb, yb)
    ref_buffers, state.buffers = state.buffers, before
    grads, losses = grouped_grads(state.base, state.params, state.buffers, xb, yb, state.alive)
    # the loop stores losses in a float32 tensor
    torch.testing.assert_close(losses.float(), ref_losses, rtol=1e-6, atol=0, equal_nan=True)
    for k, g in grads.items():
        torch.testing.assert_close(g, ref_grads[k], rtol=1e-10, atol=1e-13, msg=k)
    for k, v in state.buffers.items():
        torch.testing.assert_close(v, ref_buffers[k], rtol=1e-12, atol=0, msg=k)
