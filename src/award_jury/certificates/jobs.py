"""Writing many certificates into one PDF, off the web server's event loop.

Certificates are rendered in parts of :data:`PART_SIZE` by a process pool (one process per core,
created on first use). Each part is written to the job's work folder through a temporary file
moved into place; the parts are then merged into the final PDF the same way. So a crash never
leaves a half-written PDF behind, and running the job again renders only the parts still missing.
The finished PDF goes into the file storage (a folder or an S3 bucket, content-addressed like
every stored file; the job's ``file_name`` is its key), so any app process can serve it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award, Round
from award_jury.certificates import services
from award_jury.certificates.context import CertificateContext
from award_jury.certificates.models import CertificateJob
from award_jury.certificates.render import DocumentMeta, merge_pdfs, render_pdf
from award_jury.children import die_with_parent
from award_jury.db import Database, utcnow
from award_jury.entries.storage import (
    Storage,
    StoredFile,
    atomic_copy,
    atomic_write,
    is_key,
    open_local,
    storage_for,
)
from award_jury.errors import DomainError, NotFoundError
from award_jury.settings import Settings

log = logging.getLogger("award_jury.certificates")

PART_SIZE = 25
#: A running job without a sign of life for this long is taken to have crashed; it can be resumed.
STALE_AFTER = timedelta(minutes=2)

_pool: ProcessPoolExecutor | None = None
#: Jobs this process is running now (job id -> task).
RUNNING: dict[int, asyncio.Task[str | None]] = {}


# -- the process pool -------------------------------------------------------------------------


def _worker_init(parent_pid: int) -> None:
    """Render processes die with the server (however it ends, even ``kill -9``), yield to it,
    and load WeasyPrint and the fonts up front."""
    die_with_parent(parent_pid)
    with contextlib.suppress(OSError):  # not allowed: render at normal priority
        os.nice(5)
    import award_jury.certificates.render  # noqa: F401


def pool(workers: int | None = None) -> ProcessPoolExecutor:
    """The shared render pool, created on first use (processes are spawned, never forked from a
    server with threads and open connections)."""
    global _pool
    if _pool is not None and getattr(_pool, "_broken", False):
        # A render process died (killed for memory, a crash in a native library): the executor
        # refuses all work from then on, so every preview, download and rerun would fail until a
        # restart. Start a fresh one; the failed job is resumed by generating again.
        log.warning("the certificate render pool broke (%s); starting a new one", _pool._broken)
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=workers or os.cpu_count() or 2,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
    return _pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def stop_pool() -> None:
    """On server stop: end the render processes now (a render still running is cut off; its job
    is resumed by generating again, the parts already written are kept). Blocks briefly."""
    global _pool
    executor, _pool = _pool, None
    if executor is None:
        return
    processes = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def merge_files(parts: Sequence[str], out: str) -> int:
    """Runs in the pool: merge part files into ``out`` (atomically); returns the size."""
    data = merge_pdfs([Path(p).read_bytes() for p in parts])
    atomic_write(Path(out), data)
    return len(data)


def render_to_file(contexts: Sequence[CertificateContext], meta: DocumentMeta, out: str) -> int:
    """Runs in the pool: one part, written atomically; returns the number of certificates."""
    atomic_write(Path(out), render_pdf(contexts, meta))
    return len(contexts)


def fingerprint(contexts: Sequence[CertificateContext], meta: DocumentMeta) -> str:
    digest = hashlib.sha256(repr(meta).encode())
    for ctx in contexts:
        digest.update(repr(ctx).encode())
    return digest.hexdigest()


def parts_of(contexts: Sequence[CertificateContext], size: int | None = None) -> list[list[CertificateContext]]:
    size = size or PART_SIZE
    return [list(contexts[i : i + size]) for i in range(0, len(contexts), size)]


async def render_parts(
    contexts: Sequence[CertificateContext],
    meta: DocumentMeta,
    work_dir: Path,
    out: Path,
    on_progress: Callable[[int], Any] | None = None,
    part_size: int | None = None,
) -> Path:
    """Render every missing part in the pool (reporting certificates done), then merge into ``out``."""
    loop = asyncio.get_running_loop()
    executor = pool()
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    paths: list[Path] = []
    pending = []
    done = 0
    for i, part in enumerate(parts_of(contexts, part_size or PART_SIZE)):
        path = work_dir / f"part-{i:05d}-{fingerprint(part, meta)[:16]}.pdf"
        paths.append(path)
        if await asyncio.to_thread(path.exists):
            done += len(part)
        else:
            pending.append(loop.run_in_executor(executor, render_to_file, part, meta, str(path)))
    if on_progress is not None:
        await _call(on_progress, done)
    for finished in asyncio.as_completed(pending):
        done += await finished
        if on_progress is not None:
            await _call(on_progress, done)
    await loop.run_in_executor(executor, merge_files, [str(p) for p in paths], str(out))
    return out


async def _call(callback: Callable[[int], Any], value: int) -> None:
    result = callback(value)
    if asyncio.iscoroutine(result):
        await result


# -- jobs -------------------------------------------------------------------------------------


def work_dir(settings: Settings, job_id: int) -> Path:
    return settings.data_dir / "certificates" / "work" / f"job-{job_id}"


async def open_output(settings: Settings, storage: Storage, file_name: str) -> StoredFile | None:
    """A finished job's PDF to stream: a storage key (today), or a path under the data dir
    (jobs finished before the PDFs went into the storage); None when it is gone."""
    if not file_name:
        return None
    if is_key(file_name):
        return await storage.open(file_name)
    path = settings.data_dir / file_name
    if not path.resolve().is_relative_to(settings.data_dir.resolve()):
        return None
    return await open_local(path)


async def output_exists(settings: Settings, storage: Storage, file_name: str) -> bool:
    if is_key(file_name):
        return await storage.exists(file_name)
    return bool(file_name) and await asyncio.to_thread((settings.data_dir / file_name).is_file)


async def copy_output(settings: Settings, file_name: str, target: Path) -> None:
    """Copy a finished job's PDF to where the user wants it, never leaving half a file there."""
    if is_key(file_name):
        await storage_for(settings).download(file_name, target)
    else:
        await asyncio.to_thread(atomic_copy, settings.data_dir / file_name, target)


