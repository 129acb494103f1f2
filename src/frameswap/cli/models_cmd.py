"""`frameswap models list | download | verify`: see, fetch and check the model files.

The handlers resolve the models directory from ``--models-dir`` and the process environment
(the only place that reads it), and reuse insightface's own download folders in place. Files
that pip packages ship (CenterFace, dlib's models) are listed and verified like downloads, so
their licences are as visible, but they are installed with pip, never downloaded.
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
    "Apache-2.0 but its code has non-commercial parts (review). Embedded (pip-installed) models: "
    "CenterFace (MIT) and dlib's 128-D descriptor, 5-point predictor and CNN detector (public "
    "domain) allow commercial use, but dlib's 68-point predictor (dlib_68_landmarks, used by the "
    "dlib analyzer and the classic engine) was trained on iBUG 300-W, which EXCLUDES commercial use. "
    "You are responsible for your use."
)
COMMERCIAL_HELP = (
    "list every model: source, licence, commercial use, size, present or missing. The COMMERCIAL "
    "column says which files allow commercial use: 'yes' (CenterFace, dlib's descriptor, 5-point "
    "predictor and CNN detector), 'NO' (the InsightFace models, CodeFormer, and dlib's 68-point "
    "predictor that the dlib analyzer and the classic engine need), 'review' (GFPGAN). No swap path "
    "is free for commercial use today: inswapper needs InsightFace models, classic needs the "
    "68-point predictor"
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
        "list", parents=[common], description=COMMERCIAL_HELP,
        help="list every model: source, licence, whether COMMERCIAL use is allowed, size, present or "
        "missing (no swap path is free for commercial use today; see 'models list -h')",
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
    print(f"{'NAME':<18} {'SOURCE':<28} {'COMMERCIAL':<10} {'SIZE':>9}  {'STATUS':<8} PATH / LICENCE")
    for r in rows:
        e = r.entry
        if r.path:
            where = str(r.path)
        elif e.package is not None:
            where = f"(pip install {e.package.distribution})"
        else:
            where = f"(would be {store.models_dir / e.file})"
        status = "present" if r.present else "missing"
        print(f"{e.name:<18} {e.source_label:<28} {_commercial(e.commercial_use):<10} {_size(e.size):>9}  "
              f"{status:<8} {where}")
        print(f"{'':<18} licence: {e.licence}")
    print("\nfetch a missing file with: frameswap models download NAME "
          "(files from a pip: source are installed with pip, not downloaded)")
    return 0


def _commercial(allowed: bool | None) -> str:
    """The COMMERCIAL column: loud when it is not allowed, 'review' when unclear."""
    return {True: "yes", False: "NO", None: "review"}[allowed]


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
    if args.all:  # package files are pip's business: say so instead of failing on a missing one
        shipped = [n for n in names if store.registry.get(n).package is not None]
        for n in shipped:
            dist = store.registry.get(n).package.distribution  # type: ignore[union-attr]
            state = "installed" if store.has(n) else "NOT installed"
            print(f"skipping {n}: shipped by the pip package {dist} ({state}), not downloaded",
                  file=sys.stderr)
        names = [n for n in names if n not in shipped]
    if args.all and not args.allow_unverified:
        # --all skips the files with an unconfirmed hash instead of refusing everything.
        skipped = [n for n in names if not store.registry.get(n).sha256 and not store.has(n)]
        for n in skipped:
            print(f"skipping {n}: its sha256 is unconfirmed (use --allow-unverified)", file=sys.stderr)
        names = [n for n in names if n not in skipped]
    results = store.download(names, progress=not args.no_progress, allow_unverified=args.allow_unverified)
    for res in results:
        if res.status == "package":
            dist = store.registry.get(res.name).package.distribution  # type: ignore[union-attr]
            print(f"{res.name}: installed with pip (package {dist}) at {res.path}; nothing to download")
        elif res.status == "present":
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
        print(f"{r.name:<18} {note:<14} {r.path}")
    raise_for_mismatch(results)
    return 0
