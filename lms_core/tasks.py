"""Celery, bound to the Flask app as Flask's documentation shows ("Background Tasks with
Celery"): every task runs inside an app context, so it has ``db.session`` and config.

Without ``SHIFTWELL_BROKER_URL`` tasks run eagerly in the calling process (the embedded
mode has no broker); with it, ``shiftwell worker`` consumes them.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task, shared_task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config["BROKER_URL"]
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            "broker_url": broker or "memory://",
            "task_always_eager": broker is None,
            # Eager failures are recorded on the outbox row; do not raise into the caller.
            "task_eager_propagates": False,
            "task_ignore_result": True,
            # A task is acknowledged only when it finished, so a killed worker's task is
            # redelivered; the outbox claim makes redelivery harmless.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
            "broker_transport_options": {"socket_connect_timeout": 2},
            "beat_schedule": {
                "outbox-sweep": {
                    "task": "shiftwell.outbox.sweep",
                    "schedule": float(app.config["OUTBOX_SWEEP_INTERVAL_SECONDS"]),
                }
            },
        }
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


@shared_task(name="shiftwell.outbox.run", ignore_result=True)
def run_outbox_message(message_id: int) -> str | None:
    from lms_core import outbox

    status = outbox.run_message(message_id)
    return status.value if status else None


@shared_task(name="shiftwell.outbox.sweep", ignore_result=True)
def sweep_outbox() -> int:
    from lms_core import outbox

    return outbox.sweep()
