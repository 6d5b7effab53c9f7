"""Loading binary and markup documents in a small process pool, under limits.

A PDF, DOCX, HTML or CSV file is parsed by third-party code that a hostile file can
drive into a decompression bomb, a pathological nesting depth or an endless loop. The
loaders check what they can, but the last line is here: those formats are parsed in
worker processes with a memory ceiling (``RLIMIT_AS``) and a wall-clock limit. A file that
blows through either costs its own row (a ``DocumentError`` with the reason), never the
batch's process; the pool is rebuilt and the next file goes on.

Plain text and Markdown are decoded in-process: their loaders are ours, bounded by size.

Knobs (environment): ``EIGHTFLOW_LOADER_WORKERS`` (default 2),
``EIGHTFLOW_LOADER_TIMEOUT_S`` (30), ``EIGHTFLOW_LOADER_MEMORY_MB`` (1024 above the idle
worker's size; 0 = no ceiling),
``EIGHTFLOW_LOADER_SANDBOX`` (``0`` to load everything in-process).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from eightflow_app.tasks.loading.load import load_document

from eightflow.documents import Document
from eightflow.errors import DocumentError
from eightflow.runtime.worker_exit import at_worker_exit

SANDBOXED_SUFFIXES = frozenset({".pdf", ".docx", ".html", ".htm", ".csv", ".tsv"})


@dataclass(frozen=True)
class SandboxLimits:
    workers: int = 2
    timeout_s: float = 30.0
    memory_mb: int = 1024

    @classmethod
    def from_env(cls) -> SandboxLimits:
        env = os.environ
        return cls(
            workers=max(1, int(env.get("EIGHTFLOW_LOADER_WORKERS") or 2)),
            timeout_s=float(env.get("EIGHTFLOW_LOADER_TIMEOUT_S") or 30.0),
            memory_mb=int(env.get("EIGHTFLOW_LOADER_MEMORY_MB") or 1024),
        )


def _address_space_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _limit_memory(memory_mb: int) -> None:
    """Pool initializer: at most ``memory_mb`` more address space than the idle worker has.

    Relative, not absolute: what the worker holds before its first file depends on what
    the parent's ``__main__`` imports (a CLI, pytest, a Prefect worker), and the ceiling
    is meant for the file being parsed.
    """
    if memory_mb <= 0:
        return
    import resource

    import eightflow_app.tasks.loading.load  # noqa: F401  (the parsers, loaded before the baseline is taken)

    limit = _address_space_bytes() + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _load_in_worker(path: str, root: str | None, memory_mb: int) -> Document:
    """Runs in a worker: every failure comes back as a picklable ``DocumentError``."""
    try:
        return load_document(path, root)
    except DocumentError:
        raise
    except MemoryError:
        error = DocumentError(
            f"needs more than the loader's {memory_mb} MiB memory ceiling to parse "
            "(a decompression bomb?)",
            path=path,
        )
        error.recycle_worker = True  # type: ignore[attr-defined]  # its heap stays fragmented
        raise error from None
    except RecursionError:
        raise DocumentError("structure nested too deeply to parse", path=path) from None
    except Exception as exc:  # a parser's own bug on this file: the file's row says so
        reason = " ".join(str(exc).split())[:200]
        raise DocumentError(f"parser failed: {type(exc).__name__}: {reason}", path=path) from None


def _ready() -> bool:
    return True


class LoaderSandbox:
    """A process pool for loaders; thread-safe, rebuilt whenever a worker had to die."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits.from_env()
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.limits.workers,
                    # Not fork: the batch process has threads (writers, Prefect), and a
                    # forked child of a threaded process can deadlock on their locks.
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_limit_memory,
                    initargs=(self.limits.memory_mb,),
                )
                # Start a worker (and its imports) now, so a file's time limit counts its
                # parsing, not the pool's start-up.
                self._pool.submit(_ready).result()
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor, kill: bool) -> None:
        with self._lock:
            if self._pool is not pool:
                return  # another thread already replaced it
            self._pool = None
            self.restarts += 1
        if kill:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def load(self, path: Path, root: Path | None) -> Document:
        """``load_document`` in a worker under the limits; ``DocumentError`` on any failure."""
        for tries in (1, 2):
            pool = self._get_pool()
            try:
                future: Future[Document] = pool.submit(
                    _load_in_worker, str(path), str(root) if root else None, self.limits.memory_mb
                )
                return future.result(timeout=self.limits.timeout_s)
            except DocumentError as exc:
                if getattr(exc, "recycle_worker", False):
                    self._discard(pool, kill=False)
                raise
            except FutureTimeout:
                self._discard(pool, kill=True)
                raise DocumentError(
                    f"loader ran past its {self.limits.timeout_s:g} s limit and was stopped",
                    path=str(path),
                ) from None
            except BrokenProcessPool:
                # A worker died: this file's (a crash past the ceiling), or another file's
                # timeout killed the pool under it. One more try, alone in a fresh pool.
                self._discard(pool, kill=True)
                if tries == 2:
                    raise DocumentError(
                        "loader process died while parsing (memory ceiling "
                        f"{self.limits.memory_mb} MiB, or a crash in the parser)",
                        path=str(path),
                    ) from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_SHARED: LoaderSandbox | None = None
_SHARED_LOCK = threading.Lock()


def _forget_after_fork() -> None:
    """A forked process (a batch worker) starts its own pool: the parent's is not its own."""
    global _SHARED, _SHARED_LOCK
    _SHARED, _SHARED_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _close_shared() -> None:
    """Shut this process's pool down (a batch worker does before it exits)."""
    global _SHARED
    with _SHARED_LOCK:
        sandbox, _SHARED = _SHARED, None
    if sandbox is not None:
        sandbox.close()


at_worker_exit(_close_shared)


def shared_sandbox() -> LoaderSandbox:
    """The process's sandbox; rebuilt when its limits in the environment change."""
    global _SHARED
    limits = SandboxLimits.from_env()
    with _SHARED_LOCK:
        stale = _SHARED if _SHARED is not None and _SHARED.limits != limits else None
        if _SHARED is None or stale is not None:
            _SHARED = LoaderSandbox(limits)
    if stale is not None:
        stale.close()
    return _SHARED


def _sandboxed(path: Path) -> bool:
    return path.suffix.lower() in SANDBOXED_SUFFIXES and os.environ.get(
        "EIGHTFLOW_LOADER_SANDBOX", "1"
    ).lower() not in ("0", "false", "no")


def sandboxed_load_document(path: Path | str, root: Path | str | None = None) -> Document:
    """The one door for reading a document: every path (``eightflow run``, the adhoc
    deployments, triage, batches, replay) calls this, never ``load.load_document``.

    PDF/DOCX/HTML/CSV are parsed in the sandbox's worker processes under its memory and
    time limits; plain text and Markdown, bounded by size, are decoded in-process.
    """
    path = Path(path)
    if not _sandboxed(path):
        return load_document(path, root)
    return shared_sandbox().load(path, Path(root) if root is not None else None)
