"""The durable store of async (v2) jobs: SQLite (WAL) records, result files under a directory.

Why SQLite: it ships with Python, survives a crash mid-write (a transaction is whole or absent),
and WAL mode lets several processes on one node (Ray Serve replicas pointed at one path) read
while one writes; ``BEGIN IMMEDIATE`` makes each quota check and its insert one step, so two
replicas cannot both take a key's last slot. Result files are written beside their final name and
renamed into place (:mod:`frameswap.atomic`), so a result is whole or absent too.

What survives a restart: every record and every finished result, served until ``result_ttl_s``
after it finished. A job that was queued or running in a process that died is marked FAILED with
the code ``server_restarted``, not re-queued: its inputs (up to two 48 MiB bodies, or URLs whose
answer may have changed) were never written to disk, and a job that was running when its process
died may be what killed it, so running it again could crash the next process too.

How a dead process is told from a live one (several share the database): each process holds an
exclusive ``flock`` on ``<db>.instances/<id>.lock`` for its lifetime. The kernel drops the lock
when the process dies, however it dies (SIGKILL included), so a lock that can be taken belongs to
a dead process, whose queued and running jobs are then failed. One node only: ``flock`` does not
reach across machines (nor does SQLite's locking over network filesystems).

Expiry: a sweep (at start, on every submission and every minute) deletes the records of finished
jobs past their time and their files, and any result file no record names; at start it also
deletes the temporary files a killed process left (see :mod:`frameswap.atomic`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from frameswap.atomic import atomic_output, sweep_stale_parts
from frameswap.server.errors import JobNotFoundError, QuotaError, ResultStorageFullError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    instance TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    result_file TEXT,
    result_bytes INTEGER NOT NULL DEFAULT 0,
    content_type TEXT,
    format TEXT,
    frame_count INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
"""
_ACTIVE = ("QUEUED", "PROCESSING")
_RESULT_NAME = re.compile(r"^[A-Za-z0-9_-]{10,64}\.[a-z0-9]{2,5}$")
_PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True)
class StoreLimits:
    """What the store keeps at once; past a limit a submission answers 429 (quota_exceeded)."""

    result_ttl_s: float = 3600.0
    max_jobs: int = 256  # every key together
    max_jobs_per_key: int = 32
    max_result_bytes: int = 4 << 30  # every key together
    max_result_bytes_per_key: int = 1 << 30


@dataclass(frozen=True)
class JobRecord:
    """One row: what ``GET /v2/jobs/{id}`` reports."""

    id: str
    owner: str
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    done: int
    total: int
    result_file: str | None
    result_bytes: int
    content_type: str | None
    format: str | None
    frame_count: int | None
    error: dict[str, object] | None


def default_server_home(environ: Mapping[str, str]) -> Path:
    """``$FRAMESWAP_HOME/server``, else ``~/.frameswap/server``: where the job store lives by default."""
    home = environ.get("FRAMESWAP_HOME", "").strip()
    return (Path(home).expanduser() if home else Path.home() / ".frameswap") / "server"


