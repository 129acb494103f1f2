"""`frameswap models list | download | verify`: see, fetch and check the model files.

The handlers resolve the models directory from ``--models-dir`` and the process environment
(the only place that reads it), and reuse insightface's own download folders in place.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from frameswap.errors import OptionsError
from frameswap.models.store import (
    ModelStore,
    default_extra_dirs,
    raise_for_mismatch,
    resolve_models_dir,
)

LICENCE_BANNER = (
    "LICENCES: the InsightFace models (det_10g, w600k_r50, inswapper_128) are for NON-COMMERCIAL "
    "RESEARCH use only; CodeFormer is non-commercial (NTU S-Lab 1.0); GFPGAN's weights are "
    "Apache-2.0 but its code has non-commercial parts (review). You are responsible for your use."
)


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--models-dir", metavar="DIR",
        help="models directory (default: $FRAMESWAP_HOME/models, else ~/.frameswap/models)",
    )
    common.add_argument(
        "--extra-dir", metavar="DIR", action="append", default=[],
        help="another folder to reuse files from (insightface, ComfyUI or facefusion models folder); "
        "repeatable. ~/.insightface/models is always searched",
    )
    p = sub.add_parser("models", help="list, download and verify model files")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")

    p_list = msub.add_parser(
        "list", parents=[common], help="list every model: licence, size, present or missing"
    )
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_list.set_defaults(func=_list)

    p_dl = msub.add_parser("download", parents=[common], help="download model files (sha256 verified)")
    p_dl.add_argument("names", nargs="*", metavar="NAME", help="registry names (see 'frameswap models list')")
    p_dl.add_argument("--all", action="store_true", help="download every model in the registry")
    p_dl.add_argument(
        "--allow-unverified", action="store_true",
        help="also download files whose sha256 is not known (the computed hash is printed)",
    )
    p_dl.add_argument("--no-progress", action="store_true", help="no progress bar")
    p_dl.set_defaults(func=_download)

    p_ver = msub.add_parser("verify", parents=[common], help="re-check the sha256 of the files present")
    p_ver.add_argument("names", nargs="*", metavar="NAME")
    p_ver.set_defaults(func=_verify)

    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _store(args: argparse.Namespace) -> ModelStore:
    models_dir = resolve_models_dir(args.models_dir, os.environ)
    extra = [Path(d).expanduser() for d in args.extra_dir] + default_extra_dirs(Path.home())
    return ModelStore(models_dir, extra)


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e6:.1f} MB"


def _list(args: argparse.Namespace) -> int:
    store = _store(args)
    rows = store.status()
    if args.json:
        doc = {"models_dir": str(store.models_dir), "models": [r.to_json() for r in rows]}
        print(json.dumps(doc, indent=2))
        return 0
    print(LICENCE_BANNER)
    print(f"models directory: {store.models_dir}\n")
    header = f"{'NAME':<14} {'LICENCE':<15} {'SIZE':>9}  {'STATUS':<8} PATH"
    print(header)
    for r in rows:
        where = str(r.path) if r.path else f"(would be {store.models_dir / r.entry.file})"
        status = "present" if r.present else "missing"
        print(f"{r.entry.name:<14} {r.entry.licence_label:<15} {_size(r.entry.size):>9}  {status:<8} {where}")
    print("\nfetch a missing file with: frameswap models download NAME")
    return 0


def _download(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.all and args.names:
        raise OptionsError("give model names or --all, not both")
    names = store.registry.names() if args.all else args.names
    if not names:
        known = ", ".join(store.registry.names())
        raise OptionsError(f"name the models to download (or --all); known: {known}")
    for name in names:
        store.registry.get(name)
    print(LICENCE_BANNER, file=sys.stderr)
    if args.all and not args.allow_unverified:
        # --all skips the files with an unconfirmed hash instead of refusing everything.
        skipped = [n for n in names if not store.registry.get(n).sha256 and not store.has(n)]
        for n in skipped:
            print(f"skipping {n}: its sha256 is unconfirmed (use --allow-unverified)", file=sys.stderr)
        names = [n for n in names if n not in skipped]
    results = store.download(names, progress=not args.no_progress, allow_unverified=args.allow_unverified)
    for res in results:
        if res.status == "present":
            print(f"{res.name}: already present at {res.path}")
        elif res.verified:
            print(f"{res.name}: downloaded to {res.path} (sha256 verified)")
        else:
            print(f"{res.name}: downloaded to {res.path} WITHOUT a known hash to check; sha256 {res.sha256}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    store = _store(args)
    for name in args.names:
        store.registry.get(name)
    results = store.check(args.names or None)
    if not results:
        print(f"no model files present (models directory: {store.models_dir})")
        return 0
    for r in results:
        note = {"ok": "ok", "mismatch": "MISMATCH", "unverified": "no known hash"}[r.status]
        print(f"{r.name:<14} {note:<14} {r.path}")
    raise_for_mismatch(results)
    return 0
