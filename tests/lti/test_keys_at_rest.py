"""The tool's private keys are sealed in the database: a copy of it alone cannot sign as
the tool; the app's secret key (or a fallback after rotating it) opens them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from lms_core import create_app
from lms_core.extensions import db
from lti import keys
from tests.conftest import base_config
from tests.lti.platform import Scenario

OLD_SECRET = "test-secret-key-that-is-long-enough-for-anything"  # base_config's


def test_no_private_key_is_in_the_database_in_the_clear(app, browser, clinician):
    assert browser.launch(Scenario(clinician)).status_code == 303  # the tool signed with it
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM lti_tool_key")).all()
        assert len(rows) >= 2
        dump = " ".join(str(value) for row in rows for value in row)
        assert "PRIVATE KEY" not in dump and "sealed:" in dump


def test_after_rotating_the_secret_key_the_tool_still_signs(app, database_url, tmp_path: Path):
    with app.app_context():
        kid = keys.signing_key().kid
    config = base_config(database_url, tmp_path / "rotated")
    config.update(
        SECRET_KEY="a-brand-new-secret-key-for-this-test", SECRET_KEY_FALLBACKS=[OLD_SECRET]
    )
    rotated = create_app(config)
    with rotated.app_context():
        assert keys.signing_key().kid == kid
        db.session.remove()
        db.engine.dispose()


def test_the_migration_seals_keys_kept_in_the_clear_and_back(app, runner):
    with app.app_context():
        kid = keys.signing_key().kid
        db.session.remove()
    down = runner.invoke(args=["db", "downgrade", "fd3de498c6b9"])  # before keys were sealed
    assert down.exit_code == 0, down.output
    with app.app_context():
        pems = db.session.scalars(text("SELECT private_key_pem FROM lti_tool_key")).all()
        assert pems and all(p.startswith("-----BEGIN PRIVATE KEY-----") for p in pems)
        db.session.remove()
    up = runner.invoke(args=["db", "upgrade"])
    assert up.exit_code == 0, up.output
    with app.app_context():
        sealed = db.session.scalars(text("SELECT private_key_sealed FROM lti_tool_key")).all()
        assert len(sealed) == len(pems) and all(s.startswith("sealed:") for s in sealed)
        assert keys.signing_key().kid == kid
