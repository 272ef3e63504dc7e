"""Forwarding passwords sealed like every stored secret

Revision ID: 9a3d019a7b14
Revises: a7d245727f16
Create Date: 2026-11-23 16:40:00

They were Fernet tokens under SHA-256(label + secret key); now lms_core.crypto seals
them (HKDF per purpose, secret key fallbacks). Runs in the app, which knows the secret
key; a password that does not open under it is left for `xapi set-target-credentials`.
"""

import base64
import hashlib

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from lms_core import crypto

revision = "9a3d019a7b14"
down_revision = "a7d245727f16"
branch_labels = None
depends_on = None

PURPOSE = "xapi.forward-password"  # xapi.forwarding.SEAL_PURPOSE, frozen here


def _old_fernet() -> Fernet:
    secret = str(current_app.secret_key).encode()
    key = hashlib.sha256(b"shiftwell.xapi.forwarding\x00" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, password_encrypted FROM xapi_forward_target")
    ).all()
    for target_id, token in rows:
        if not token or crypto.is_sealed(token):
            continue
        try:
            password = _old_fernet().decrypt(token.encode()).decode()
        except InvalidToken:
            continue
        bind.execute(
            sa.text("UPDATE xapi_forward_target SET password_encrypted = :p WHERE id = :id"),
            {"p": crypto.seal(password, PURPOSE), "id": target_id},
        )


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, password_encrypted FROM xapi_forward_target")
    ).all()
    for target_id, token in rows:
        if not token or not crypto.is_sealed(token):
            continue
        password = crypto.unseal(token, PURPOSE)
        bind.execute(
            sa.text("UPDATE xapi_forward_target SET password_encrypted = :p WHERE id = :id"),
            {"p": _old_fernet().encrypt(password.encode()).decode(), "id": target_id},
        )
