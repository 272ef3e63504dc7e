"""Partner portal: the statistics page of a much-taken course (usage table with its
suppression, question difficulty), through the whole WSGI stack.

    .venv/bin/python benchmarks/partner_statistics.py [--learners 20000] [--rounds 30]
        [--database-url postgresql://postgres@127.0.0.1:5433/shiftwell_bench_partner]

Builds the schema (a throwaway SQLite file unless a database URL is given; that database
is emptied first), imports the demo course four-minute-reset, then inserts ``--learners``
learners spread over 20 hospitals, each with one or two attempts and a first answer to
every knowledge check. Times GET /partner/<partner>/courses/four-minute-reset/statistics
as its author. Prints a JSON summary; docs/benchmarks.md records the figures. Never run
in tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(url: str, workdir: Path) -> Any:
    from lms_core import create_app, schema
    from lms_core.extensions import db

    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "benchmark-secret-key-long-enough-for-anything",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(workdir / "instance"),
        }
    )
    with app.app_context():
        if not url.startswith("sqlite"):
            db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        schema.upgrade()
    return app


def populate(app: Any, learners: int) -> int:
    from sqlalchemy import insert, select

    from courses import services
    from courses.models import Attempt, AttemptStatus, Partner, StepResponse
    from courses.partners.models import PartnerMember
    from lms_core.auth import hash_password
    from lms_core.extensions import db
    from lms_core.models import Role, Tenant, User

    rng = random.Random(7)
    with app.app_context():
        services.import_package(ROOT / "examples" / "courses" / "four-minute-reset")
        version = services.find_version("four-minute-reset")
        assert version is not None
        checks = [s for s in version.steps if s.type == "knowledge_check"]
        tenants = []
        for i in range(20):
            tenant = Tenant(slug=f"h{i}", name=f"Hospital {i}", settings={})
            db.session.add(tenant)
            tenants.append(tenant)
        author = User(email="author@example.edu", password_hash=hash_password("x" * 16))
        author.grant(Role.PARTNER_AUTHOR)
        db.session.add(author)
        db.session.flush()
        partner = db.session.scalar(select(Partner))
        assert partner is not None
        db.session.add(PartnerMember(partner_id=partner.id, user_id=author.id))
        users = [
            {"tenant_id": tenants[i % 20].id, "issuer": "https://lms", "subject": f"s{i}"}
            for i in range(learners)
        ]
        db.session.execute(insert(User), users)
        user_ids = db.session.execute(
            select(User.id, User.tenant_id).where(User.tenant_id.is_not(None))
        ).all()
        attempts = []
        for user_id, tenant_id in user_ids:
            for number in range(1, rng.choice((2, 3))):
                passed = rng.random() < 0.7
                attempts.append(
                    {
                        "tenant_id": tenant_id,
                        "user_id": user_id,
                        "course_id": version.course_id,
                        "version_id": version.id,
                        "number": number,
                        "registration": f"{user_id:08d}-0000-4000-8000-{number:012d}",
                        "status": AttemptStatus.COMPLETED
                        if rng.random() < 0.8
                        else AttemptStatus.IN_PROGRESS,
                        "passed": passed,
                    }
                )
        db.session.execute(insert(Attempt), attempts)
        rows = db.session.execute(select(Attempt.id, Attempt.tenant_id)).all()
        responses = []
        for attempt_id, tenant_id in rows:
            for step in checks:
                options = [o["id"] for o in step.config["options"]]
                right = [o["id"] for o in step.config["options"] if o.get("correct")]
                chosen = right if rng.random() < 0.6 else [rng.choice(options)]
                responses.append(
                    {
                        "tenant_id": tenant_id,
                        "attempt_id": attempt_id,
                        "step_id": step.id,
                        "response": {"selected": chosen},
                        "completed": True,
                        "success": chosen == right,
                        "score": 1.0 if chosen == right else 0.0,
                    }
                )
        for start in range(0, len(responses), 20000):
            db.session.execute(insert(StepResponse), responses[start : start + 20000])
        db.session.commit()
        return len(attempts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
        app = build(url, workdir)
        attempts = populate(app, args.learners)
        from lms_core.extensions import db
        from lms_core.models import User
        from tests.conftest import login

        with app.app_context():
            author = db.session.scalar(db.select(User).where(User.email == "author@example.edu"))
        client = app.test_client()
        login(client, author, kind="local")
        page = "/partner/northbridge-nursing/courses/four-minute-reset/statistics"
        assert client.get(page).status_code == 200
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            response = client.get(page)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(
            json.dumps(
                {
                    "backend": url.split(":", 1)[0],
                    "learners": args.learners,
                    "attempts": attempts,
                    "rounds": args.rounds,
                    "median_ms": round(statistics.median(times), 1),
                    "p90_ms": round(sorted(times)[int(0.9 * (len(times) - 1))], 1),
                    "python": platform.python_version(),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
