"""Registers the courses package with the core, as any plugin would."""

from __future__ import annotations

from flask import Flask

from lms_core.plugins import Plugin


class CoursesPlugin(Plugin):
    """Courses."""

    def init_app(self, app: Flask) -> None:
        pass
