"""The demo LMS (placeholder while the launch is built)."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    pass


def on_demo_loading(sender: Flask, event: Any) -> None:
    pass