class JobStore:
    """Job records and result files; every method is safe from any thread and any process.

    ``clock`` gives epoch seconds (records outlive processes, so monotonic time would not do).
    Nothing touches the disk until the first call, so building an app costs no I/O.
    """

    def __init__(
        self,
        db_path: Path,
        results_dir: Path,
        limits: StoreLimits = StoreLimits(),
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db_path = Path(db_path)
        self.results_dir = Path(results_dir)
        self.limits = limits
        self.instance = secrets.token_hex(8)
        self._clock = clock
        self._lock_file: IO[bytes] | None = None
        self._opening = threading.Lock()  # the first calls may come from several threads at once
        self._last_progress: dict[str, float] = {}

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def _instances_dir(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".instances")

    def open(self) -> None:
        """Create the database and directories, claim this process's instance lock, recover and
        sweep what a dead process left. Idempotent; every other method calls it first."""
        if self._lock_file is not None:
            return
        with self._opening:
            if self._lock_file is None:
                self._open_locked()

    def _open_locked(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._instances_dir.mkdir(parents=True, exist_ok=True)
        lock = (self._instances_dir / f"{self.instance}.lock").open("wb")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        self._lock_file = lock  # from here on the other methods may run (they call open first)
        self.recover()
        self.sweep(temp_files=True)

    def close(self) -> None:
        """Release the instance lock (its jobs then count as a dead process's at the next start)."""
        if self._lock_file is not None:
            self._lock_file.close()
            (self._instances_dir / f"{self.instance}.lock").unlink(missing_ok=True)
            self._lock_file = None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # one short-lived connection per call: sqlite3 connections are not for sharing across threads,
        # and opening one is cheap next to a swap; the busy timeout queues writers of other processes
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once (``BEGIN IMMEDIATE``): checks and writes in it are atomic
        against every other process."""
        self.open()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _unlink_results(self, names: list[str | None]) -> None:
        for name in names:
            if name:
                (self.results_dir / name).unlink(missing_ok=True)

    # -- lifecycle of a job --------------------------------------------------------------------------

    def create(self, owner: str) -> str:
        """A new QUEUED record for ``owner``, or :class:`QuotaError` when a limit is reached."""
        lim = self.limits
        expired = self._delete_expired()
        with self._write() as db:
            jobs, owned, held, held_by_owner = db.execute(
                "SELECT COUNT(*), SUM(owner = ?), COALESCE(SUM(result_bytes), 0), "
                "COALESCE(SUM(CASE WHEN owner = ? THEN result_bytes END), 0) FROM jobs",
                (owner, owner),
            ).fetchone()
            owned = owned or 0
            if owned >= lim.max_jobs_per_key:
                raise QuotaError(
                    f"this key holds {owned} async jobs, its limit; fetch or DELETE some, or wait for "
                    f"them to expire ({lim.result_ttl_s:g} s after they finish)"
                )
            if held_by_owner >= lim.max_result_bytes_per_key:
                raise QuotaError(
                    f"this key's results take {held_by_owner} bytes, its limit of "
                    f"{lim.max_result_bytes_per_key}; DELETE some"
                )
            if jobs >= lim.max_jobs or held >= lim.max_result_bytes:
                raise QuotaError("the server holds as many async jobs as it can; retry later")
            job_id = secrets.token_urlsafe(18)
            db.execute(
                "INSERT INTO jobs (id, owner, status, instance, created_at) VALUES (?, ?, 'QUEUED', ?, ?)",
                (job_id, owner, self.instance, self._clock()),
            )
        self._unlink_results(expired)
        return job_id

    def started(self, job_id: str) -> bool:
        """Mark PROCESSING; False when the record is gone (deleted while it waited)."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE jobs SET status = 'PROCESSING', started_at = ? WHERE id = ? AND status = 'QUEUED'",
                (self._clock(), job_id),
            )
            return cur.rowcount == 1

    def progress(self, job_id: str, done: int, total: int) -> bool:
        """Record progress (at most twice a second per job); False once the record is gone (the job
        was deleted, possibly by another process): the caller then stops the work."""
        now = time.monotonic()
        if now - self._last_progress.get(job_id, 0.0) < _PROGRESS_EVERY_S and done < total:
            return True
        self._last_progress[job_id] = now
        with self._connect() as db:
            cur = db.execute("UPDATE jobs SET done = ?, total = ? WHERE id = ?", (done, total, job_id))
            return cur.rowcount == 1

    def complete(
        self, job_id: str, data: bytes, *, content_type: str, format: str, frame_count: int
    ) -> bool:
        """Write the result file atomically, then mark the record COMPLETED. False when the record
        is gone (the file is removed again); :class:`ResultStorageFullError` past the byte caps."""
        self._last_progress.pop(job_id, None)
        suffix = re.sub(r"[^a-z0-9]", "", format.lower())[:5] or "bin"
        name = f"{job_id}.{suffix}"
        self.open()
        with atomic_output(self.results_dir / name) as tmp, tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            with self._write() as db:
                row = db.execute("SELECT owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None:
                    raise _Gone
                held, held_by_owner = db.execute(
                    "SELECT COALESCE(SUM(result_bytes), 0), "
                    "COALESCE(SUM(CASE WHEN owner = ? THEN result_bytes END), 0) FROM jobs",
                    (row[0],),
                ).fetchone()
                size = len(data)
                if held + size > self.limits.max_result_bytes:
                    raise ResultStorageFullError(
                        f"the {size}-byte result does not fit in the server's result storage "
                        f"({held} of {self.limits.max_result_bytes} bytes in use)"
                    )
                if held_by_owner + size > self.limits.max_result_bytes_per_key:
                    raise ResultStorageFullError(
                        f"the {size}-byte result would take this key's results over its limit of "
                        f"{self.limits.max_result_bytes_per_key} bytes; DELETE some"
                    )
                db.execute(
                    "UPDATE jobs SET status = 'COMPLETED', finished_at = ?, result_file = ?, "
                    "result_bytes = ?, content_type = ?, format = ?, frame_count = ?, "
                    "done = MAX(done, total) WHERE id = ?",
                    (self._clock(), name, size, content_type, format, frame_count, job_id),
                )
        except _Gone:
            self._unlink_results([name])
            return False
        except BaseException:
            self._unlink_results([name])
            raise
        return True

    def fail(self, job_id: str, status_code: int, payload: Mapping[str, str]) -> None:
        """Mark FAILED with the error the client will see (``{"error", "code", "hint"}``)."""
        self._last_progress.pop(job_id, None)
        error = json.dumps({"status_code": status_code, **payload})
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET status = 'FAILED', finished_at = ?, error = ? WHERE id = ? "
                "AND status IN ('QUEUED', 'PROCESSING')",
                (self._clock(), error, job_id),
            )

    # -- reading and deleting ------------------------------------------------------------------------

    def get(self, job_id: str, owner: str) -> JobRecord:
        """The record, for its owner only; unknown, expired or another key's: :class:`JobNotFoundError`."""
        self.open()
        with self._connect() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        record = None if row is None else _record(row)
        if record is None or not secrets.compare_digest(record.owner, owner) or self._expired(record):
            raise JobNotFoundError(f"no job {job_id[:40]!r}: it never existed, was deleted or expired")
        return record

    def result_path(self, record: JobRecord) -> Path:
        """The result file of a COMPLETED record (it may vanish if the job is deleted meanwhile)."""
        if record.result_file is None:
            raise JobNotFoundError(f"job {record.id[:40]!r} has no result")
        return self.results_dir / record.result_file

    def delete(self, job_id: str, owner: str) -> JobRecord:
        """Remove the record and its result file; returns what it was. A running job notices at its
        next progress report (in any process) and stops."""
        with self._write() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            record = None if row is None else _record(row)
            if record is None or not secrets.compare_digest(record.owner, owner):
                raise JobNotFoundError(f"no job {job_id[:40]!r}: it never existed, was deleted or expired")
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        self._unlink_results([record.result_file])
        return record

    def expires_at(self, record: JobRecord) -> float | None:
        return None if record.finished_at is None else record.finished_at + self.limits.result_ttl_s

    def _expired(self, record: JobRecord) -> bool:
        expires = self.expires_at(record)
        return expires is not None and self._clock() >= expires

    def counts(self) -> dict[str, int]:
        self.open()
        with self._connect() as db:
            jobs, held = db.execute("SELECT COUNT(*), COALESCE(SUM(result_bytes), 0) FROM jobs").fetchone()
        return {"stored_jobs": int(jobs), "stored_result_bytes": int(held)}

    # -- recovery and sweeping -----------------------------------------------------------------------

    def recover(self) -> int:
        """Fail the queued and running jobs of processes that died; returns how many."""
        with self._connect() as db:
            instances = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT instance FROM jobs WHERE status IN (?, ?) AND instance != ?",
                    (*_ACTIVE, self.instance),
                )
            ]
        dead = [i for i in instances if not self._alive(i)]
        if not dead:
            return 0
        error = json.dumps(
            {
                "status_code": 503,
                "error": "the server restarted before this job finished; its inputs were not kept",
                "code": "server_restarted",
                "hint": "Submit the job again.",
            }
        )
        failed = 0
        with self._write() as db:
            for instance in dead:
                cur = db.execute(
                    "UPDATE jobs SET status = 'FAILED', finished_at = ?, error = ? "
                    "WHERE instance = ? AND status IN (?, ?)",
                    (self._clock(), error, instance, *_ACTIVE),
                )
                failed += cur.rowcount
        for instance in dead:
            (self._instances_dir / f"{instance}.lock").unlink(missing_ok=True)
        return failed

    def _alive(self, instance: str) -> bool:
        """Whether the process that owns ``instance`` still holds its lock."""
        if not re.fullmatch(r"[0-9a-f]{16}", instance):
            return False
        path = self._instances_dir / f"{instance}.lock"
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            return False
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False

    def _delete_expired(self) -> list[str | None]:
        cutoff = self._clock() - self.limits.result_ttl_s
        with self._write() as db:
            names = [
                r[0]
                for r in db.execute(
                    "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at <= ? "
                    "RETURNING result_file",
                    (cutoff,),
                )
            ]
        return names

    def sweep(self, *, temp_files: bool = False) -> int:
        """Delete expired jobs and their files, and result files no record names; with ``temp_files``
        also the temporary files of jobs no live process runs (start-up). Returns files deleted."""
        self.open()
        expired = self._delete_expired()
        self._unlink_results(expired)
        with self._connect() as db:
            named = {r[0] for r in db.execute("SELECT result_file FROM jobs WHERE result_file IS NOT NULL")}
        removed = len([n for n in expired if n])
        for entry in os.scandir(self.results_dir):
            # a result whose record is gone (deleted, expired or never committed); a result being
            # committed right now has its record updated in the same breath, so give it a minute
            if (
                _RESULT_NAME.match(entry.name)
                and entry.name not in named
                and time.time() - entry.stat().st_mtime > 60
            ):
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
        if temp_files:  # half-written results of killed processes (their lock is gone with them)
            removed += len(sweep_stale_parts(self.results_dir))
        return removed


class _Gone(Exception):
    """The record was deleted while its job ran."""


_FIELDS = tuple(f.name for f in dataclasses.fields(JobRecord))  # the columns, in the record's order
_COLUMNS = ", ".join(_FIELDS)


def _record(row: tuple[Any, ...]) -> JobRecord:
    values = dict(zip(_FIELDS, row, strict=True))
    values["error"] = json.loads(values["error"]) if values["error"] else None
    return JobRecord(**values)
