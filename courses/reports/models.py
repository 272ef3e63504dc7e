"""Daily rollups of completions, so a hospital's dashboard reads thousands of rows, not
half a million attempts (docs/benchmarks.md: 9 s without them at 500,000 attempts).

One row per hospital, day (UTC) and course version, and one per hospital, day and LMS
course (unit). :mod:`courses.reports.rollups` adds to them in the transaction that
completes an attempt; ``shiftwell reports rebuild`` recomputes them from the attempts
(after deleting people, or restoring a backup). The attempts stay the source of truth:
transcripts and exports read them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.extensions import db


class CourseDay(db.Model):
    """Completions of one course version at one hospital on one day."""

    __tablename__ = "courses_course_day"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course_version.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(Integer)
    completions: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    #: Sum of score_raw / score_max over the ``scored`` completions (for averages).
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    scored: Mapped[int] = mapped_column(Integer, default=0)


class UnitDay(db.Model):
    """Completions of attempts started from one LMS course (unit) on one day."""

    __tablename__ = "courses_unit_day"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    #: ``courses_lms_context.id``, or 0 for attempts started outside any LMS course (a
    #: key column cannot be NULL, so no foreign key either).
    lms_context_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    completions: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)


class PrivateSummary(db.Model):
    """The reflections and check-ins aggregate of a hospital for one closed window of
    months, computed once: answers dated in past months no longer change, and counting
    them takes a while (docs/benchmarks.md). Holds only numbers over at least five people.
    """

    __tablename__ = "courses_private_summary"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    window_end: Mapped[dt.date] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The shown rows (:class:`courses.reports.services.PrivateStepSummary` as dicts).
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
