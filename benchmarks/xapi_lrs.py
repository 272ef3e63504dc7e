"""Benchmark of the embedded LRS: sustained ingest in batches, then query latency.

Statements come from ``xapi_statements.py`` (realistic attempts in our profile) and go
through the whole request path — HTTP Basic auth, JSON parsing, validation, storage,
response — via Flask's in-process client, so the figures are the LRS's own cost without
a network. Then each query kind (agent, verb, activity, since) is asked ``--queries``
times with random values, ``limit=100``, newest first, and the median is reported.

    python benchmarks/xapi_lrs.py --database-url sqlite:////tmp/xapi-bench.sqlite
    python benchmarks/xapi_lrs.py --database-url postgresql://postgres@127.0.0.1:5433/xapi_bench

The database is dropped and created again unless ``--keep`` is given (then loading is
skipped when it already holds the statements). Results are printed as a table and JSON.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import itertools
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).parent))

import xapi_statements
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from lms_core import create_app, schema
from lms_core.extensions import db
from lms_core.models import Tenant
from xapi import credentials
from xapi.models import XapiStatement

VERBS = [
    "launched",
    "initialized",
    "experienced",
    "answered",
    "progressed",
    "completed",
    "passed",
    "failed",
]


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def make_app(url: str, instance: str) -> Any:
    return create_app(
        {
            "ENV": "development",
            "DATABASE_URL": url,
            "INSTANCE_PATH": instance,
            "BASE_URL": xapi_statements.BASE_URL,
            "LOG_LEVEL": "WARNING",
            "OUTBOX_RUNNER": "inline",
        }
    )


def headers_for(app: Any) -> dict[str, str]:
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "bench-hospital"))
        if tenant is None:
            tenant = Tenant(slug="bench-hospital", name="Benchmark Hospital", settings={})
            db.session.add(tenant)
            db.session.flush()
        credential, secret = credentials.create_credential(tenant, "benchmark")
        db.session.commit()
        token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}


def ingest(app: Any, headers: dict[str, str], count: int, batch: int) -> dict[str, Any]:
    client = app.test_client()
    generated = xapi_statements.statements(count)
    busy = 0.0
    done = 0
    started = time.perf_counter()
    window_start, window_busy = 0, 0.0
    while True:
        chunk = list(itertools.islice(generated, batch))
        if not chunk:
            break
        body = json.dumps(chunk)
        t0 = time.perf_counter()
        response = client.post(
            "/xapi/statements", data=body, headers={**headers, "Content-Type": "application/json"}
        )
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise SystemExit(
                f"ingest failed at {done}: {response.status_code} {response.get_data()[:500]!r}"
            )
        busy += elapsed
        done += len(chunk)
        if done - window_start >= 100_000 or done == count:
            rate = (done - window_start) / (busy - window_busy)
            print(f"  {done:>9,} statements, last window {rate:,.0f}/s", flush=True)
            window_start, window_busy = done, busy
    return {
        "statements": done,
        "batch": batch,
        "request_seconds": round(busy, 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "statements_per_second": round(done / busy),
    }


def analyse(app: Any) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def query_values(app: Any, rnd: random.Random) -> dict[str, list[str]]:
    population = xapi_statements.Population()
    with app.app_context():
        first, last = db.session.execute(
            select(func.min(XapiStatement.stored), func.max(XapiStatement.stored))
        ).one()
    base = xapi_statements.BASE_URL
    span = (last - first).total_seconds()
    courses = [c.slug for c in population.courses]
    return {
        "agent": [
            json.dumps(population.agent(rnd.choice(population.learners))) for _ in range(1000)
        ],
        "verb": [f"http://adlnet.gov/expapi/verbs/{rnd.choice(VERBS)}" for _ in range(1000)],
        "activity": [
            f"{base}/courses/{rnd.choice(courses)}"
            if rnd.random() < 0.5
            else f"{base}/courses/{rnd.choice(courses)}/steps/lesson-1/step-{rnd.randint(1, 4)}"
            for _ in range(1000)
        ],
        "since": [
            (first + dt.timedelta(seconds=rnd.uniform(0, span))).strftime("%Y-%m-%dT%H:%M:%S.%f")[
                :-3
            ]
            + "Z"
            for _ in range(1000)
        ],
    }


def measure_queries(app: Any, headers: dict[str, str], count: int, limit: int) -> dict[str, Any]:
    client = app.test_client()
    rnd = random.Random(7)
    values = query_values(app, rnd)
    results: dict[str, Any] = {}
    for kind, candidates in values.items():
        timings = []
        empty = 0
        for i in range(count + 5):
            value = candidates[i % len(candidates)]
            url = f"/xapi/statements?{kind}={quote(value, safe='')}&limit={limit}"
            t0 = time.perf_counter()
            response = client.get(url, headers=headers)
            elapsed = time.perf_counter() - t0
            if response.status_code != 200:
                raise SystemExit(
                    f"query failed: {url} {response.status_code} {response.get_data()[:300]!r}"
                )
            if i >= 5:  # the first few warm caches
                timings.append(elapsed * 1000)
                empty += not response.json["statements"]
        timings.sort()
        results[kind] = {
            "median_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            "queries": len(timings),
            "empty_results": empty,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="sqlite:////tmp/xapi-bench.sqlite")
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="reuse a loaded database")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="xapi-bench-")
    if not args.keep:
        fresh_database(args.database_url)
    app = make_app(args.database_url, instance)
    with app.app_context():
        schema.upgrade()
        loaded = db.session.scalar(select(func.count()).select_from(XapiStatement)) or 0
    headers = headers_for(app)
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "backend": make_url(args.database_url).get_backend_name(),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average before {os.getloadavg()[0]:.1f}"
        ),
    }
    if loaded < args.statements:
        print(
            f"ingesting {args.statements - loaded:,} statements in batches of {args.batch}",
            flush=True,
        )
        report["ingest"] = ingest(app, headers, args.statements - loaded, args.batch)
        analyse(app)
    with app.app_context():
        report["statements_stored"] = db.session.scalar(
            select(func.count()).select_from(XapiStatement)
        )
    print(f"querying ({args.queries} each, limit={args.limit})", flush=True)
    report["queries"] = measure_queries(app, headers, args.queries, args.limit)
    for kind, figures in report["queries"].items():
        print(
            f"  {kind:<9} median {figures['median_ms']:>7.2f} ms   p95 {figures['p95_ms']:>7.2f} ms"
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
