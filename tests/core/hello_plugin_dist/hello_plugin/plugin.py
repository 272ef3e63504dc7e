"""A third-party plugin, installed only for tests, exactly as an outside package would be."""

from __future__ import annotations

import click
from flask import Blueprint, Flask
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lms_core import signals
from lms_core.extensions import db
from lms_core.plugins import Plugin

bp = Blueprint("hello", __name__)
received: list[str] = []


class Greeting(db.Model):
    __tablename__ = "hello_greeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


@bp.get("/hello")
def hello() -> str:
    return "Hello from a plugin"


@click.group("hello", help="Greetings from the test plugin.")
def cli() -> None:
    pass


@cli.command("wave")
def wave() -> None:
    click.echo("waving")


class HelloPlugin(Plugin):
    """Hello plugin.

    Says hello, for the registry's tests.
    """

    def init_app(self, app: Flask) -> None:
        self.register_blueprint(app, bp)
        self.register_cli(app, cli)
        self.add_template_hook(app, "home_panels", lambda **ctx: "<p>hello panel</p>")
        signals.tenant_created.connect(self.on_tenant, sender=app)

    def on_tenant(self, sender: Flask, event: signals.TenantEvent) -> None:
        received.append(event.slug)
