"""The `shiftwell` command as an operator uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import AuditLog, Role, User


def test_help_lists_every_group():
    env = {**os.environ, "SHIFTWELL_INSTANCE_PATH": "/tmp/shiftwell-help-test"}
    out = subprocess.run(
        [sys.executable, "-m", "lms_core", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    for group in (
        "db",
        "tenants",
        "worker",
        "outbox",
        "users",
        "demo",
        "run",
        "courses",
        "lti",
        "xapi",
        "certificates",
    ):
        assert f"  {group} " in out, out


def test_tenants_add_and_list(runner):
    result = runner.invoke(args=["tenants", "add", "st-marys", "--name", "St Mary's"])
    assert result.exit_code == 0, result.output
    listing = json.loads(runner.invoke(args=["tenants", "list", "--format", "json"]).output)
    assert [t["slug"] for t in listing] == ["st-marys"]
    assert listing[0]["name"] == "St Mary's"


def test_adding_a_tenant_is_audited(app, runner):
    runner.invoke(args=["tenants", "add", "north", "--name", "North"])
    with app.app_context():
        entry = db.session.scalar(select(AuditLog))
        assert entry.action == "tenant.created" and entry.actor_label == "cli"


def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(app, runner):
    result = runner.invoke(args=["tenants", "add", "Not A Slug", "--name", "X"])
    assert result.exit_code == 2
    assert "not a valid tenant slug" in result.output
    assert "Traceback" not in result.output
    runner.invoke(args=["tenants", "add", "north", "--name", "North"])
    duplicate = runner.invoke(args=["tenants", "add", "north", "--name", "North again"])
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    listing = json.loads(runner.invoke(args=["tenants", "list", "--format", "json"]).output)
    assert [t["name"] for t in listing] == ["North"]


def test_add_operator_creates_a_local_account(app, runner):
    result = runner.invoke(
        args=["users", "add-operator", "Ops@Example.org"],
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "ops@example.org" and Role.OPERATOR in user.roles
        assert user.password_hash and "correct horse" not in user.password_hash


def test_worker_without_a_broker_explains_itself(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 2
    assert "SHIFTWELL_BROKER_URL" in result.output


def test_db_upgrade_creates_the_schema_on_a_fresh_database(tmp_path, backend, database_url):
    from tests.conftest import base_config

    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        _reset_postgres(database_url)
    from lms_core import create_app

    app = create_app(base_config(database_url, tmp_path))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    again = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert again.exit_code == 0
    with app.app_context():
        from sqlalchemy import inspect

        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        db.engine.dispose()


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def test_migrations_match_the_models(app):
    """Every model change comes with a migration: autogenerate finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_demo_load_is_idempotent(runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    listing = json.loads(runner.invoke(args=["tenants", "list", "--format", "json"]).output)
    assert [t["slug"] for t in listing] == ["demo-hospital"]


def test_no_generated_files_are_tracked():
    root = Path(__file__).resolve().parents[2]
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout
    for bad in (".venv/", "instance/", ".sqlite", "__pycache__", "node_modules/"):
        assert bad not in tracked
