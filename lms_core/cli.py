"""The ``shiftwell`` command: a Flask CLI group with the core's commands.

Plugins add their own groups from ``init_app`` (``app.cli.add_command``). Every error a
user can cause (:class:`~lms_core.errors.ShiftwellError`) ends the command with its
message on stderr and exit code 2, the same code click uses for a usage error; nothing
is half-written because each command commits once, at its end.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy import func, select

from lms_core import outbox, schema, signals
from lms_core.db import utcnow
from lms_core.errors import Conflict, InvalidInput, NotFound, ShiftwellError
from lms_core.extensions import db
from lms_core.models import OutboxMessage, OutboxStatus, Role, Tenant, User

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")

#: The demo hospital `make demo` creates.
DEMO_TENANT = "demo-hospital"


class UserError(click.ClickException):
    """A user's mistake: message on stderr, exit code 2."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message


class _DomainErrorsExit2:
    """Turns domain errors raised by any subcommand into exit code 2, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except ShiftwellError as exc:
            raise UserError(str(exc)) from None


class ShiftwellGroup(_DomainErrorsExit2, FlaskGroup):
    """The ``shiftwell`` console script."""


class CommandGroup(_DomainErrorsExit2, AppGroup):
    """``app.cli`` itself, so ``flask --app lms_core`` and test runners behave the same."""


def _create_app() -> Flask:
    from lms_core import create_app

    return create_app()


def main() -> None:
    """Console script entry point."""
    cli = ShiftwellGroup(
        create_app=_create_app,
        name="shiftwell",
        help="Shiftwell: micro-courses for clinicians, delivered through the hospital's LMS.",
    )
    cli.main(prog_name="shiftwell")


# -- output helpers shared by every plugin's listings -----------------------------------

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)


def emit(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> None:
    """Print ``rows`` as an aligned table, a JSON list or CSV."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        click.echo(json.dumps(list(rows), indent=2, default=_json_value, ensure_ascii=False))
        return
    if fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    header = "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))
    click.echo(header.rstrip())
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="seconds")
    return str(value)


def get_tenant(slug: str) -> Tenant:
    """The tenant named by a ``--tenant`` option, or a clear error naming the known ones."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        known = ", ".join(db.session.scalars(select(Tenant.slug).order_by(Tenant.slug))) or "none"
        raise NotFound(
            f"No tenant {slug!r}. Known tenants: {known}. "
            "Create one with `shiftwell tenants add SLUG --name NAME`."
        )
    return tenant


# -- db ---------------------------------------------------------------------------------


@click.group("db", help="Database migrations for the core and every plugin.")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations (default: every branch to its head)."""
    schema.upgrade(revision)
    click.echo("Database is up to date.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert to REVISION (e.g. courses@-1)."""
    schema.downgrade(revision)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the revision of every branch the database is at."""
    from alembic import command

    command.current(schema.alembic_config(), verbose=False)


@db_group.command("heads")
@with_appcontext
def db_heads() -> None:
    """Show the head revision of every branch."""
    from alembic import command

    command.heads(schema.alembic_config(), verbose=True)


@db_group.command("migrate")
@click.option(
    "--plugin",
    "owner",
    default="core",
    show_default=True,
    help="Whose branch gets the revision: core or a plugin name.",
)
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--empty", is_flag=True, help="Write an empty revision (no autogenerate).")
@with_appcontext
def db_migrate(owner: str, message: str, empty: bool) -> None:
    """Autogenerate a revision for one owner's tables."""
    try:
        schema.make_revision(owner, message, autogenerate=not empty)
    except LookupError as exc:
        raise UserError(str(exc)) from None


# -- tenants ----------------------------------------------------------------------------


@click.group("tenants", help="Hospitals that use Shiftwell.")
def tenants_group() -> None:
    pass


@tenants_group.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="The hospital's name, as learners know it.")
@click.option(
    "--locale",
    default="en-US",
    show_default=True,
    help="BCP 47 locale (e.g. en-US, fr-CA, en-GB): its region decides Letter or A4 paper.",
)
@with_appcontext
def tenants_add(slug: str, name: str, locale: str) -> None:
    """Add a tenant (a hospital) with the short name SLUG."""
    tenant = create_tenant(slug, name, locale)
    db.session.commit()
    click.echo(f"Tenant {tenant.slug} added.")


