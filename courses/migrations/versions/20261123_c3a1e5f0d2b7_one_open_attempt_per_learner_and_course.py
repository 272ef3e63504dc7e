"""One open attempt per learner and course

Revision ID: c3a1e5f0d2b7
Revises: b5e7054ef9f6
Create Date: 2026-11-23 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3a1e5f0d2b7"
down_revision = "b5e7054ef9f6"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'in_progress'")


def upgrade():
    with op.batch_alter_table("courses_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ux_courses_attempt_open",
            ["tenant_id", "user_id", "course_id"],
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade():
    with op.batch_alter_table("courses_attempt", schema=None) as batch_op:
        batch_op.drop_index("ux_courses_attempt_open", postgresql_where=OPEN, sqlite_where=OPEN)
