"""Bulk export: a zip of a tenant's certificates issued in a date range, built through the
outbox (``certificates.export``) so a request never waits for a thousand PDFs.

The zip holds each archived PDF, its signed credential (``.jwt``) and ``manifest.csv``.
PDFs not archived yet are rendered by worker subprocesses (one per core, each with its
own warm renderer; plain subprocesses because Celery's prefork workers may not start
``multiprocessing`` children): on this project's 2-core machine that gives ~1.7x the
throughput of one process (docs/benchmarks.md). Zips are written under ``CERTIFICATES_EXPORT_DIR``
(default ``instance/certificate-exports``): use shared storage when several hosts run
workers.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from certificates import services
from certificates.models import Certificate, CertificateExport, CertificateStatus, ExportStatus
from lms_core import audit, outbox
from lms_core.db import utcnow
from lms_core.errors import InvalidInput, Problem
from lms_core.extensions import db
from lms_core.models import Tenant, User

log = logging.getLogger(__name__)

EXPORT_TOPIC = "certificates.export"
#: Below this many missing PDFs a pool costs more (process start, font warm-up) than it saves.
POOL_THRESHOLD = 24
MAX_RANGE_DAYS = 3660


def export_dir() -> Path:
    configured = current_app.config.get("CERTIFICATES_EXPORT_DIR")
    path = (
        Path(configured) if configured else Path(current_app.instance_path) / "certificate-exports"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_export(
    tenant: Tenant, date_from: dt.date, date_to: dt.date, requested_by: User | None = None
) -> CertificateExport:
    """Queue an export (the caller commits; the work starts after the commit)."""
    if date_to < date_from:
        raise InvalidInput(
            "The export's end date is before its start date.",
            [Problem(f"{date_from} to {date_to}", "date range", "Swap the two dates.")],
        )
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        raise InvalidInput(
            "Export at most ten years at a time.", [Problem("too long", "date range")]
        )
    export = CertificateExport(
        tenant_id=tenant.id,
        requested_by_id=requested_by.id if requested_by else None,
        requested_by=requested_by.display_name if requested_by else "cli",
        date_from=date_from,
        date_to=date_to,
        status=ExportStatus.PENDING,
    )
    db.session.add(export)
    db.session.flush()
    audit.record(
        "certificate.export_requested",
        tenant=tenant,
        target_type="certificate_export",
        target_id=export.id,
        date_from=date_from.isoformat(),
        date_to=date_to.isoformat(),
    )
    outbox.enqueue(
        EXPORT_TOPIC, {"export_id": export.id}, key=f"{EXPORT_TOPIC}:{export.id}", tenant=tenant
    )
    return export


def certificates_in_range(
    tenant_id: int, date_from: dt.date, date_to: dt.date
) -> list[Certificate]:
    start = dt.datetime.combine(date_from, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return list(
        db.session.scalars(
            Certificate.for_tenant(tenant_id)
            .where(
                Certificate.status != CertificateStatus.AWAITING_NAME,
                Certificate.issued_at >= start,
                Certificate.issued_at < end,
            )
            .order_by(Certificate.issued_at, Certificate.id)
        )
    )


def _render_in_subprocesses(jobs: list[tuple[Any, ...]], processes: int) -> list[tuple[int, bytes]]:
    """Split ``jobs`` over ``processes`` render workers and wait for all of them."""
    chunks = [jobs[i::processes] for i in range(processes)]
    chunks = [c for c in chunks if c]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

    def run(chunk: list[tuple[Any, ...]]) -> list[tuple[int, bytes]]:
        process = subprocess.run(
            [sys.executable, "-m", "certificates.render_worker"],
            input=pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL),
            capture_output=True,
            env=env,
            check=False,
        )
        if process.returncode != 0:
            raise RuntimeError(
                "certificate render worker failed: "
                + process.stderr.decode("utf-8", "replace")[-2000:]
            )
        return pickle.loads(process.stdout)  # noqa: S301 - from our own child process

    # Threads only wait on the pipes; the rendering happens in the child processes.
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [result for part in pool.map(run, chunks) for result in part]


def render_missing(certificates: Iterable[Certificate], processes: int | None = None) -> int:
    """Render and archive every PDF not archived yet; returns how many were rendered."""
    missing = [c for c in certificates if c.document is None]
    if not missing:
        return 0
    processes = processes or int(current_app.config.get("CERTIFICATES_EXPORT_PROCESSES") or 0)
    processes = processes or os.cpu_count() or 1
    if processes <= 1 or len(missing) < POOL_THRESHOLD:
        for certificate in missing:
            services.store_document(certificate, services.render_pdf(certificate))
        return len(missing)
    variant = services.pdf_variant()
    by_id = {c.id: c for c in missing}
    jobs = [(c.id, variant, *services.render_job(c)) for c in missing]
    for certificate_id, pdf in _render_in_subprocesses(jobs, processes):
        services.store_document(by_id[certificate_id], pdf)
    return len(missing)


def write_zip(export: CertificateExport, certificates: list[Certificate]) -> Path:
    tenant = db.session.get(Tenant, export.tenant_id)
    assert tenant is not None
    name = f"certificates-{tenant.slug}-{export.date_from}-{export.date_to}-{export.id}.zip"
    path = export_dir() / name
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(
        [
            "number",
            "status",
            "learner_name",
            "course",
            "version",
            "credit_type",
            "credit_amount",
            "completed_on",
            "issued_at",
            "revoked_at",
            "revoked_reason",
            "pdf_sha256",
        ]
    )
    partial = path.with_suffix(".part")
    # PDFs are already compressed: store them, deflate only the small text files.
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        for c in certificates:
            document = c.document
            assert document is not None
            archive.writestr(f"{c.number}.pdf", document.pdf)
            if c.credential_jws:
                archive.writestr(f"{c.number}.jwt", c.credential_jws, zipfile.ZIP_DEFLATED)
            writer.writerow(
                [
                    c.number,
                    c.status.value,
                    c.learner_name,
                    c.course_title,
                    c.course_version,
                    c.credit_type,
                    str(c.credit_amount),
                    c.completed_on.isoformat(),
                    c.issued_at.isoformat() if c.issued_at else "",
                    c.revoked_at.isoformat() if c.revoked_at else "",
                    c.revoked_reason or "",
                    document.sha256,
                ]
            )
        archive.writestr("manifest.csv", manifest.getvalue(), zipfile.ZIP_DEFLATED)
    partial.replace(path)
    return path


def run_export_message(message: Any) -> None:
    """Outbox handler: build the zip. Idempotent: a finished export is left alone."""
    export = db.session.get(CertificateExport, message.payload["export_id"])
    if export is None:
        raise outbox.PermanentFailure(f"export {message.payload} no longer exists")
    if export.status == ExportStatus.DONE:
        return
    certificates = certificates_in_range(export.tenant_id, export.date_from, export.date_to)
    rendered = render_missing(certificates)
    if rendered:
        db.session.flush()
    path = write_zip(export, certificates)
    export.status = ExportStatus.DONE
    export.count = len(certificates)
    export.filename = path.name
    export.size = path.stat().st_size
    export.finished_at = utcnow()
    log.info(
        "certificates: export %s done: %s certificates (%s rendered), %s bytes",
        export.id,
        export.count,
        rendered,
        export.size,
    )


def export_file(export: CertificateExport) -> Path | None:
    if export.status != ExportStatus.DONE or not export.filename:
        return None
    path = export_dir() / export.filename
    return path if path.is_file() else None


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exports_for(tenant_id: int) -> list[CertificateExport]:
    return list(
        db.session.scalars(
            select(CertificateExport)
            .where(CertificateExport.tenant_id == tenant_id)
            .order_by(CertificateExport.id.desc())
        )
    )