def create_tenant(slug: str, name: str, locale: str = "en-US") -> Tenant:
    """Validate and add a tenant to the session, and tell plugins about it."""
    from lms_core import audit

    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"{slug!r} is not a valid tenant slug: use 1-64 lower-case letters, digits and "
            "hyphens, starting and ending with a letter or digit (e.g. st-marys)."
        )
    if not name.strip():
        raise InvalidInput("--name must not be empty.")
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"A tenant {slug!r} already exists; pick another slug.")
    tenant = Tenant(slug=slug, name=name.strip(), locale=locale, settings={})
    db.session.add(tenant)
    db.session.flush()
    audit.record("tenant.created", tenant=tenant, target_type="tenant", target_id=tenant.id)
    signals.tenant_created.send(
        current_app._get_current_object(), event=signals.TenantEvent(tenant.id, tenant.slug)
    )
    return tenant


@tenants_group.command("list")
@format_option
@with_appcontext
def tenants_list(fmt: str) -> None:
    """List tenants."""
    rows = [
        {"slug": t.slug, "name": t.name, "locale": t.locale, "created_at": t.created_at}
        for t in db.session.scalars(select(Tenant).order_by(Tenant.slug))
    ]
    emit(rows, fmt, ["slug", "name", "locale", "created_at"])


# -- users ------------------------------------------------------------------------------


@click.group("users", help="Local accounts (operators).")
def users_group() -> None:
    pass


@users_group.command("add-operator")
@click.argument("email")
@click.password_option(help="At least 12 characters; prompted for if not given.")
@with_appcontext
def users_add_operator(email: str, password: str) -> None:
    """Create an operator account that logs in at /login."""
    from lms_core import audit, auth

    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an e-mail address.")
    if len(password) < 12:
        raise InvalidInput("The password must have at least 12 characters.")
    if db.session.scalar(
        select(User.id).where(func.lower(User.email) == email, User.password_hash.is_not(None))
    ):
        raise Conflict(f"A local account for {email} already exists.")
    user = User(email=email, password_hash=auth.hash_password(password), name=email)
    user.grant(Role.OPERATOR)
    db.session.add(user)
    db.session.flush()
    audit.record("user.operator_added", target_type="user", target_id=user.id, email=email)
    db.session.commit()
    click.echo(f"Operator {email} added.")


@users_group.command("add-admin")
@click.argument("email")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital (tenant slug).")
@click.option("--name", default=None, help="The name shown in the audit log (default: EMAIL).")
@click.password_option(help="At least 12 characters; prompted for if not given.")
@with_appcontext
def users_add_admin(email: str, tenant_slug: str, name: str | None, password: str) -> None:
    """Create an education-department administrator of one hospital who logs in at /login.

    For hospitals whose LMS launches nobody as Administrator: the account sees that
    hospital's reports and manages its catalog, exactly like an LTI administrator.
    """
    from lms_core import audit, auth

    tenant = get_tenant(tenant_slug)
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an e-mail address.")
    if len(password) < 12:
        raise InvalidInput("The password must have at least 12 characters.")
    # One local account per e-mail address, whatever it is for: /login finds it by e-mail.
    taken = select(User.id).where(func.lower(User.email) == email, User.password_hash.is_not(None))
    if db.session.scalar(taken):
        raise Conflict(f"A local account for {email} already exists.")
    user = User(
        tenant_id=tenant.id,
        email=email,
        password_hash=auth.hash_password(password),
        name=(name or "").strip() or email,
    )
    user.grant(Role.ADMINISTRATOR)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.admin_added", tenant=tenant, target_type="user", target_id=user.id, email=email
    )
    db.session.commit()
    click.echo(f"Administrator {email} of {tenant.slug} added; log in at /login.")


# -- background work --------------------------------------------------------------------


