import math

import pytest
import torch
import torchvision.transforms.functional as TF

from fpt_core.train.augment import random_crop_flip


def _candidates(img, p):
    """All 2·(2p+1)² outcomes of RandomCrop(padding=p) + hflip, the torchvision way."""
    _, H, W = img.shape
    padded = TF.pad(img, p)
    out = {}
    for top in range(2 * p + 1):
        for left in range(2 * p + 1):
            crop = TF.crop(padded, top, left, H, W)
            out[(top, left, False)] = crop
            out[(top, left, True)] = TF.hflip(crop)
    return out


def _which(img, aug, p):
    hits = [k for k, c in _candidates(img, p).items() if torch.equal(c, aug)]
    assert hits, "augmented sample is none of the crops/flips of its input"
    return hits


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_each_sample_is_a_crop_flip_of_its_input(dtype):
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(1, 256, (64, 3, 6, 5), generator=gen, dtype=torch.uint8).to(dtype)
    out = random_crop_flip(x, 2, torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == dtype
    for i in range(x.shape[0]):
        # random non-zero pixels: the matching outcome is unique
        assert len(_which(x[i], out[i], 2)) == 1


def test_offsets_cover_all_and_flip_rate_is_one_half():
    p, n = 2, 1500
    x = torch.randint(1, 256, (n, 1, 4, 4), generator=torch.Generator().manual_seed(2))
    x = x.to(torch.uint8)
    out = random_crop_flip(x, p, torch.Generator().manual_seed(3))
    seen = [_which(x[i], out[i], p)[0] for i in range(n)]
    tops = torch.tensor([s[0] for s in seen])
    lefts = torch.tensor([s[1] for s in seen])
    flips = torch.tensor([float(s[2]) for s in seen])
    k = 2 * p + 1
    for offs in (tops, lefts):
        counts = torch.bincount(offs, minlength=k).double()
        assert counts.numel() == k and (counts > 0).all()
        # each offset has probability 1/k: counts within 4 binomial SE of n/k
        se = math.sqrt(n * (1 / k) * (1 - 1 / k))
        assert ((counts - n / k).abs() < 4 * se).all(), counts
    assert abs(flips.mean().item() - 0.5) < 4 * math.sqrt(0.25 / n)
    assert len(set(seen)) == 2 * k * k  # every one of the 50 outcomes occurs


def test_deterministic_and_replica_batches():
    x = torch.randint(0, 256, (3, 5, 3, 8, 8), dtype=torch.uint8)
    a = random_crop_flip(x, 4, torch.Generator().manual_seed(7))
    b = random_crop_flip(x, 4, torch.Generator().manual_seed(7))
    c = random_crop_flip(x, 4, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape
    # (R, B, ...) is the same as the flattened (R·B, ...) batch
    flat = random_crop_flip(x.reshape(15, 3, 8, 8), 4, torch.Generator().manual_seed(7))
    assert torch.equal(a.reshape(15, 3, 8, 8), flat)
    for r in range(3):
        for i in range(5):
            _which(x[r, i], a[r, i], 4)


def test_padding_zero_flips_only_and_bad_input():
    x = torch.rand(40, 2, 3, 3)
    out = random_crop_flip(x, 0, torch.Generator().manual_seed(0))
    flipped = [bool(torch.equal(o, xi.flip(-1))) for o, xi in zip(out, x, strict=True)]
    same = [bool(torch.equal(o, xi)) for o, xi in zip(out, x, strict=True)]
    assert all(f or s for f, s in zip(flipped, same, strict=True)) and any(flipped) and any(same)
    with pytest.raises(ValueError, match="padding"):
        random_crop_flip(x, -1)
    with pytest.raises(ValueError, match="shape"):
        random_crop_flip(x[0], 1)
