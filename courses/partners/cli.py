"""``shiftwell partners``: partner universities and the authors who publish for them."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from courses.partners import services
from lms_core.cli import UserError, emit, format_option
from lms_core.extensions import db


@click.group("partners", help="Partner universities and their authors: list, add, invite.")
def partners_group() -> None:
    pass


@partners_group.command("list")
@format_option
@with_appcontext
def list_command(fmt: str) -> None:
    """List partners with their courses, authors and pending invitations."""
    rows = [
        {
            "slug": o.partner.slug,
            "name": o.partner.name,
            "courses": o.courses,
            "authors": ", ".join(u.email or "" for u in o.authors),
            "pending_invitations": ", ".join(i.email for i in o.pending),
        }
        for o in services.partner_overviews()
    ]
    emit(rows, fmt, ["slug", "name", "courses", "authors", "pending_invitations"])


@partners_group.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="The university's name, as learners read it.")
@with_appcontext
def add_command(slug: str, name: str) -> None:
    """Add a partner before its first course, so its authors can be invited."""
    partner = services.add_partner(slug, name)
    db.session.commit()
    click.echo(f"Partner {partner.slug} added.")


@partners_group.command("invite")
@click.argument("email")
@click.option("--partner", "partner_slug", required=True, help="The partner (slug).")
@click.option(
    "--expires-in",
    "hours",
    type=int,
    default=services.DEFAULT_INVITATION_HOURS,
    show_default=True,
    help="Hours the link works.",
)
@format_option
@with_appcontext
def invite_command(email: str, partner_slug: str, hours: int, fmt: str) -> None:
    """Invite EMAIL to author for a partner: prints a one-time link to send them."""
    partner = services.get_partner(partner_slug)
    issued = services.invite(partner, email, hours=hours)
    db.session.commit()
    url = issued.url(current_app.config["BASE_URL"])
    if fmt == "table":
        click.echo(f"Invitation for {issued.invitation.email} to author for {partner.name}.")
        until = f"{issued.invitation.expires_at:%Y-%m-%d %H:%M} UTC"
        click.echo(f"Send them this link; it works once, until {until}:")
        click.echo(url)
        return
    emit(
        [
            {
                "email": issued.invitation.email,
                "partner": partner.slug,
                "url": url,
                "expires_at": issued.invitation.expires_at,
            }
        ],
        fmt,
        ["email", "partner", "url", "expires_at"],
    )


@partners_group.command("revoke-invitation")
@click.argument("email")
@click.option("--partner", "partner_slug", required=True, help="The partner (slug).")
@with_appcontext
def revoke_command(email: str, partner_slug: str) -> None:
    """Withdraw the pending invitation of EMAIL before it is used."""
    partner = services.get_partner(partner_slug)
    email = services.normalise_email(email)
    pending = [
        i for o in services.partner_overviews() if o.partner.id == partner.id for i in o.pending
    ]
    found = [i for i in pending if i.email == email]
    if not found:
        raise UserError(f"No pending invitation for {email} to {partner.slug}.")
    for invitation in found:
        services.revoke_invitation(invitation.id)
    db.session.commit()
    click.echo(f"Invitation for {email} withdrawn.")


@partners_group.command("remove-author")
@click.argument("email")
@click.option("--partner", "partner_slug", required=True, help="The partner (slug).")
@with_appcontext
def remove_author_command(email: str, partner_slug: str) -> None:
    """Stop EMAIL from working on a partner's courses (their account stays)."""
    partner = services.get_partner(partner_slug)
    services.remove_author(partner, email)
    db.session.commit()
    click.echo(f"{email} is no longer an author for {partner.slug}.")
