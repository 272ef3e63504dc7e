"""LTI: full login + launch, one process, sequential (docs/benchmarks.md).

    .venv/bin/python benchmarks/lti_launch.py [--launches 200] [--database-url URL]

Each launch is what a clinician's browser does: the LMS's login initiation to
``/lti/login`` (a returning browser: the cookie probe is already answered), the
redirect to the LMS's authorization endpoint (an lti1p3platform LMS served over HTTP in
a thread: it signs a real id_token), and the form post to ``/lti/launch``, which
validates the token fully (state cookie, signature with the cached JWKS, one-time
nonce, claims), upserts user, context and link, logs in and records the launch.

Reported: the median and 95th percentile of the tool's own time (its two requests) and
of the whole round trip including the LMS, and the launches per second one process
sustains (1 / median tool time). The database is a fresh SQLite file unless
``--database-url`` names another.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lms_core import create_app, schema  # noqa: E402
from lms_core.extensions import db  # noqa: E402
from lms_core.models import Tenant  # noqa: E402
from tests.lti.platform import LEARNER, Person, Scenario, TestPlatform  # noqa: E402

TOOL = "http://localhost"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--launches", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="shiftwell-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "benchmark-secret-key-long-enough-for-anything",
            "DATABASE_URL": url,
            "BASE_URL": TOOL,
            "INSTANCE_PATH": str(tmp / "instance"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        schema.upgrade()
        db.session.add(Tenant(slug="bench", name="Benchmark Hospital", settings={}))
        db.session.commit()
    client = app.test_client()
    platform = TestPlatform(tool_base=TOOL).start()
    platform.tool_jwks = client.get("/lti/jwks").get_json()
    result = app.test_cli_runner().invoke(
        args=[
            "lti", "add-platform", "--tenant", "bench",
            "--issuer", platform.issuer, "--client-id", platform.client_id,
            "--deployment-id", platform.deployment_id,
            "--auth-login-url", platform.auth_url, "--auth-token-url", platform.token_url,
            "--keyset-url", platform.jwks_url,
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lms = requests.Session()

    tool_times: list[float] = []
    totals: list[float] = []
    for i in range(args.launches + 10):  # the first 10 warm caches and are not counted
        scenario = Scenario(Person(f"nurse-{i % 50}", LEARNER, name=f"Nurse {i % 50}"))
        login_url = platform.login_url(scenario)[len(TOOL) :]
        started = time.perf_counter()
        response = client.get(login_url)
        if "probed=1" in response.headers["Location"]:  # the first launch of this browser
            response = client.get(response.headers["Location"])
        tool = time.perf_counter() - started
        auth = response.headers["Location"]
        assert parse_qs(urlsplit(auth).query)["state"]
        form = lms.get(auth, timeout=10).json()
        posted = time.perf_counter()
        fields = {"id_token": form["id_token"], "state": form["state"]}
        launched = client.post("/lti/launch", data=fields)
        done = time.perf_counter()
        assert launched.status_code == 303, launched.get_data(as_text=True)[:300]
        if i >= 10:
            tool_times.append(tool + (done - posted))
            totals.append(done - started)
    platform.stop()

    def ms(values: list[float], q: float) -> float:
        return sorted(values)[int(q * (len(values) - 1))] * 1000

    median_tool = statistics.median(tool_times)
    backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    print(f"launches measured: {len(tool_times)} ({backend})")
    print(
        f"tool time per launch: median {median_tool * 1000:.1f} ms, "
        f"p95 {ms(tool_times, 0.95):.1f} ms"
    )
    print(
        f"round trip incl. the LMS: median {statistics.median(totals) * 1000:.1f} ms, "
        f"p95 {ms(totals, 0.95):.1f} ms"
    )
    print(f"launches per second, one process: {1 / median_tool:.0f}")


if __name__ == "__main__":
    main()
