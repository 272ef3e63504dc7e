"""Registers the xapi package with the core, as any plugin would."""

from __future__ import annotations

from flask import Flask

from lms_core.plugins import Plugin


class XapiPlugin(Plugin):
    """xAPI."""

    def init_app(self, app: Flask) -> None:
        pass
