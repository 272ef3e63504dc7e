"""Tool keys sealed with the secret key

Revision ID: ef26a8b348b1
Revises: fd3de498c6b9
Create Date: 2026-11-23 16:33:44.109442

The private keys were kept as plain PEM; each is sealed with the app's secret key
(lms_core.crypto) and the plain column dropped. Runs in the app (``shiftwell db upgrade``),
which knows the secret key.
"""

import sqlalchemy as sa
from alembic import op

from lms_core import crypto

revision = "ef26a8b348b1"
down_revision = "fd3de498c6b9"
branch_labels = None
depends_on = None

PURPOSE = "lti.tool-key"  # lti.keys.SEAL_PURPOSE, frozen here as this revision wrote it


def upgrade():
    with op.batch_alter_table("lti_tool_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_key_sealed", sa.Text(), nullable=True))
    bind = op.get_bind()
    for key_id, pem in bind.execute(sa.text("SELECT id, private_key_pem FROM lti_tool_key")):
        bind.execute(
            sa.text("UPDATE lti_tool_key SET private_key_sealed = :sealed WHERE id = :id"),
            {"sealed": crypto.seal(pem, PURPOSE), "id": key_id},
        )
    with op.batch_alter_table("lti_tool_key", schema=None) as batch_op:
        batch_op.alter_column("private_key_sealed", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("private_key_pem")


def downgrade():
    with op.batch_alter_table("lti_tool_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_key_pem", sa.Text(), nullable=True))
    bind = op.get_bind()
    for key_id, sealed in bind.execute(sa.text("SELECT id, private_key_sealed FROM lti_tool_key")):
        bind.execute(
            sa.text("UPDATE lti_tool_key SET private_key_pem = :pem WHERE id = :id"),
            {"pem": crypto.unseal(sealed, PURPOSE), "id": key_id},
        )
    with op.batch_alter_table("lti_tool_key", schema=None) as batch_op:
        batch_op.alter_column("private_key_pem", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("private_key_sealed")
