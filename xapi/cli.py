"""``shiftwell xapi ...``: LRS credentials and forwarding targets."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lms_core import audit
from lms_core.cli import emit, format_option, get_tenant
from lms_core.db import utcnow
from lms_core.errors import Conflict, InvalidInput, NotFound
from lms_core.extensions import db
from lms_core.models import Tenant
from xapi import credentials, forwarding
from xapi.models import XapiCredential, XapiForwardTarget


@click.group("xapi", help="The Learning Record Store: credentials and forwarding to other LRSs.")
def xapi_group() -> None:
    pass


@xapi_group.command("add-credentials")
@click.option("--tenant", "slug", required=True, help="The tenant whose statements they reach.")
@click.option("--label", default=None, help="Who uses them, e.g. 'Analytics team'.")
@click.option("--read-only", is_flag=True, help="May read statements and documents, not write.")
@with_appcontext
def add_credentials(slug: str, label: str | None, read_only: bool) -> None:
    """Create HTTP Basic credentials for /xapi/; prints JSON with key and secret.

    The secret is shown only now: it is stored hashed.
    """
    tenant = get_tenant(slug)
    credential, secret = credentials.create_credential(
        tenant, label or f"{tenant.name} LRS client", can_write=not read_only
    )
    audit.record(
        "xapi.credentials_added",
        tenant=tenant,
        target_type="xapi_credential",
        target_id=credential.key,
        read_only=read_only,
    )
    db.session.commit()
    click.echo(
        json.dumps(
            {
                "key": credential.key,
                "secret": secret,
                "tenant": tenant.slug,
                "read_only": read_only,
                "endpoint": credentials.lrs_home_page() + "/",
            },
            indent=2,
        )
    )


@xapi_group.command("credentials")
@click.option("--tenant", "slug", default=None, help="Only this tenant's.")
@format_option
@with_appcontext
def list_credentials(slug: str | None, fmt: str) -> None:
    """List LRS credentials (never their secrets)."""
    stmt = select(XapiCredential, Tenant.slug).join(Tenant, Tenant.id == XapiCredential.tenant_id)
    if slug:
        stmt = stmt.where(XapiCredential.tenant_id == get_tenant(slug).id)
    rows = [
        {
            "key": c.key,
            "tenant": tenant_slug,
            "label": c.label,
            "access": "read-write" if c.can_write else "read-only",
            "created_at": c.created_at,
            "last_used_at": c.last_used_at,
            "revoked_at": c.revoked_at,
        }
        for c, tenant_slug in db.session.execute(stmt.order_by(XapiCredential.id))
    ]
    emit(
        rows, fmt, ["key", "tenant", "label", "access", "created_at", "last_used_at", "revoked_at"]
    )


@xapi_group.command("revoke-credentials")
@click.argument("key")
@with_appcontext
def revoke_credentials(key: str) -> None:
    """Revoke the credentials with this KEY at once."""
    credential = db.session.scalar(select(XapiCredential).where(XapiCredential.key == key))
    if credential is None:
        raise NotFound(f"No LRS credentials with key {key!r}; see `shiftwell xapi credentials`.")
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        audit.record(
            "xapi.credentials_revoked",
            tenant=credential.tenant_id,
            target_type="xapi_credential",
            target_id=key,
        )
    db.session.commit()
    click.echo(f"Credentials {key} revoked.")


# -- forwarding -------------------------------------------------------------------------


def _read_password(password_env: str | None, password_stdin: bool) -> str | None:
    if password_env:
        value = os.environ.get(password_env)
        if value is None:
            raise InvalidInput(
                f"--password-env {password_env}: that environment variable is not set."
            )
        return value
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return None


@xapi_group.command("add-target")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True, help="A short name for the LRS, e.g. hospital-lrs.")
@click.option(
    "--endpoint", required=True, help="The LRS's xAPI endpoint, e.g. https://lrs.example.org/xapi/."
)
@click.option("--username", default=None, help="HTTP Basic user name (key) at that LRS.")
@click.option(
    "--password-env",
    default=None,
    metavar="VAR",
    help="Read the password from this environment variable (keeps it out of shell history).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--batch-size", type=int, default=100, show_default=True)
@click.option(
    "--from-now",
    is_flag=True,
    help="Forward only statements stored from now on (default: every statement, from the first).",
)
@with_appcontext
def add_target(
    slug: str,
    name: str,
    endpoint: str,
    username: str | None,
    password_env: str | None,
    password_stdin: bool,
    batch_size: int,
    from_now: bool,
) -> None:
    """Forward every statement of a tenant to another LRS."""
    tenant = get_tenant(slug)
    if db.session.scalar(
        select(XapiForwardTarget.id).where(
            XapiForwardTarget.tenant_id == tenant.id, XapiForwardTarget.name == name
        )
    ):
        raise Conflict(
            f"Tenant {slug} already forwards to a target named {name!r}; pick another name."
        )
    password = _read_password(password_env, password_stdin)
    if username and password is None:
        raise InvalidInput(
            "--username needs a password: give --password-env VAR or --password-stdin."
        )
    target = forwarding.add_target(
        tenant.id,
        name,
        endpoint,
        username,
        password,
        batch_size=batch_size,
        from_start=not from_now,
    )
    audit.record(
        "xapi.forwarding_target_added",
        tenant=tenant,
        target_type="xapi_forward_target",
        target_id=target.id,
        name=name,
        endpoint=endpoint,
    )
    db.session.commit()
    click.echo(f"Statements of {slug} are forwarded to {name} ({endpoint}).")


@xapi_group.command("set-target-credentials")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True, help="The forwarding target.")
@click.option("--username", required=True, help="HTTP Basic user name (key) at that LRS.")
@click.option("--password-env", default=None, metavar="VAR", help="Read the password from VAR.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def set_target_credentials(
    slug: str, name: str, username: str, password_env: str | None, password_stdin: bool
) -> None:
    """Give a target new credentials (the hospital changed them); its cursor stays."""
    tenant = get_tenant(slug)
    target = _target(tenant, name)
    password = _read_password(password_env, password_stdin)
    if password is None:
        raise InvalidInput("Give the password with --password-env VAR or --password-stdin.")
    target.username = username
    target.password_encrypted = forwarding.encrypt(password)
    audit.record(
        "xapi.forwarding_target_credentials_set",
        tenant=tenant,
        target_type="xapi_forward_target",
        target_id=target.id,
        name=name,
    )
    forwarding.run_now(target)  # the failures were probably the old credentials
    db.session.commit()
    click.echo(f"{name} of {slug} has new credentials; forwarding goes on from where it was.")


@xapi_group.command("remove-target")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True)
@with_appcontext
def remove_target(slug: str, name: str) -> None:
    """Stop forwarding to a target and forget it (statements stay here)."""
    tenant = get_tenant(slug)
    target = _target(tenant, name)
    audit.record(
        "xapi.forwarding_target_removed",
        tenant=tenant,
        target_type="xapi_forward_target",
        target_id=target.id,
        name=name,
    )
    db.session.delete(target)
    db.session.commit()
    click.echo(f"{slug} no longer forwards to {name}.")


def _target(tenant: Tenant, name: str) -> XapiForwardTarget:
    target = db.session.scalar(
        select(XapiForwardTarget).where(
            XapiForwardTarget.tenant_id == tenant.id, XapiForwardTarget.name == name
        )
    )
    if target is None:
        raise NotFound(
            f"Tenant {tenant.slug} has no forwarding target {name!r}; "
            "see `shiftwell xapi forwarding-status`."
        )
    return target


@xapi_group.command("rejected")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True, help="The forwarding target.")
@format_option
@with_appcontext
def rejected(slug: str, name: str, fmt: str) -> None:
    """Statements the target refused as invalid and that were set aside, oldest first."""
    target = _target(get_tenant(slug), name)
    rows = forwarding.rejections(target)
    emit(
        [
            {
                "statement_id": row.statement_id,
                "status_code": row.status_code,
                "error": row.error,
                "rejected_at": row.rejected_at,
            }
            for row in rows
        ],
        fmt,
        ["statement_id", "status_code", "rejected_at", "error"],
    )


@xapi_group.command("resend-rejected")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True, help="The forwarding target.")
@with_appcontext
def resend_rejected(slug: str, name: str) -> None:
    """Offer the set-aside statements to the target again (after fixing the cause)."""
    target = _target(get_tenant(slug), name)
    try:
        taken, refused = forwarding.resend_rejected(target)
    except forwarding.DeliveryFailed as exc:
        db.session.rollback()
        # Not the user's mistake (exit 2): the target is down; exit 1, like any failed run.
        raise click.ClickException(f"{name} did not answer: {exc}. Nothing changed.") from None
    db.session.commit()
    click.echo(f"{name} took {taken} statement(s); {refused} still refused.")


@xapi_group.command("forwarding-status")
@click.option("--tenant", "slug", default=None, help="Only this tenant's targets.")
@format_option
@with_appcontext
def forwarding_status(slug: str | None, fmt: str) -> None:
    """How far behind each forwarding target is, and its failures."""
    stmt = select(XapiForwardTarget, Tenant.slug).join(
        Tenant, Tenant.id == XapiForwardTarget.tenant_id
    )
    if slug:
        stmt = stmt.where(XapiForwardTarget.tenant_id == get_tenant(slug).id)
    rows = [
        asdict(forwarding.status(target, tenant_slug))
        for target, tenant_slug in db.session.execute(
            stmt.order_by(Tenant.slug, XapiForwardTarget.name)
        )
    ]
    emit(
        rows,
        fmt,
        [
            "tenant",
            "target",
            "lag_statements",
            "lag_seconds",
            "forwarded",
            "consecutive_failures",
            "total_failures",
            "last_success_at",
            "next_attempt_at",
            "last_error",
            "rejected",
        ],
    )


@xapi_group.command("forward-now")
@click.option("--tenant", "slug", default=None, help="Only this tenant's targets.")
@with_appcontext
def forward_now(slug: str | None) -> None:
    """Try every target now, without waiting for its backoff (after fixing an outage)."""
    stmt = select(XapiForwardTarget).where(XapiForwardTarget.enabled.is_(True))
    if slug:
        stmt = stmt.where(XapiForwardTarget.tenant_id == get_tenant(slug).id)
    count = 0
    for target in db.session.scalars(stmt).all():
        forwarding.run_now(target)
        count += 1
    db.session.commit()
    click.echo(f"{count} target(s) scheduled now.")
    if not current_app.config.get("BROKER_URL"):
        click.echo("(No worker: forwarding ran in this process.)")
