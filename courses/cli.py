"""``shiftwell courses``: validate, import and list course packages; hide courses per tenant."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from courses import services
from courses.package import PackageInvalid
from lms_core.cli import UserError, emit, format_option, get_tenant
from lms_core.extensions import db


@click.group("courses", help="Course packages: validate, import, list; hide per hospital.")
def courses_group() -> None:
    pass


def _report(exc: PackageInvalid) -> UserError:
    return UserError(str(exc))


@courses_group.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def validate_command(path: Path) -> None:
    """Check a package folder or zip and report every problem (exit code 2 if any)."""
    try:
        parsed = services.check_package(path)
    except PackageInvalid as exc:
        raise _report(exc) from None
    steps = sum(len(lesson.steps) for lesson in parsed.lessons)
    click.echo(
        f"{path}: valid. {parsed.slug} {parsed.version} “{parsed.title}”: "
        f"{len(parsed.lessons)} lessons, {steps} steps, {len(parsed.assets)} assets."
    )


@courses_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--partner", "partner", default=None, help="Publish as this partner (slug).")
@with_appcontext
def import_command(path: Path, partner: str | None) -> None:
    """Import a package: changed content becomes a new version; identical content is a no-op."""
    try:
        result = services.import_package(path, partner)
    except PackageInvalid as exc:
        db.session.rollback()
        raise _report(exc) from None
    db.session.commit()
    if not result.created:
        click.echo(f"{result.slug} {result.version} is already imported with this content.")
    elif result.previous_version:
        click.echo(
            f"Imported {result.slug} {result.version} (was {result.previous_version}); "
            "learners in progress keep the version they started."
        )
    else:
        click.echo(f"Imported {result.slug} {result.version} “{result.title}”.")


@courses_group.command("list")
@click.option(
    "--tenant", "tenant_slug", default=None, help="Only what this tenant's catalog shows."
)
@format_option
@with_appcontext
def list_command(tenant_slug: str | None, fmt: str) -> None:
    """List the latest version of every course."""
    tenant = get_tenant(tenant_slug) if tenant_slug else None
    rows = [
        {
            "slug": v.course.slug,
            "title": v.title,
            "version": v.version,
            "partner": v.course.partner.slug,
            "language": v.language,
            "minutes": v.estimated_minutes,
            "credit_type": v.credit_type,
            "credit_amount": v.credit_amount,
            "versions": v.sequence,
        }
        for v in services.latest_versions(tenant.id if tenant else None)
    ]
    emit(
        rows,
        fmt,
        ["slug", "version", "title", "partner", "minutes", "credit_type", "credit_amount"],
    )


def _set_hidden(slug: str, tenant_slug: str, hidden: bool) -> None:
    tenant = get_tenant(tenant_slug)
    changed = services.set_course_hidden(tenant, slug, hidden)
    db.session.commit()
    state = "hidden from" if hidden else "shown in"
    click.echo(f"{slug} is {state} {tenant.slug}'s catalog{'' if changed else ' already'}.")


@courses_group.command("hide")
@click.argument("slug")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital (tenant slug).")
@with_appcontext
def hide_command(slug: str, tenant_slug: str) -> None:
    """Hide a course from one hospital's catalog (attempts already made stay)."""
    _set_hidden(slug, tenant_slug, True)


@courses_group.command("show")
@click.argument("slug")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital (tenant slug).")
@with_appcontext
def show_command(slug: str, tenant_slug: str) -> None:
    """Offer a hidden course in that hospital's catalog again."""
    _set_hidden(slug, tenant_slug, False)
