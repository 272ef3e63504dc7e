"""The plugin registry: how ``courses``, ``lti``, ``xapi``, ``certificates`` and any third-party
package join the app.

A plugin is a :class:`Plugin` subclass named by an entry point in the
``shiftwell.plugins`` group::

    [options.entry_points]
    shiftwell.plugins =
        hello = hello_plugin.plugin:HelloPlugin

At start-up the core loads every entry point (minus ``SHIFTWELL_DISABLED_PLUGINS``),
instantiates the class and calls :meth:`Plugin.init_app`, where the plugin registers its
blueprint, CLI group, outbox handlers, template hooks and signal receivers. The core
never imports a plugin by name.

Each plugin owns its tables (named ``<plugin name>_...``; the registry refuses others)
and its own Alembic history in ``<package>/migrations/versions`` with the branch label
of its name, so ``shiftwell db upgrade`` upgrades every plugin's branch.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import click
from flask import Blueprint, Flask, current_app
from markupsafe import Markup

from lms_core.extensions import db

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "shiftwell.plugins"
CORE_TABLES = frozenset({"tenant", "user_account", "user_role", "audit_log", "outbox_message"})


class PluginError(RuntimeError):
    """A plugin broke a rule of the registry (a stray table, a duplicate name)."""


class Plugin:
    """Base class for Shiftwell plugins. The first line of a subclass's docstring is its
    human-readable title; the rest its description."""

    #: The entry point name; also the table prefix, the branch label and the URL prefix.
    name: ClassVar[str] = ""
    #: URL prefixes whose errors are answered as JSON problem details, not HTML pages.
    api_prefixes: ClassVar[tuple[str, ...]] = ()

    def init_app(self, app: Flask) -> None:
        """Register blueprints, models, CLI, handlers. Override; call nothing at import."""

    @property
    def title(self) -> str:
        doc = inspect.getdoc(type(self)) or self.name
        return doc.splitlines()[0].rstrip(".")

    @property
    def migrations_path(self) -> Path | None:
        """``<package>/migrations/versions`` if the plugin ships one."""
        module = inspect.getmodule(type(self))
        if module is None or module.__file__ is None:
            return None
        package_dir = Path(module.__file__).parent
        path = package_dir / "migrations" / "versions"
        return path if path.is_dir() else None

    # Helpers a plugin calls from ``init_app``; each is a one-liner, kept here so every
    # plugin registers things the same way.

    def register_blueprint(self, app: Flask, blueprint: Blueprint, **options: Any) -> None:
        app.register_blueprint(blueprint, **options)

    def register_cli(self, app: Flask, group: click.Group) -> None:
        app.cli.add_command(group)

    def add_template_hook(
        self, app: Flask, hook: str, render: Callable[..., str], priority: int = 50
    ) -> None:
        hooks(app).setdefault(hook, []).append(TemplateHook(priority, self.name, render))


@dataclass(frozen=True, order=True)
class TemplateHook:
    """A panel a plugin adds to a core page, rendered in ascending priority."""

    priority: int
    plugin: str
    render: Callable[..., str]


def hooks(app: Flask) -> dict[str, list[TemplateHook]]:
    return app.extensions.setdefault("shiftwell.template_hooks", {})


def render_template_hook(name: str, **context: Any) -> Markup:
    """Jinja global: ``{{ template_hook('home_panels', user=current_user) }}``."""
    # Hooks render their own (autoescaped) templates, so their output is trusted HTML.
    registered = sorted(hooks(current_app).get(name, []))
    parts = [Markup(hook.render(**context)) for hook in registered]  # noqa: S704
    return Markup("\n").join(parts)


def plugins(app: Flask | None = None) -> dict[str, Plugin]:
    """The plugins loaded into ``app``, by name."""
    return (app or current_app).extensions["shiftwell.plugins"]


def discover() -> list[importlib.metadata.EntryPoint]:
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    # A package installed twice (editable and in site-packages) lists its entry points
    # twice; the first one on sys.path wins, as for imports.
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in eps:
        seen.setdefault(ep.name, ep)
    return sorted(seen.values(), key=lambda ep: ep.name)


def load_plugins(app: Flask) -> dict[str, Plugin]:
    disabled = set(app.config["DISABLED_PLUGINS"])
    loaded: dict[str, Plugin] = {}
    app.extensions["shiftwell.plugins"] = loaded
    for ep in discover():
        if ep.name in disabled:
            log.info("plugin %s is disabled by SHIFTWELL_DISABLED_PLUGINS", ep.name)
            continue
        plugin_cls = ep.load()
        if not (isinstance(plugin_cls, type) and issubclass(plugin_cls, Plugin)):
            raise PluginError(
                f"entry point {ep.name} = {ep.value} must name a lms_core.plugins.Plugin subclass"
            )
        if plugin_cls.name and plugin_cls.name != ep.name:
            raise PluginError(
                f"plugin class {plugin_cls.__name__} is named {plugin_cls.name!r} but its "
                f"entry point is {ep.name!r}; make them the same"
            )
        plugin = plugin_cls()
        type(plugin).name = ep.name
        plugin.init_app(app)
        _check_tables(plugin)
        loaded[ep.name] = plugin
        log.debug("plugin %s loaded", ep.name)
    return loaded


def _check_tables(plugin: Plugin) -> None:
    name = plugin.name
    package = type(plugin).__module__.partition(".")[0]
    prefix = f"{name}_"
    own_tables = {
        table.name
        for mapper in db.Model.registry.mappers
        if mapper.class_.__module__.partition(".")[0] == package
        for table in mapper.tables
    }
    stray = sorted(t for t in own_tables if not t.startswith(prefix) or t in CORE_TABLES)
    if stray:
        raise PluginError(
            f"plugin {name!r} defines table(s) {', '.join(stray)}; a plugin's tables must be "
            f"named {prefix}<something> so they never collide with the core's or another's"
        )


def table_owner(table_name: str, app: Flask | None = None) -> str:
    """``core`` or the plugin whose prefix the table carries (for migrations)."""
    for name in plugins(app):
        if table_name.startswith(f"{name}_"):
            return name
    return "core"
