"""`frameswap serve`: run the HTTP server (a drop-in for the hosted Faceswap V2 API) with uvicorn.

Settings come from ``FRAMESWAP_*`` environment variables first, then these flags override them.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from frameswap.cli.disclosure_args import add_disclosure_arguments
from frameswap.options import EngineName, choices


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the HTTP API server (hosted Faceswap V2 compatible)",
        description="Serve POST /v1/models/faceswap-v2 (and /v2 async jobs) on HOST:PORT. With no API key "
        "the server is open, so it binds 127.0.0.1 unless told otherwise.",
    )
    p.add_argument("--host", help="interface to bind (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--api-key", action="append", metavar="KEY", help="accepted x-api-key (repeatable)")
    keys.add_argument("--api-keys-file", type=Path, metavar="FILE", help="file with one API key per line")
    p.add_argument("--workers", type=int, help="swap worker threads (default 1)")
    p.add_argument("--queue-size", type=int, help="requests waiting for a worker; more get 429 (default 8)")
    p.add_argument("--models-dir", type=Path, help="model directory (default: frameswap's own)")
    p.add_argument("--engine", choices=choices(EngineName), help="swap engine (default auto)")
    p.add_argument("--job-timeout", type=float, dest="job_timeout_s", help="seconds per swap before 504")
    p.add_argument("--result-ttl", type=float, dest="result_ttl_s", help="seconds a v2 result is kept")
    p.add_argument("--jobs-db", type=Path, help="SQLite file of the async jobs (default "
                   "$FRAMESWAP_HOME/server/jobs.sqlite3, else ~/.frameswap/server/jobs.sqlite3)")
    p.add_argument("--results-dir", type=Path, help="directory of the async jobs' result files "
                   "(default: results/ beside the default jobs database)")
    p.add_argument("--max-body-mb", type=float, help="largest request body in MiB (default 64)")
    p.add_argument("--max-media-mb", type=float, help="largest input file in MiB (default 48)")
    p.add_argument(
        "--default-face-restore",
        help="restorer used when a request omits face_restore (default codeformer-v0.1.0.pth, as hosted; "
        "'none' if the restorer models are not installed)",
    )
    p.add_argument(
        "--allow-loopback-urls",
        action="store_true",
        default=None,
        help="let source_img/target_img URLs point at this machine (127.0.0.1, ::1); for local use and tests",
    )
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="default info")
    add_disclosure_arguments(p, unset_is_none=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from frameswap.server.app import create_app
    from frameswap.server.settings import MiB, ServerSettings, read_keys_file

    keys: tuple[str, ...] | None = None
    if args.api_key:
        keys = tuple(args.api_key)
    elif args.api_keys_file is not None:
        keys = read_keys_file(args.api_keys_file)
    settings = ServerSettings().with_changes(  # FRAMESWAP_* variables, then the flags given
        host=args.host,
        port=args.port,
        api_keys=keys,
        workers=args.workers,
        queue_size=args.queue_size,
        models_dir=args.models_dir,
        engine=args.engine,
        job_timeout_s=args.job_timeout_s,
        result_ttl_s=args.result_ttl_s,
        jobs_db=args.jobs_db,
        results_dir=args.results_dir,
        max_body_bytes=int(args.max_body_mb * MiB) if args.max_body_mb else None,
        max_media_bytes=int(args.max_media_mb * MiB) if args.max_media_mb else None,
        default_face_restore=args.default_face_restore,
        allow_loopback_urls=args.allow_loopback_urls,
        log_level=args.log_level,
        disclosure=args.disclosure,
        label=args.label,
        c2pa_cert=args.c2pa_cert,
        c2pa_key=args.c2pa_key,
    )
    if settings.models_dir is None:  # --models-dir, FRAMESWAP_MODELS_DIR, then FRAMESWAP_HOME/models
        from frameswap.models.store import resolve_models_dir

        settings = settings.with_changes(models_dir=resolve_models_dir(None, os.environ))
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    app = create_app(settings)  # warns when bound beyond loopback with no key
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.job_timeout_s) + 5,
    )
    return 0
