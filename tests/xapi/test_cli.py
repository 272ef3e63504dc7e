"""`shiftwell xapi add-credentials` and friends, as an operator uses them."""

from __future__ import annotations

import base64
import json

from sqlalchemy import select

from lms_core.extensions import db
from xapi.models import XapiCredential


def test_an_operator_creates_credentials_that_work_and_revokes_them(app, runner, client, tenant):
    result = runner.invoke(
        args=["xapi", "add-credentials", "--tenant", "st-marys", "--label", "Analytics"]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) >= {"key", "secret"}
    with app.app_context():
        stored = db.session.scalar(select(XapiCredential))
        assert created["secret"] not in (stored.secret_hash, stored.key)  # only a digest is kept

    auth = base64.b64encode(f"{created['key']}:{created['secret']}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    assert client.get("/xapi/statements", headers=headers).status_code == 200

    listing = json.loads(runner.invoke(args=["xapi", "credentials", "--format", "json"]).output)
    assert listing[0]["label"] == "Analytics" and "secret" not in listing[0]
    assert runner.invoke(args=["xapi", "revoke-credentials", created["key"]]).exit_code == 0
    assert client.get("/xapi/statements", headers=headers).status_code == 401


def test_credentials_for_an_unknown_tenant_exit_2_naming_the_known_ones(runner, tenant):
    result = runner.invoke(args=["xapi", "add-credentials", "--tenant", "nowhere"])
    assert result.exit_code == 2
    assert "st-marys" in result.output
