"""The plugin registry: a third-party package joins through the entry point alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms_core import create_app, plugins
from lms_core.plugins import PluginError

HERE = Path(__file__).parent


@pytest.fixture
def hello_installed(monkeypatch):
    """Put the test-only distribution (code + dist-info with entry_points.txt) on sys.path,
    which is what `pip install` does; importlib.metadata then finds its entry point.
    The imported module stays cached after the test, like any import; without its path
    the entry point is no longer discovered."""
    monkeypatch.syspath_prepend(str(HERE / "hello_plugin_dist"))
    yield
    from lms_core.extensions import db

    if "hello_greeting" in db.metadata.tables:  # keep the migrations check about our tables
        db.metadata.remove(db.metadata.tables["hello_greeting"])


def test_the_feature_packages_register_like_any_plugin(app):
    names = set(plugins.plugins(app))
    discovered = {ep.name for ep in plugins.discover()}
    assert names == discovered


def test_a_third_party_plugin_registers_through_the_entry_point(hello_installed, app_config):
    app = create_app(app_config)
    assert "hello" in plugins.plugins(app)
    assert plugins.plugins(app)["hello"].title == "Hello plugin"
    client = app.test_client()
    assert client.get("/hello").get_data(as_text=True) == "Hello from a plugin"
    assert "hello panel" in client.get("/").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["hello", "wave"])
    assert result.output == "waving\n"


def test_a_plugin_hears_core_events(hello_installed, app_config):
    from hello_plugin import plugin as hello

    app = create_app(app_config)
    hello.received.clear()
    result = app.test_cli_runner().invoke(args=["tenants", "add", "north", "--name", "North"])
    assert result.exit_code == 0, result.output
    assert hello.received == ["north"]


def test_a_disabled_plugin_is_not_loaded(hello_installed, app_config):
    app = create_app({**app_config, "DISABLED_PLUGINS": ["hello"]})
    assert "hello" not in plugins.plugins(app)
    assert app.test_client().get("/hello").status_code == 404


def test_a_plugin_table_outside_its_prefix_is_refused(monkeypatch, app_config):
    monkeypatch.syspath_prepend(str(HERE / "stray_plugin_dist"))
    try:
        with pytest.raises(PluginError, match="tenant_extra"):
            create_app(app_config)
    finally:
        from lms_core.extensions import db

        # Keep the stray table out of the schema the other tests compare with migrations.
        if "tenant_extra" in db.metadata.tables:
            db.metadata.remove(db.metadata.tables["tenant_extra"])