def is_alive(job: CertificateJob) -> bool:
    task = RUNNING.get(job.id)
    if task is not None and not task.done():
        return True
    return job.status == "running" and utcnow() - job.updated_at < STALE_AFTER


async def start_job(
    session: AsyncSession,
    settings: Settings,
    award: Award,
    rnd: Round,
    kind: str,
    actor_id: int | None,
    actor_label: str = "",
) -> tuple[CertificateJob, bool]:
    """Issue the certificates and return the job that writes them, and whether it needs running.

    A job that is running elsewhere is returned as it is; one that failed or crashed with the
    same content is resumed (its finished parts are kept); a finished one with the same content
    and its file in place is simply returned."""
    certificates = await services.issue_certificates(session, award, rnd, kind, actor_id, actor_label)
    if not certificates:
        raise DomainError(f"round {rnd.slug!r} has no {kind} certificates to issue")
    storage = storage_for(settings)
    contexts, meta = await services.issued_contexts(session, award, rnd, kind, certificates, storage, settings.base_url)
    print_hash = fingerprint(contexts, meta)
    previous = (
        await session.execute(
            sa.select(CertificateJob)
            .where(CertificateJob.round_id == rnd.id, CertificateJob.kind == kind)
            .order_by(CertificateJob.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if previous is not None and previous.fingerprint == print_hash:
        if previous.status == "done" and await output_exists(settings, storage, previous.file_name):
            return previous, False
        if previous.status == "running" and is_alive(previous):
            return previous, False
        previous.status, previous.error, previous.updated_at = "running", "", utcnow()
        return previous, True
    job = CertificateJob(
        award_id=award.id,
        round_id=rnd.id,
        kind=kind,
        status="running",
        total=len(contexts),
        fingerprint=print_hash,
        created_by_id=actor_id,
        updated_at=utcnow(),
    )
    session.add(job)
    await session.flush()
    return job, True


async def run_job(
    db: Database, settings: Settings, job_id: int, on_progress: Callable[[int, int], Any] | None = None
) -> str:
    """Render a job's certificates (what is still missing), store the PDF, then record the job
    done (or failed); returns the PDF's storage key."""
    from award_jury.awards.services import get_award

    async with db.session() as session:
        job = await session.get(CertificateJob, job_id)
        if job is None:
            raise NotFoundError("job")
        award = await session.get(Award, job.award_id)
        assert award is not None
        award = await get_award(session, award.slug)
        rnd = next(r for r in award.rounds if r.id == job.round_id)
        certificates = await services.issue_certificates(session, award, rnd, job.kind, None, "job")
        storage = storage_for(settings)
        contexts, meta = await services.issued_contexts(
            session, award, rnd, job.kind, certificates, storage, settings.base_url
        )
        total = len(contexts)

    async def progress(done: int) -> None:
        async with db.session() as s:
            await s.execute(
                sa.update(CertificateJob)
                .where(CertificateJob.id == job_id)
                .values(done=done, total=total, updated_at=utcnow())
            )
        if on_progress is not None:
            await _call(lambda d: on_progress(d, total), done)

    folder = work_dir(settings, job_id)
    try:
        merged = await render_parts(contexts, meta, folder, folder / "certificates.pdf", progress)
        key = await storage.put_file(merged)  # read in blocks, uploaded in parts
    except BaseException as exc:
        async with db.session() as s:
            await s.execute(
                sa.update(CertificateJob)
                .where(CertificateJob.id == job_id)
                .values(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], updated_at=utcnow())
            )
        raise
    async with db.session() as s:
        await s.execute(
            sa.update(CertificateJob)
            .where(CertificateJob.id == job_id)
            .values(
                status="done",
                done=total,
                total=total,
                file_name=key,
                finished_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    shutil.rmtree(folder, ignore_errors=True)
    return key


def run_in_background(db: Database, settings: Settings, job_id: int) -> asyncio.Task[str | None]:
    """Start a job in this process's event loop (the rendering itself happens in the pool).
    A failure is logged and recorded on the job (its page says so); running it again resumes it."""

    async def guarded() -> str | None:
        try:
            return await run_job(db, settings, job_id)
        except Exception:
            log.exception("certificate job %s failed", job_id)
            return None
        finally:
            RUNNING.pop(job_id, None)

    task = asyncio.get_running_loop().create_task(guarded())
    RUNNING[job_id] = task
    return task


async def write_split(
    session: AsyncSession,
    settings: Settings,
    award: Award,
    rnd: Round,
    kind: str,
    folder: Path,
    on_progress: Callable[[int, int], Any] | None = None,
) -> str:
    """One PDF per certificate in ``folder`` (``<kind>-<ref>-<code>.pdf``), each written atomically."""
    certificates = await services.issue_certificates(session, award, rnd, kind, None, "cli")
    if not certificates:
        raise DomainError(f"round {rnd.slug!r} has no {kind} certificates to issue")
    storage = storage_for(settings)
    contexts, meta = await services.issued_contexts(session, award, rnd, kind, certificates, storage, settings.base_url)
    refs = {c.code: ref for c, ref, _name in await services.certificates_of_round(session, rnd)}
    await session.commit()  # the codes are issued, whatever happens to the files
    loop = asyncio.get_running_loop()
    executor = pool()
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    futures = []
    for ctx in contexts:
        own = DocumentMeta(f"{meta.title} – {ctx.startup}", meta.author, meta.lang, meta.orientation)
        ref = "".join(ch for ch in refs.get(ctx.code, "entry") if ch.isascii() and (ch.isalnum() or ch in "-_"))
        path = folder / f"{ctx.kind}-{ref or 'entry'}-{ctx.code}.pdf"
        futures.append(loop.run_in_executor(executor, render_to_file, [ctx], own, str(path)))
    done = 0
    if on_progress is not None:
        await _call(lambda d: on_progress(d, len(contexts)), 0)
    for finished in asyncio.as_completed(futures):
        try:
            done += await finished
        except OSError as exc:
            raise DomainError(f"cannot write to {folder}: {exc.strerror or exc}") from None
        if on_progress is not None:
            await _call(lambda d: on_progress(d, len(contexts)), done)
    return f"wrote {len(contexts)} certificates to {folder}"


async def get_job(session: AsyncSession, award: Award, job_id: int) -> CertificateJob:
    job = await session.get(CertificateJob, job_id, populate_existing=True)
    if job is None or job.award_id != award.id:
        raise NotFoundError("job")
    return job


async def recent_jobs(session: AsyncSession, rnd: Round, limit: int = 10) -> list[CertificateJob]:
    rows = await session.execute(
        sa.select(CertificateJob)
        .where(CertificateJob.round_id == rnd.id)
        .order_by(CertificateJob.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())
