"""Background work in the embedded mode: one daemon thread per process, no broker.

Without ``SHIFTWELL_BROKER_URL`` there is no Celery worker, but work for outside systems
(a grade to the LMS, statements to an LRS) must still not make a clinician's request wait
for a slow LMS. So committed outbox messages are queued to this thread, which runs them
and, every ``OUTBOX_SWEEP_INTERVAL_SECONDS``, sweeps for retries that have come due.
Rows stay in the database until they are done, so a process exit loses nothing: the
next process's sweep picks them up.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class EmbeddedRunner:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config["OUTBOX_SWEEP_INTERVAL_SECONDS"])
        self._queue: queue.Queue[int] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="shiftwell-outbox", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Finish the message in hand and end the thread (tests, orderly shutdown)."""
        self._stopping.set()
        self._queue.put(-1)
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, ids: Iterable[int]) -> None:
        self.start()
        for message_id in ids:
            self._queue.put(message_id)

    def _loop(self) -> None:
        from lms_core import outbox

        while not self._stopping.is_set():
            try:
                message_id = self._queue.get(timeout=self.interval)
            except queue.Empty:
                message_id = None
            if self._stopping.is_set():
                break
            try:
                with self.app.app_context():
                    if message_id is None:
                        outbox.sweep()
                    else:
                        outbox.run_message(message_id)
            except SQLAlchemyError as exc:
                # The database was busy or away; the row is still pending and the next
                # sweep retries it.
                log.warning("outbox: embedded runner could not reach the database: %s", exc)
