"""Certificates: warm render time per certificate, and a bulk export of 1,000 on all cores.

    .venv/bin/python benchmarks/certificates_render.py [--count 1000] [--renders 100]

Builds a throwaway SQLite database under a temporary folder, imports the demo course
(examples/courses/four-minute-reset, with its partner logo), issues certificates with
varied names (Latin, Greek, Cyrillic, Arabic, Devanagari, CJK), then measures:

1. warm render: ``services.render_pdf`` (snapshot -> HTML -> PDF/A-3b with the signed
   credential attached), after 10 warm-up renders, median / p90 / min of ``--renders``;
2. where the time goes: template + QR, HTML parse, layout, and ``write_pdf`` (drawing, font
   subsetting, compression), medians over the same certificates;
3. bulk export: ``--count`` certificates issued but not yet rendered, exported through the
   outbox handler (``certificates.export``), with 1 process and with one per core.

Prints a JSON summary; docs/benchmarks.md records the figures. Never run in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAMES = [
    "Maria Gómez",
    "Zoë Ólafsdóttir-Nuñez",
    "Αλεξάνδρα Παπαδοπούλου",
    "Анна Сергеевна Петрова",
    "فاطمة الزهراء",
    "प्रिया शर्मा",
    "王秀英",
    "Siobhán O'Connor",
    "Nguyễn Thị Minh Khai",
    "Jean-Baptiste Lefèvre",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_app(workdir: Path) -> Any:
    from lms_core import create_app, schema

    config = {
        "ENV": "testing",
        "SECRET_KEY": "benchmark-secret-key-long-enough-for-anything",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
        "INSTANCE_PATH": str(workdir / "instance"),
        "BASE_URL": "https://shiftwell.example.org",
        # Queue background work in memory instead of running it eagerly: the benchmark
        # decides when the PDFs are rendered.
        "BROKER_URL": "memory://",
    }
    app = create_app(config)
    with app.app_context():
        schema.upgrade()
    return app


def issue_many(app: Any, count: int) -> list[int]:
    from certificates import services
    from certificates.models import CertificateSource
    from courses import services as course_services
    from lms_core.extensions import db
    from lms_core.models import Role, Tenant, User

    with app.app_context():
        course_services.import_package(ROOT / "examples" / "courses" / "four-minute-reset")
        tenant = Tenant(slug="st-marys", name="St Mary's Hospital", locale="en-US", settings={})
        db.session.add(tenant)
        db.session.flush()
        facts = services.course_facts("four-minute-reset")
        ids = []
        for i in range(count):
            user = User(
                tenant_id=tenant.id,
                issuer="https://lms.example.edu",
                subject=f"n-{i}",
                name=f"{NAMES[i % len(NAMES)]} {i}",
            )
            user.grant(Role.LEARNER)
            db.session.add(user)
            db.session.flush()
            certificate = services.issue_certificate(
                tenant,
                user,
                facts,
                completed_on=dt.date(2026, 3, 12),
                source=CertificateSource.COURSE,
                attempt_registration=f"reg-{i}",
            )
            ids.append(certificate.id)
        db.session.commit()
        return ids


def warm_renders(app: Any, ids: list[int], renders: int) -> dict[str, Any]:
    from certificates import rendering, services
    from certificates.models import Certificate
    from lms_core.extensions import db

    with app.app_context():
        certificates = [db.session.get(Certificate, i) for i in ids[: max(renders, 10)]]
        for c in certificates[:10]:
            services.render_pdf(c)  # warm-up: fonts, stylesheets, templates
        times, cpu_times, sizes = [], [], []
        for i in range(renders):
            c = certificates[i % len(certificates)]
            start, cpu_start = time.perf_counter(), time.process_time()
            pdf = services.render_pdf(c)
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu_start) * 1000)
            sizes.append(len(pdf))

        # Where the time goes, on the same certificates.
        from weasyprint import HTML

        r = rendering.renderer(services.pdf_variant())
        phases: dict[str, list[float]] = {
            "template_and_qr": [],
            "parse": [],
            "layout": [],
            "write_pdf": [],
        }
        for i in range(min(renders, 50)):
            view, template_dir, _ = services.render_job(certificates[i % len(certificates)])
            t0 = time.perf_counter()
            html = r.html(view, template_dir)
            t1 = time.perf_counter()
            doc = HTML(
                string=html,
                base_url=str(rendering.DEFAULT_TEMPLATE_DIR) + "/",
                url_fetcher=rendering.LocalOnlyFetcher([rendering.DEFAULT_TEMPLATE_DIR]),
            )
            t2 = time.perf_counter()
            document = doc.render(
                stylesheets=r.stylesheets(template_dir, view.paper), font_config=r.font_config
            )
            t3 = time.perf_counter()
            document.write_pdf(pdf_identifier=True, pdf_variant=r.pdf_variant)
            t4 = time.perf_counter()
            for key, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                phases[key].append(value * 1000)
    return {
        "renders": renders,
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(percentile(times, 0.9), 1),
        "min_ms": round(min(times), 1),
        # CPU time is what other processes on a shared machine cannot inflate much.
        "cpu_median_ms": round(statistics.median(cpu_times), 1),
        "median_pdf_bytes": int(statistics.median(sizes)),
        "phases_median_ms": {k: round(statistics.median(v), 1) for k, v in phases.items()},
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the render workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bulk_export(app: Any, processes: int) -> dict[str, Any]:
    from certificates import exports
    from certificates.models import CertificateDocument, CertificateExport
    from lms_core.extensions import db
    from lms_core.models import Tenant

    with app.app_context():
        db.session.query(CertificateDocument).delete()
        db.session.commit()
        app.config["CERTIFICATES_EXPORT_PROCESSES"] = processes
        tenant = db.session.query(Tenant).one()
        export = exports.request_export(
            tenant,
            dt.date(2000, 1, 1) + dt.timedelta(days=9000),
            dt.date.today() + dt.timedelta(days=1),
        )
        db.session.commit()

        class Message:
            payload = {"export_id": export.id}

        usage = _cpu_seconds()
        start = time.perf_counter()
        exports.run_export_message(Message())
        db.session.commit()
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds() - usage
        export = db.session.get(CertificateExport, export.id)
        return {
            "processes": processes,
            "certificates": export.count,
            "seconds": round(elapsed, 1),
            "certificates_per_second": round(export.count / elapsed, 1),
            "cpu_ms_per_certificate": round(cpu * 1000 / export.count, 1),
            "zip_mb": round(export.size / 1e6, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="shiftwell-cert-bench-") as tmp:
        workdir = Path(tmp)
        app = build_app(workdir)
        t = time.perf_counter()
        ids = issue_many(app, args.count)
        issue_seconds = time.perf_counter() - t
        result: dict[str, Any] = {
            "date": dt.date.today().isoformat(),
            "load_average_at_start": os.getloadavg()[0],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}",
            "issue_without_render_ms_each": round(issue_seconds * 1000 / args.count, 2),
            "warm_render": warm_renders(app, ids, args.renders),
        }
        if not args.skip_export:
            result["export_1_process"] = bulk_export(app, 1)
            result["export_all_cores"] = bulk_export(app, os.cpu_count() or 1)
        import weasyprint

        result["weasyprint"] = weasyprint.__version__
        result["load_average_at_end"] = os.getloadavg()[0]
        print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
