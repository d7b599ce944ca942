"""Convert the released runs of Meir et al. (2025) into the compact form the book vendors.

Reads ``figures_data_main.tar.xz`` (the folder ``Figures_data/`` of Hirshberg-Lab/OptPerturbationsNN
at commit 5be6f0e, see ``data/meir2025/ATTRIBUTION.md``), reads every ensemble with
:func:`fpt_core.stats.released.discover`, writes ``data/meir2025/runs.npz`` (test accuracy in integer
hundredths of a percent, exact) and ``data/meir2025/MANIFEST.json`` with the checksums of the
tarball and of the arrays (:func:`fpt_core.stats.released.content_checksum`).

    python tools/vendor_meir2025.py [--tarball ../shared/data/meir2025/figures_data_main.tar.xz]
    python tools/vendor_meir2025.py --check   # recompute the vendored file's checksum
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpt_core.stats.released import COMPACT_NAME, compact_checksum, discover, write_compact  # noqa: E402

DEFAULT_TARBALL = ROOT.parent / "shared" / "data" / "meir2025" / "figures_data_main.tar.xz"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def convert(tarball: Path, out: Path) -> dict:
    """Extract ``tarball``, read its ``Figures_data`` folder and write ``out/runs.npz`` and
    ``out/MANIFEST.json``; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        folders = [p for p in Path(tmp).rglob("*") if p.is_dir() and p.name == "Figures_data"]
        data_dir = folders[0] if folders else Path(tmp)
        runs = discover(data_dir)
        checksum = write_compact(runs, out / COMPACT_NAME)
    manifest = {
        "file": COMPACT_NAME,
        "content_sha256": checksum,
        "source": {"file": tarball.name, "sha256": sha256_file(tarball)},
        "column": runs.column,
        "unperturbed": list(runs.unperturbed.acc.shape),
        "perturbed": {
            p: {str(t): list(log.acc.shape) for t, log in by_tau.items()}
            for p, by_tau in runs.perturbed.items()
        },
        "fpt_only": {str(k): len(v) for k, v in runs.fpt_only.items()},
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def check(out: Path) -> bool:
    """Whether ``out/runs.npz`` has the checksum its manifest records."""
    manifest = json.loads((out / "MANIFEST.json").read_text())
    return compact_checksum(out / manifest["file"]) == manifest["content_sha256"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tarball", type=Path, default=DEFAULT_TARBALL)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "meir2025")
    ap.add_argument("--check", action="store_true", help="only verify the vendored checksum")
    args = ap.parse_args(argv)
    if args.check:
        ok = check(args.out)
        print("checksum ok" if ok else "checksum MISMATCH")
        return 0 if ok else 1
    if not args.tarball.is_file():
        ap.error(f"--tarball {args.tarball} not found")
    m = convert(args.tarball, args.out)
    size = (args.out / COMPACT_NAME).stat().st_size
    print(f"wrote {args.out / COMPACT_NAME} ({size / 1e6:.2f} MB), sha256 {m['content_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
