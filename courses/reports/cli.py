"""``shiftwell reports``: the education department's exports, for scripts and schedulers."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from courses.reports import exports, periods, services
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
    if fmt == "table":
        emit(list(rows), "table", list(services.COMPLETION_COLUMNS))
        return
    chunks = (
        exports.csv_chunks(rows, services.COMPLETION_COLUMNS)
        if fmt == "csv"
        else exports.json_chunks(rows)
    )
    for chunk in chunks:
        click.echo(chunk, nl=False)
