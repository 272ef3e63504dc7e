"""Migrations across the core's and every plugin's Alembic branch.

The core's history has the branch label ``core``; each plugin's lives in its own package
(``<package>/migrations/versions``) with the branch label of the plugin's name and
``depends_on`` the core. ``upgrade()`` therefore targets ``heads``: every branch.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import Flask, current_app

from lms_core import plugins
from lms_core.extensions import migrate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CORE_VERSIONS = MIGRATIONS_DIR / "versions"


def version_locations(app: Flask) -> dict[str, Path]:
    """Branch label → versions folder, the core's first."""
    locations = {"core": CORE_VERSIONS}
    for name, plugin in plugins.plugins(app).items():
        path = plugin.migrations_path
        if path is not None:
            locations[name] = path
    return locations


@migrate.configure
def _configure(config: Config) -> Config:
    paths = [str(p) for p in version_locations(current_app).values()]
    config.set_main_option("version_locations", " ".join(paths))
    config.set_main_option("path_separator", "space")
    return config


def alembic_config(x_args: list[str] | None = None) -> Config:
    return current_app.extensions["migrate"].migrate.get_config(
        str(MIGRATIONS_DIR), x_arg=x_args or []
    )


def upgrade(revision: str = "heads") -> None:
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str) -> None:
    command.downgrade(alembic_config(), revision)


def make_revision(owner: str, message: str, autogenerate: bool = True) -> None:
    """Write a new revision into ``owner``'s branch (``core`` or a plugin name)."""
    locations = version_locations(current_app)
    if owner not in locations:
        raise LookupError(
            f"{owner!r} has no migrations folder; create <package>/migrations/versions/ "
            f"in the plugin's package first (known: {', '.join(locations)})"
        )
    config = alembic_config([f"plugin={owner}"])
    script = ScriptDirectory.from_config(config)
    if _branch_exists(script, owner):
        command.revision(config, message, autogenerate=autogenerate, head=f"{owner}@head")
        return
    depends_on = None
    if owner != "core":
        core_head = script.get_revision("core@head")
        depends_on = core_head.revision if core_head else None
    command.revision(
        config,
        message,
        autogenerate=autogenerate,
        head="base",
        branch_label=owner,
        version_path=str(locations[owner]),
        depends_on=depends_on,
    )


def _branch_exists(script: ScriptDirectory, label: str) -> bool:
    try:
        return bool(script.get_revisions(f"{label}@head"))
    except (CommandError, RevisionError):
        return False
