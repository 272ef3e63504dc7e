"""``shiftwell lti ...``: register LMSs, show the tool's configuration, rotate keys, sync
rosters."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask.cli import with_appcontext

from lms_core.cli import UserError, emit, format_option, get_tenant
from lms_core.errors import NotFound
from lms_core.extensions import db
from lti import keys, registrations, roster
from lti.dynamic_registration import tool_configuration
from lti.models import Context
from lti.tool import find_registration, purge_expired_launch_data


@click.group("lti", help="LTI 1.3: LMS registrations, tool keys and configuration, rosters.")
def lti_group() -> None:
    pass


@lti_group.command("add-platform")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital's tenant slug.")
@click.option(
    "--issuer", required=True, help="The LMS's issuer, e.g. https://canvas.instructure.com."
)
@click.option("--client-id", required=True, help="The client id the LMS gave Shiftwell.")
@click.option("--deployment-id", required=True, help="The deployment id of this install.")
@click.option("--auth-login-url", required=True, help="The LMS's OIDC authentication URL.")
@click.option("--auth-token-url", required=True, help="The LMS's OAuth 2 access token URL.")
@click.option("--keyset-url", required=True, help="The LMS's public key set (JWKS) URL.")
@click.option(
    "--name", default=None, help="A name for the operator's page (default: from the issuer)."
)
@click.option(
    "--auth-audience", default=None, help="The token audience, only if the LMS names one."
)
@with_appcontext
def add_platform(
    tenant_slug: str,
    issuer: str,
    client_id: str,
    deployment_id: str,
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
    name: str | None,
    auth_audience: str | None,
) -> None:
    """Register an LMS for a tenant (or add a deployment to its registration)."""
    tenant = get_tenant(tenant_slug)
    details = registrations.PlatformDetails(
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        keyset_url=keyset_url,
        name=name,
        auth_audience=auth_audience,
    )
    record, deployment = registrations.add_platform(tenant, details, deployment_id)
    db.session.commit()
    click.echo(
        f"Registered {record.name} (client id {record.client_id}, deployment "
        f"{deployment.deployment_id}) for {tenant.slug}."
    )


@lti_group.command("add-deployment")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", required=True)
@click.option("--tenant", "tenant_slug", default=None, help="Default: the registration's tenant.")
@with_appcontext
def add_deployment(
    issuer: str, client_id: str, deployment_id: str, tenant_slug: str | None
) -> None:
    """Add another deployment (install) of a registered LMS client."""
    record = find_registration(issuer, client_id)
    if record is None:
        raise NotFound(f"No registration of {issuer} with client id {client_id}.")
    tenant = get_tenant(tenant_slug) if tenant_slug else None
    registrations.add_deployment(record, deployment_id, tenant)
    db.session.commit()
    click.echo(f"Deployment {deployment_id} added.")


@lti_group.command("list-platforms")
@format_option
@with_appcontext
def list_platforms(fmt: str) -> None:
    """List registered LMSs (pending dynamic registrations first)."""
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "tenant": r.tenant.slug if r.tenant else None,
            "issuer": r.issuer,
            "client_id": r.client_id,
            "deployments": [d.deployment_id for d in r.deployments],
            "status": r.status.value,
            "source": r.source,
        }
        for r in registrations.all_registrations()
    ]
    if fmt != "json":
        for row in rows:
            row["deployments"] = " ".join(row["deployments"])
    emit(
        rows,
        fmt,
        ["id", "name", "tenant", "issuer", "client_id", "deployments", "status", "source"],
    )


@lti_group.command("approve")
@click.argument("registration_id", type=int)
@click.option("--tenant", "tenant_slug", required=True)
@with_appcontext
def approve(registration_id: int, tenant_slug: str) -> None:
    """Approve a dynamically registered LMS for a tenant."""
    record = registrations.get(registration_id)
    registrations.approve(record, get_tenant(tenant_slug))
    db.session.commit()
    click.echo(f"{record.name} approved for {tenant_slug}.")


@lti_group.command("disable")
@click.argument("registration_id", type=int)
@with_appcontext
def disable(registration_id: int) -> None:
    """Refuse launches from a registered LMS (until ``enable``)."""
    record = registrations.get(registration_id)
    registrations.set_enabled(record, False)
    db.session.commit()
    click.echo(f"{record.name} disabled.")


@lti_group.command("enable")
@click.argument("registration_id", type=int)
@with_appcontext
def enable(registration_id: int) -> None:
    """Accept launches from a disabled LMS registration again."""
    record = registrations.get(registration_id)
    registrations.set_enabled(record, True)
    db.session.commit()
    click.echo(f"{record.name} enabled.")


@lti_group.command("tool-config")
@format_option
@with_appcontext
def tool_config(fmt: str) -> None:
    """The URLs and settings to enter in an LMS (login, launch, Deep Linking, JWKS...)."""
    config = tool_configuration()
    if fmt == "json":
        click.echo(json.dumps(config, indent=2))
        return
    rows = [
        {"setting": key, "value": " ".join(value) if isinstance(value, list) else value}
        for key, value in config.items()
        if not isinstance(value, dict)
    ]
    emit(rows, fmt, ["setting", "value"])


@lti_group.command("keys")
@format_option
@with_appcontext
def list_keys(fmt: str) -> None:
    """List the tool's keys: current (signs), next (published ahead), retired."""
    keys.ensure_keys()
    rows = [
        {
            "kid": k.kid,
            "slot": k.slot.value if k.slot else "retired",
            "created_at": k.created_at,
            "activated_at": k.activated_at,
            "retired_at": k.retired_at,
        }
        for k in keys.all_keys()
    ]
    emit(rows, fmt, ["kid", "slot", "created_at", "activated_at", "retired_at"])


