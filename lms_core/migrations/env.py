"""Alembic environment for the core and every plugin's branch.

``-x plugin=NAME`` limits autogenerate to the tables that plugin owns (``core`` for the
core's), so ``shiftwell db migrate --plugin courses`` writes only courses' changes into
courses' own history.
"""

import logging
from typing import Any

from alembic import context
from flask import current_app

from lms_core.plugins import table_owner

log = logging.getLogger("alembic.env")
config = context.config
migrate_ext = current_app.extensions["migrate"]
target_db = migrate_ext.db
owner_filter = context.get_x_argument(as_dictionary=True).get("plugin")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if owner_filter is None:
        return True
    table = obj if type_ == "table" else getattr(obj, "table", None)
    if table is None:
        return True
    return table_owner(table.name) == owner_filter


def process_revision_directives(ctx: Any, revision: Any, directives: list[Any]) -> None:
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def run_migrations_offline() -> None:
    context.configure(
        url=target_db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    args = dict(migrate_ext.configure_args)
    args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds tables; with foreign keys enforced that would cascade.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            include_object=include_object,
            **args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
