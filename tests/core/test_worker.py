"""The production path: a real Redis broker and a real `shiftwell worker` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from lms_core import create_app, outbox
from lms_core.extensions import db
from lms_core.models import OutboxMessage, OutboxStatus
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

# The worker imports this module to get the handler, the way a plugin provides one.
PLUGIN = """
from pathlib import Path
from lms_core import outbox, create_app

def deliver(message):
    with open(message.payload["file"], "a") as f:
        f.write(message.payload["line"] + "\\n")
"""


@pytest.mark.skipif(not REDIS_URL, reason="set SHIFTWELL_TEST_REDIS_URL (CI starts Redis)")
def test_a_worker_runs_committed_work_from_redis(app_config, tmp_path):
    config = {**app_config, "BROKER_URL": REDIS_URL}
    (tmp_path / "worker_handlers.py").write_text(PLUGIN)
    sys.path.insert(0, str(tmp_path))
    try:
        import worker_handlers

        app = create_app(config)
        outbox.registry(app).register("test.file", worker_handlers.deliver)
        out = tmp_path / "delivered.txt"
        with app.app_context():
            outbox.enqueue("test.file", {"file": str(out), "line": "graded"})
            db.session.commit()
            message_id = db.session.scalar(select(OutboxMessage.id))
    finally:
        sys.path.remove(str(tmp_path))

    # The worker process loads the app from the environment, like `shiftwell worker` in
    # production; a tiny wrapper registers the test handler before starting it.
    env = {
        **os.environ,
        "SHIFTWELL_DATABASE_URL": config["DATABASE_URL"],
        "SHIFTWELL_BROKER_URL": REDIS_URL,
        "SHIFTWELL_ENV": "testing",
        "SHIFTWELL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path.cwd())]),
    }
    launcher = (
        "import lms_core.cli as c, lms_core, worker_handlers\n"
        "from lms_core import outbox\n"
        "orig = lms_core.create_app\n"
        "def make(config=None):\n"
        "    app = orig(config)\n"
        "    outbox.registry(app).register('test.file', worker_handlers.deliver)\n"
        "    return app\n"
        "lms_core.create_app = make\n"
        "import sys; sys.argv = ['shiftwell', 'worker', '-c', '1', '--no-beat']\n"
        "c.main()\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", launcher],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not out.exists():
            time.sleep(0.2)
        assert out.exists(), "the worker did not run the task"
        with app.app_context():
            for _ in range(50):
                db.session.expire_all()
                message = db.session.get(OutboxMessage, message_id)
                if message.status == OutboxStatus.DONE:
                    break
                time.sleep(0.1)
            assert message.status == OutboxStatus.DONE
        assert out.read_text() == "graded\n"
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "Traceback" not in output, output
