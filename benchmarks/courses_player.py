"""Player step page and answer save: median server time and page weight.

    .venv/bin/python benchmarks/courses_player.py [--database-url URL] [--rounds 300]

Runs the real app in-process (Flask's test client: the full WSGI stack, templates,
SQLAlchemy and the events' receivers, without a network hop) on a fresh database with
the demo course four-minute-reset, and prints medians and 95th percentiles. Results go
into docs/benchmarks.md by hand, with the machine and the date.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lms_core import create_app, schema  # noqa: E402
from lms_core.extensions import db  # noqa: E402
from lms_core.models import Role, Tenant, User  # noqa: E402

CSS = ROOT / "lms_core" / "static" / "core" / "shiftwell.css"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(call, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 302), response.status_code
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shiftwell-bench-"))
    db_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "benchmark-secret-key-long-enough-for-anything",
            "DATABASE_URL": db_url,
            "INSTANCE_PATH": str(tmp / "instance"),
            "BASE_URL": "http://localhost",
        }
    )
    from courses import services

    with app.app_context():
        schema.upgrade()
        services.import_package(ROOT / "examples" / "courses" / "four-minute-reset")
        tenant = Tenant(slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench", settings={})
        db.session.add(tenant)
        db.session.flush()
        users = []
        for _ in range(args.rounds + 1):
            user = User(tenant_id=tenant.id, issuer="https://lms", subject=uuid.uuid4().hex)
            user.grant(Role.LEARNER)
            db.session.add(user)
            users.append(user)
        db.session.commit()
        user_ids = [u.id for u in users]

    def client_for(user_id: int):
        client = app.test_client()
        with client.session_transaction() as sess:
            sess.update({"_user_id": str(user_id), "_fresh": True, "kind": "lti", "sid": "b"})
        return client

    def attempt_at(client, position: int) -> str:
        page = client.get("/courses/four-minute-reset").get_data(as_text=True)
        start = client.post(
            "/courses/four-minute-reset/start", data={"csrf_token": TOKEN.search(page).group(1)}
        ).headers["Location"]
        url = start
        for _ in range(1, position):
            html = client.get(url).get_data(as_text=True)
            data = {"csrf_token": TOKEN.search(html).group(1), "action": "continue"}
            if 'data-step-type="knowledge_check"' in html:
                data.update(action="answer", answer="a")
            location = client.post(url, data=data).headers["Location"].split("#")[0]
            if location == url:
                html = client.get(url).get_data(as_text=True)
                location = re.search(r'<a class="button" href="([^"]+)">Continue', html).group(1)
            url = location
        return url

    reader = client_for(user_ids[0])
    check_url = attempt_at(reader, 3)  # steps 1 and 2 done, the check not yet answered
    content_url = check_url.replace("/steps/3", "/steps/1")
    for _ in range(20):
        reader.get(content_url)  # warm caches (templates, Markdown)
    step_get = timed(lambda: reader.get(content_url), args.rounds)
    check_get = timed(lambda: reader.get(check_url), args.rounds)

    # Answer save: each learner answers the step-3 knowledge check once (a real save with
    # its events), prepared beforehand so only the POST is timed.
    prepared = []
    for user_id in user_ids[1 : args.rounds + 1]:
        client = client_for(user_id)
        url = attempt_at(client, 3)
        token = TOKEN.search(client.get(url).get_data(as_text=True)).group(1)
        prepared.append((client, url, token))
    saves = []
    for client, url, token in prepared:
        start = time.perf_counter()
        response = client.post(url, data={"csrf_token": token, "action": "answer", "answer": "a"})
        saves.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 302

    css = CSS.stat().st_size
    content_html = len(reader.get(content_url).data)
    check_html = len(reader.get(check_url).data)
    backend = db_url.split(":", 1)[0]
    print(f"backend: {backend}, rounds: {args.rounds}")
    for label, samples in (
        ("GET content step page", step_get),
        ("GET knowledge-check page", check_get),
        ("POST knowledge-check answer (save + events + redirect)", saves),
    ):
        print(
            f"{label}: median {statistics.median(samples):.1f} ms, "
            f"p95 {percentile(samples, 0.95):.1f} ms"
        )
    print(f"page weight: content step {content_html} B + CSS {css} B = {content_html + css} B")
    print(f"page weight: knowledge check {check_html} B + CSS {css} B = {check_html + css} B")


if __name__ == "__main__":
    main()
