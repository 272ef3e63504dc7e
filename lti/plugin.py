"""Registers the lti package with the core, as any plugin would."""

from __future__ import annotations

from flask import Flask

from lms_core.plugins import Plugin


class LtiPlugin(Plugin):
    """LTI 1.3 tool."""

    def init_app(self, app: Flask) -> None:
        pass
