"""Shiftwell's platform core: the app factory and what every plugin builds on."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, core views, then every enabled plugin.

    ``config`` overrides the environment (tests pass their database URL here);
    ``INSTANCE_PATH`` in it moves the instance folder (the SQLite file, uploads).
    """
    from lms_core import auth, errors, outbox, plugins, security
    from lms_core import config as config_module
    from lms_core.db import configure_sqlite
    from lms_core.extensions import csrf, db, limiter, migrate
    from lms_core.tasks import celery_init_app

    instance_path = (config or {}).get("INSTANCE_PATH") or config_module.instance_path_from_env()
    app = Flask("lms_core", instance_path=instance_path, instance_relative_config=True)
    config_module.load_config(app, config)
    _configure_logging(app)
    from lms_core.cli import CommandGroup

    app.cli = CommandGroup(name=app.name)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_auth(app)
    security.init_security(app)
    errors.register_error_handlers(app)
    app.extensions["shiftwell.outbox"] = outbox.OutboxRegistry()
    celery_init_app(app)
    outbox.install_session_hooks()
    if app.config["OUTBOX_RUNNER"] == "thread":
        from lms_core.embedded import EmbeddedRunner

        runner = EmbeddedRunner(app)
        app.extensions["shiftwell.embedded_runner"] = runner
        # Started with the first request (or the first hand-off), not at import or in CLI
        # commands that never hand anything over.
        app.before_request(runner.start)

    from lms_core import cli, views

    app.register_blueprint(views.bp)
    cli.register_commands(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    # Learner pages must stay small on a ward's poor connection: drop template whitespace.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["template_hook"] = plugins.render_template_hook
    app.jinja_env.globals["nav_items"] = views.nav_items

    plugins.load_plugins(app)
    for plugin in plugins.plugins(app).values():
        errors.api_prefixes(app).extend(plugin.api_prefixes)
    return app


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    logging.getLogger("lms_core").setLevel(level)
    app.logger.setLevel(level)
