"""Reports: the education dashboard and the completions CSV of a large hospital
(docs/benchmarks.md).

    .venv/bin/shiftwell demo generate --learners 20000 --courses 100 --attempts 500000
    .venv/bin/python benchmarks/reports_dashboard.py --database-url URL [--rounds 30]

Point it at a database that ``shiftwell demo generate`` filled (the command above, with
``SHIFTWELL_DATABASE_URL`` set to the same URL). In-process through the whole WSGI stack
(Flask test client: routing, session, role check, SQLAlchemy, templates, every plugin's
panels), logged in as an administrator of the tenant (made if missing).

Reported, median and 95th percentile over ``--rounds``: the dashboard for the default
period (last 12 months) and for all time, the learners page, a transcript, and the full
completions CSV (every completed attempt, streamed; its size and rows too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from lms_core import create_app  # noqa: E402
from lms_core.extensions import db  # noqa: E402
from lms_core.models import Role, Tenant, User  # noqa: E402


def measure(client, path: str, rounds: int) -> tuple[list[float], int]:
    timings = []
    size = 0
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        body = response.get_data()  # a streamed response is consumed here, in full
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
        size = len(body)
    return timings, size


def report(name: str, timings: list[float], extra: str = "") -> None:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    median = statistics.median(ordered)
    print(f"{name:<44} median {median * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tenant", default="demo-hospital")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--csv-rounds", type=int, default=5)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="shiftwell-bench-"))
    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "benchmark-secret-key-long-enough-for-anything",
            "DATABASE_URL": args.database_url,
            "INSTANCE_PATH": str(tmp / "instance"),
        }
    )
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == args.tenant))
        assert tenant is not None, f"no tenant {args.tenant}: run `shiftwell demo generate`"
        admin = db.session.scalar(
            select(User).where(User.tenant_id == tenant.id, User.email == "bench-admin@example.org")
        )
        if admin is None:
            admin = User(tenant_id=tenant.id, email="bench-admin@example.org", name="Bench Admin")
            admin.grant(Role.ADMINISTRATOR)
            db.session.add(admin)
            db.session.commit()
        learner = db.session.scalar(
            select(User.id).where(User.tenant_id == tenant.id, User.subject.like("gen-%")).limit(1)
        )
        from courses.models import Attempt

        attempts = db.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.tenant_id == tenant.id)
        )
        learners = db.session.scalar(
            select(func.count()).select_from(User).where(User.tenant_id == tenant.id)
        )
        admin_id = admin.id
    print(
        f"{args.tenant}: {learners:,} people, {attempts:,} attempts; {args.rounds} rounds; "
        f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}"
    )
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(admin_id)
        session["_fresh"] = True
        session["kind"] = "lti"
        session["sid"] = "benchmark"

    for path in ("/reports/", "/reports/?period=all"):
        measure(client, path, 2)  # warm: templates compiled, caches filled
    cpu = time.process_time()
    timings, size = measure(client, "/reports/", args.rounds)
    report("dashboard, last 12 months", timings, f"({size:,} B)")
    report("dashboard, all time", measure(client, "/reports/?period=all", args.rounds)[0])
    report("learners page (first of 400)", measure(client, "/reports/learners/", args.rounds)[0])
    report(
        "transcript of one learner",
        measure(client, f"/reports/learners/{learner}?period=all", args.rounds)[0],
    )
    timings, size = measure(client, "/reports/completions.csv?period=all", args.csv_rounds)
    report("completions CSV, all time", timings, f"({size / 1e6:.1f} MB)")
    print(f"CPU time of this process: {time.process_time() - cpu:.1f} s")


if __name__ == "__main__":
    main()