@click.command("worker")
@click.option("--concurrency", "-c", type=int, default=None, help="Worker processes.")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--no-beat", is_flag=True, help="Do not run the periodic sweeper in this worker.")
@with_appcontext
def worker_command(concurrency: int | None, loglevel: str, no_beat: bool) -> None:
    """Run a Celery worker for background work (needs SHIFTWELL_BROKER_URL)."""
    if not current_app.config["BROKER_URL"]:
        raise UserError(
            "No broker configured: set SHIFTWELL_BROKER_URL=redis://HOST:6379/0. "
            "Without one, background work runs in-process and no worker is needed."
        )
    argv = ["worker", f"--loglevel={loglevel}"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if not no_beat:
        argv.append("--beat")  # one beat per deployment: run it in one worker only
    current_app.extensions["celery"].worker_main(argv)


@click.group("outbox", help="Background work waiting for, or given up on, outside systems.")
def outbox_group() -> None:
    pass


@outbox_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), default=None)
@click.option("--limit", type=int, default=100, show_default=True)
@format_option
@with_appcontext
def outbox_list(status: str | None, limit: int, fmt: str) -> None:
    """List messages, newest first (``--status dead`` for the dead letters)."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(OutboxMessage.status == OutboxStatus(status))
    rows = [
        {
            "id": m.id,
            "topic": m.topic,
            "status": m.status.value,
            "attempts": m.attempts,
            "available_at": m.available_at,
            "last_error": m.last_error,
        }
        for m in db.session.scalars(stmt)
    ]
    emit(rows, fmt, ["id", "topic", "status", "attempts", "available_at", "last_error"])


@outbox_group.command("retry")
@click.argument("message_ids", type=int, nargs=-1, required=True)
@with_appcontext
def outbox_retry(message_ids: Iterable[int]) -> None:
    """Give dead messages a fresh set of attempts, now."""
    from lms_core import audit

    for message_id in message_ids:
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound(f"No outbox message {message_id}.")
        if message.status == OutboxStatus.DONE:
            raise Conflict(f"Message {message_id} is done; it is not run again.")
        outbox.retry(message)
        audit.record(
            "outbox.retried",
            tenant=message.tenant_id,
            target_type="outbox_message",
            target_id=message.id,
        )
    db.session.commit()
    click.echo("Queued again.")


@outbox_group.command("sweep")
@with_appcontext
def outbox_sweep() -> None:
    """Hand over every due message now (the worker's beat does this periodically)."""
    count = outbox.sweep()
    click.echo(f"{count} message(s) handed over.")


# -- demo -------------------------------------------------------------------------------


@click.group("demo", help="Demo data for `make demo` (never use in production).")
def demo_group() -> None:
    pass


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Create the demo hospital and let every plugin add its demo data. Idempotent."""
    if current_app.config["ENV"] == "production":
        raise UserError("Demo data is never loaded in production mode.")
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT))
    if tenant is None:
        tenant = create_tenant(DEMO_TENANT, "Riverside General Hospital (demo)")
    event = signals.DemoEvent(tenant.id, current_app.config["BASE_URL"])
    signals.demo_loading.send(current_app._get_current_object(), event=event)
    db.session.commit()
    click.echo(f"Demo data loaded at {utcnow():%Y-%m-%d %H:%M} UTC.")
    for line in event.messages:
        click.echo(line)


@demo_group.command("generate")
@click.option("--learners", type=click.IntRange(1, 1_000_000), required=True, help="New learners.")
@click.option(
    "--courses",
    type=click.IntRange(0, 10_000),
    required=True,
    help="New made-up courses (0: only the courses already imported).",
)
@click.option(
    "--attempts",
    type=click.IntRange(0, 50_000_000),
    default=None,
    help="Attempts over all learners and courses [default: 25 per learner].",
)
@click.option("--tenant", "tenant_slug", default=DEMO_TENANT, show_default=True)
@click.option("--units", type=click.IntRange(1, 500), default=None, help="LMS courses (units).")
@click.option("--months", type=click.IntRange(1, 120), default=24, show_default=True)
@click.option("--seed", type=int, default=None, help="Repeat a run exactly.")
@click.option("--no-certificates", is_flag=True, help="Do not issue certificates.")
@click.option("--once", is_flag=True, help="Do nothing if this tenant has generated learners.")
@with_appcontext
def demo_generate(
    learners: int,
    courses: int,
    attempts: int | None,
    tenant_slug: str,
    units: int | None,
    months: int,
    seed: int | None,
    no_certificates: bool,
    once: bool,
) -> None:
    """Generate a hospital's worth of made-up learners and activity, in bulk.

    Creates the learners here, then every plugin adds its part (LMS rosters, courses,
    attempts, certificates) through the ``demo_generating`` signal, in one transaction.
    For demos and benchmarks only: never in production.
    """
    from lms_core import generate

    if current_app.config["ENV"] == "production":
        raise UserError("Made-up data is never generated in production mode.")
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        if tenant_slug != DEMO_TENANT:
            get_tenant(tenant_slug)  # the usual "no tenant" error, naming the known ones
        tenant = create_tenant(DEMO_TENANT, "Riverside General Hospital (demo)")
    if once and generate.has_generated_learners(tenant):
        click.echo(f"{tenant.slug} already has generated learners; nothing to do.")
        return
    started = utcnow()
    event = generate.generate(
        tenant,
        learners=learners,
        courses=courses,
        attempts=learners * 25 if attempts is None else attempts,
        units=units,
        months=months,
        seed=seed,
        certificates=not no_certificates,
    )
    db.session.commit()
    seconds = (utcnow() - started).total_seconds()
    click.echo(
        f"Generated {learners} learners in {len(event.units)} units for {tenant.slug} "
        f"(seed {event.seed}) in {seconds:.0f} s."
    )
    for line in event.messages:
        click.echo(line)


def register_commands(app: Flask) -> None:
    # Replaces Flask-Migrate's own `db` group: ours upgrades every plugin's branch.
    app.cli.add_command(db_group)
    for command in (tenants_group, users_group, worker_command, outbox_group, demo_group):
        app.cli.add_command(command)