@lti_group.command("rotate-keys")
@click.option(
    "--force",
    is_flag=True,
    help="Rotate even if the next key was published less than an hour ago (a leaked key).",
)
@with_appcontext
def rotate_keys(force: bool) -> None:
    """Promote the next key to current and publish a new next key."""
    age = keys.key_age_of_next()
    minimum = dt.timedelta(seconds=keys.JWKS_MAX_AGE)
    if age < minimum and not force:
        raise UserError(
            f"The next key was published {int(age.total_seconds() // 60)} minutes ago; LMSs "
            f"may cache /lti/jwks for {keys.JWKS_MAX_AGE // 60} minutes and not know it yet. "
            "Wait, or pass --force (e.g. when the current key leaked)."
        )
    rotation = keys.rotate()
    db.session.commit()
    click.echo(
        f"Rotated: {rotation.current_kid} now signs; {rotation.retired_kid} is retired; "
        f"{rotation.next_kid} is published as the next key."
    )


@lti_group.command("contexts")
@click.option("--tenant", "tenant_slug", required=True)
@format_option
@with_appcontext
def list_contexts(tenant_slug: str, fmt: str) -> None:
    """List the LMS course shells a tenant launched Shiftwell from."""
    tenant = get_tenant(tenant_slug)
    rows = [
        {
            "context_id": c.context_id,
            "title": c.display_title,
            "issuer": c.deployment.registration.issuer,
            "roster_service": bool(c.memberships_url),
            "roster_synced_at": c.roster_synced_at,
        }
        for c in db.session.scalars(Context.for_tenant(tenant).order_by(Context.id))
    ]
    emit(rows, fmt, ["context_id", "title", "issuer", "roster_service", "roster_synced_at"])


@lti_group.command("sync-roster")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--context", "context_id", default=None, help="The LMS's context id; default: all.")
@format_option
@with_appcontext
def sync_roster(tenant_slug: str, context_id: str | None, fmt: str) -> None:
    """Read course rosters from the LMS (NRPS) now."""
    tenant = get_tenant(tenant_slug)
    stmt = Context.for_tenant(tenant).where(Context.memberships_url.is_not(None))
    if context_id:
        stmt = stmt.where(Context.context_id == context_id)
    context_pks = [c.id for c in db.session.scalars(stmt)]
    if not context_pks:
        raise NotFound(
            "No LMS course of this tenant offers its roster"
            + (f" with context id {context_id!r}" if context_id else "")
            + "; open Shiftwell from the course once (see `shiftwell lti contexts`)."
        )
    rows = []
    for pk in context_pks:
        context = db.session.get(Context, pk)
        assert context is not None
        result = roster.sync_roster(context)
        db.session.commit()
        rows.append(
            {
                "context_id": context.context_id,
                "members": result.members,
                "added": result.added,
                "removed": result.removed,
            }
        )
    emit(rows, fmt, ["context_id", "members", "added", "removed"])


@lti_group.command("purge")
@with_appcontext
def purge() -> None:
    """Delete expired login states, nonces and launch data (also done at each login)."""
    count = purge_expired_launch_data()
    db.session.commit()
    click.echo(f"{count} expired row(s) deleted.")
