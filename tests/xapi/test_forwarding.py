"""Forwarding to the hospital's LRS: in order, in batches, nothing lost, nothing doubled.

The target is a second Shiftwell LRS with its own database, served over real HTTP on a
local port, that we stop and start again while statements keep arriving.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

from lms_core import create_app
from lms_core.extensions import db
from lms_core.models import Tenant
from tests.conftest import base_config
from tests.xapi.conftest import LiveServer, statement
from xapi import credentials


class StatementCounter:
    """WSGI middleware in front of the target: counts every statement id it is sent and
    can lose one response after the target stored the batch (a dropped connection)."""

    def __init__(self, app):
        self.app = app
        self.received: Counter[str] = Counter()
        self.lose_next_response = False
        #: A stricter LRS: a request holding a statement this says yes to is refused (400).
        self.refuse = lambda item: False

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/xapi/statements") and environ["REQUEST_METHOD"] in (
            "POST",
            "PUT",
        ):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            from io import BytesIO

            environ["wsgi.input"] = BytesIO(body)
            data = json.loads(body)
            items = data if isinstance(data, list) else [data]
            for item in items:
                self.received[item["id"]] += 1
            if any(self.refuse(item) for item in items):
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [b'{"error": "we only take activities under https://courses.example.org/"}']
            if self.lose_next_response:
                self.lose_next_response = False
                list(self.app(environ, lambda *a, **k: None))  # the target stores the batch...
                start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
                return [b"connection lost"]  # ...but its answer never reaches us
        return self.app(environ, start_response)


@pytest.fixture
def hospital_lrs(database_template, tmp_path: Path):
    """Another LRS: its own app, database and credentials, behind real HTTP."""
    url = database_template.new_database(_mkdir(tmp_path / "target"))
    app = create_app(base_config(url, tmp_path / "target"))
    with app.app_context():
        tenant = Tenant(slug="hospital", name="Hospital LRS", settings={})
        db.session.add(tenant)
        db.session.flush()
        credential, secret = credentials.create_credential(tenant, "Shiftwell forwarding")
        db.session.commit()
        key = credential.key
    counter = StatementCounter(app)
    server = LiveServer(counter)
    server.start()
    yield app, server, counter, key, secret
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_template.drop_database(url)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def target_ids(target_app) -> list[str]:
    from sqlalchemy import select

    from xapi.models import XapiStatement

    with target_app.app_context():
        return list(
            db.session.scalars(select(XapiStatement.statement_id).order_by(XapiStatement.seq))
        )


def status(runner) -> dict:
    result = runner.invoke(args=["xapi", "forwarding-status", "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    return row


def test_an_lrs_that_goes_down_mid_stream_gets_every_statement_exactly_once(
    client, runner, lrs, hospital_lrs, monkeypatch
):
    target_app, server, counter, key, secret = hospital_lrs
    monkeypatch.setenv("HOSPITAL_LRS_PASSWORD", secret)
    added = runner.invoke(
        args=[
            "xapi",
            "add-target",
            "--tenant",
            "st-marys",
            "--name",
            "hospital-lrs",
            "--endpoint",
            f"{server.url}/xapi/",
            "--username",
            key,
            "--password-env",
            "HOSPITAL_LRS_PASSWORD",
            "--batch-size",
            "4",
        ]
    )
    assert added.exit_code == 0, added.output
    sent: list[str] = []

    def send(count: int) -> None:
        response = client.post(
            "/xapi/statements", json=[statement() for _ in range(count)], headers=lrs.headers
        )
        assert response.status_code == 200, response.json
        sent.extend(response.json)

    send(6)
    assert target_ids(target_app) == [s.lower() for s in sent]

    server.stop()  # the hospital's LRS goes down mid-stream
    for _ in range(4):
        send(5)
    down = status(runner)
    assert down["lag_statements"] == 20
    assert down["consecutive_failures"] >= 1 and "Connect" in down["last_error"]
    assert key not in json.dumps(down) and secret not in json.dumps(down)

    server.start()  # it comes back; the operator does not wait for the backoff
    counter.lose_next_response = True  # and the first answer after the outage is lost
    assert runner.invoke(args=["xapi", "forward-now"]).exit_code == 0
    assert status(runner)["lag_statements"] == 20  # the target stored 4; we could not know
    assert runner.invoke(args=["xapi", "forward-now"]).exit_code == 0  # the next retry
    assert status(runner)["lag_statements"] == 0
    send(3)

    assert target_ids(target_app) == [s.lower() for s in sent]  # all, once, in order
    assert set(counter.received) == set(sent)
    assert sum(n > 1 for n in counter.received.values()) == 4  # only the lost batch was re-sent
    final = status(runner)
    assert final["lag_statements"] == 0 and final["forwarded"] == len(sent)
    assert final["consecutive_failures"] == 0


def test_targets_are_added_and_removed_from_the_command_line(runner, tenant, monkeypatch):
    monkeypatch.setenv("LRS_PASSWORD", "s3cret-password")
    bad = runner.invoke(
        args=[
            "xapi",
            "add-target",
            "--tenant",
            "st-marys",
            "--name",
            "x",
            "--endpoint",
            "https://u:p@lrs.example.org/",
        ]
    )
    assert bad.exit_code == 2 and "not in the URL" in bad.output
    ok = runner.invoke(
        args=[
            "xapi",
            "add-target",
            "--tenant",
            "st-marys",
            "--name",
            "regional",
            "--endpoint",
            "https://lrs.example.org/xapi/",
            "--username",
            "shiftwell",
            "--password-env",
            "LRS_PASSWORD",
            "--from-now",
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert status(runner)["target"] == "regional"
    removed = runner.invoke(
        args=["xapi", "remove-target", "--tenant", "st-marys", "--name", "regional"]
    )
    assert removed.exit_code == 0
    listing = runner.invoke(args=["xapi", "forwarding-status", "--format", "json"])
    assert json.loads(listing.output) == []


def test_a_statement_the_target_refuses_is_set_aside_and_the_rest_go_on(
    client, runner, lrs, hospital_lrs, monkeypatch
):
    """A stricter LRS refuses some statements (400) for good; they must not hold back
    every statement after them, and must not vanish either."""
    target_app, server, counter, key, secret = hospital_lrs
    counter.refuse = lambda item: "elsewhere.example" in item["object"]["id"]
    monkeypatch.setenv("HOSPITAL_LRS_PASSWORD", secret)
    added = runner.invoke(
        args=[
            "xapi", "add-target", "--tenant", "st-marys", "--name", "hospital-lrs",
            "--endpoint", f"{server.url}/xapi/", "--username", key,
            "--password-env", "HOSPITAL_LRS_PASSWORD", "--batch-size", "4",
        ]
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    good = statement()
    odd = statement(object={"id": "https://elsewhere.example/activity", "objectType": "Activity"})

    def send(*items) -> list[str]:
        response = client.post("/xapi/statements", json=list(items), headers=lrs.headers)
        assert response.status_code == 200, response.json
        return response.json

    first = send(good, odd, good)  # one refused statement between two others
    assert target_ids(target_app) == [first[0], first[2]]
    row = status(runner)
    assert row["lag_statements"] == 0 and row["consecutive_failures"] == 0
    assert row["rejected"] == 1 and row["last_rejected"].startswith(f"{first[1]}: HTTP 400")
    assert row["forwarded"] == 2

    # Alone, a refused statement is more likely the target's fault than its own: it waits.
    alone = send(odd)
    row = status(runner)
    assert row["rejected"] == 1 and row["lag_statements"] == 1
    assert row["consecutive_failures"] == 1 and "HTTP 400" in row["last_error"]

    # The next statement the target takes proves it well: the refused one is set aside.
    later = send(good)
    assert runner.invoke(args=["xapi", "forward-now"]).exit_code == 0
    row = status(runner)
    assert row["lag_statements"] == 0 and row["rejected"] == 2 and row["consecutive_failures"] == 0
    assert target_ids(target_app) == [first[0], first[2], later[0]]
    listing = runner.invoke(
        args=[
            "xapi",
            "rejected",
            "--tenant",
            "st-marys",
            "--name",
            "hospital-lrs",
            "--format",
            "json",
        ]
    )
    assert listing.exit_code == 0, listing.output
    assert [r["statement_id"] for r in json.loads(listing.output)] == [first[1], alone[0]]

    # The hospital widens its rules; the operator offers the set-aside statements again.
    counter.refuse = lambda item: False
    resent = runner.invoke(
        args=["xapi", "resend-rejected", "--tenant", "st-marys", "--name", "hospital-lrs"]
    )
    assert resent.exit_code == 0 and "took 2 statement(s); 0 still refused" in resent.output
    assert sorted(target_ids(target_app)) == sorted(first + alone + later)
    row = status(runner)
    assert row["rejected"] == 0 and row["forwarded"] == 5
    assert sum(n > 1 for n in Counter(target_ids(target_app)).values()) == 0


def add_hospital_target(runner, server, key: str, password_env: str) -> None:
    added = runner.invoke(
        args=[
            "xapi", "add-target", "--tenant", "st-marys", "--name", "hospital-lrs",
            "--endpoint", f"{server.url}/xapi/", "--username", key,
            "--password-env", password_env,
        ]
    )  # fmt: skip
    assert added.exit_code == 0, added.output


def test_new_credentials_for_a_target_resume_forwarding_where_it_stopped(
    app, client, runner, lrs, hospital_lrs, monkeypatch
):
    target_app, server, _, key, secret = hospital_lrs
    monkeypatch.setenv("HOSPITAL_LRS_PASSWORD", secret)
    add_hospital_target(runner, server, key, "HOSPITAL_LRS_PASSWORD")
    with app.app_context():
        stored = db.session.scalar(text("SELECT password_encrypted FROM xapi_forward_target"))
        assert stored.startswith("sealed:") and secret not in stored

    # The hospital replaces Shiftwell's credentials at its LRS.
    hospital_cli = target_app.test_cli_runner()
    assert hospital_cli.invoke(args=["xapi", "revoke-credentials", key]).exit_code == 0
    fresh = hospital_cli.invoke(args=["xapi", "add-credentials", "--tenant", "hospital"])
    new = json.loads(fresh.output)
    sent = client.post("/xapi/statements", json=[statement()], headers=lrs.headers).json
    row = status(runner)
    assert row["lag_statements"] == 1 and "HTTP 401" in row["last_error"]
    assert new["secret"] not in json.dumps(row)

    monkeypatch.setenv("NEW_PASSWORD", new["secret"])
    changed = runner.invoke(
        args=[
            "xapi", "set-target-credentials", "--tenant", "st-marys", "--name", "hospital-lrs",
            "--username", new["key"], "--password-env", "NEW_PASSWORD",
        ]
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    row = status(runner)
    assert row["lag_statements"] == 0 and row["consecutive_failures"] == 0
    assert target_ids(target_app) == [s.lower() for s in sent]


def test_the_migration_seals_passwords_of_the_old_format_and_back(
    app, runner, lrs, hospital_lrs, monkeypatch
):
    _, server, _, key, secret = hospital_lrs
    monkeypatch.setenv("HOSPITAL_LRS_PASSWORD", secret)
    add_hospital_target(runner, server, key, "HOSPITAL_LRS_PASSWORD")
    down = runner.invoke(args=["db", "downgrade", "a7d245727f16"])
    assert down.exit_code == 0, down.output
    with app.app_context():
        old = db.session.scalar(text("SELECT password_encrypted FROM xapi_forward_target"))
        assert old.startswith("gAAAAA") and secret not in old  # a bare Fernet token
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        from xapi import forwarding
        from xapi.models import XapiForwardTarget

        target = db.session.scalar(select(XapiForwardTarget))
        assert target.password_encrypted.startswith("sealed:")
        assert forwarding.decrypt(target.password_encrypted) == secret
