"""``shiftwell reports``: the education department's exports, for scripts and schedulers."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from courses.reports import exports, periods, rollups, services
from lms_core.cli import emit, get_tenant
from lms_core.db import utcnow
from lms_core.errors import InvalidInput, Problem


@click.group("reports", help="Reports of a hospital's completions and CE credit.")
def reports_group() -> None:
    pass


@reports_group.command("completions")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital (tenant slug).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "table"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option("--since", default=None, help="First day (YYYY-MM-DD, UTC) [default: the start].")
@click.option("--until", default=None, help="Last day, included (YYYY-MM-DD) [default: today].")
@with_appcontext
def completions_command(tenant_slug: str, fmt: str, since: str | None, until: str | None) -> None:
    """Every completed attempt with score and CE credit, oldest first, to stdout.

    Streams: half a million rows need no more memory than ten. Text cells that a
    spreadsheet would run as a formula start with an apostrophe.
    """
    tenant = get_tenant(tenant_slug)
    today = utcnow().date()
    try:
        period = periods.parse({"since": since or "", "until": until or ""}, today)
    except InvalidInput as error:
        raise InvalidInput(
            error.detail,
            [Problem(p.message, f"--{p.location}", p.hint) for p in error.problems],
        ) from None
    if since is None and until is None:
        period = periods.preset("all", today)
    rows = services.completion_rows(tenant.id, period)
    columns = services.COMPLETION_COLUMNS
    if fmt == "table":
        emit([dict(zip(columns, row, strict=True)) for row in rows], "table", list(columns))
        return
    chunks = (
        exports.csv_chunks(rows, columns, services.TEXT_COLUMNS)
        if fmt == "csv"
        else exports.json_chunks(rows, columns)
    )
    for chunk in chunks:
        click.echo(chunk, nl=False)


@reports_group.command("rebuild")
@click.option("--tenant", "tenant_slug", default=None, help="One hospital [default: every one].")
@with_appcontext
def rebuild_command(tenant_slug: str | None) -> None:
    """Recompute the daily rollups the dashboard reads from the attempts themselves.

    Needed only after rows were deleted or restored outside Shiftwell (people deleted,
    a partial backup restored): completions keep them up to date otherwise.
    """
    from sqlalchemy import select

    from lms_core.extensions import db
    from lms_core.models import Tenant

    tenants = (
        [get_tenant(tenant_slug)]
        if tenant_slug
        else list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))
    )
    for tenant in tenants:
        days, units = rollups.rebuild(tenant.id)
        services.forget_private_summaries(tenant.id)
        click.echo(f"{tenant.slug}: {days} course-days, {units} unit-days.")
    db.session.commit()
