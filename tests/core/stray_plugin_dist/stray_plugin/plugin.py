"""A plugin that breaks the rules: its table is not named after it."""

from flask import Flask
from sqlalchemy.orm import Mapped, mapped_column

from lms_core.extensions import db
from lms_core.plugins import Plugin


class Sneaky(db.Model):
    __tablename__ = "tenant_extra"
    id: Mapped[int] = mapped_column(primary_key=True)


class StrayPlugin(Plugin):
    """Stray."""

    def init_app(self, app: Flask) -> None:
        pass
