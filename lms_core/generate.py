"""``shiftwell demo generate``: a made-up hospital, large enough to measure reports on.

The core makes the learners' accounts and the plan (units, seed, time span), then sends
:data:`lms_core.signals.demo_generating` once per stage; each plugin bulk-inserts its part
with :func:`bulk_insert`. Everything lands in one transaction, committed by the command.

Row by row through the ORM, 500,000 attempts take many minutes; PostgreSQL's ``COPY``
takes seconds, so :func:`bulk_insert` uses it there (and batched INSERTs on SQLite).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects.postgresql import JSONB

from lms_core import signals
from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.errors import Conflict
from lms_core.extensions import db
from lms_core.models import Role, Tenant, User, UserRole

#: Subjects of generated learners start with this, so they can be told from real ones.
SUBJECT_PREFIX = "gen-"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GIVEN_NAMES = _words(
    "Aaliyah Aisha Alex Amara Ana Arjun Ben Carmen Chen Chloe Daniel Deepa Diego Elena "
    "Emeka Emma Fatima Grace Hana Hassan Ines Isaac Jamal Jordan Julia Kai Keisha Kenji "
    "Lars Layla Leo Lucia Maya Mei Miguel Nadia Noah Olivia Omar Priya Rafael Rosa Ruth "
    "Sam Sara Sofia Tariq Thomas Uma Victor Wei Yara Yusuf Zoe"
)
FAMILY_NAMES = _words(
    "Abara Adeyemi Ahmed Alvarez Andersen Baker Banerjee Becker Brown Campbell Chen Cohen "
    "Costa Davies Dubois Edwards Evans Fernandes Fischer Garcia Gomez Green Hall "
    "Hernandez Ito Jensen Johnson Kaur Kim Kowalski Kumar Lee Lopez Martin Mensah Mohamed "
    "Moreau Murphy Nguyen Novak Okafor Olsen Patel Perez Quinn Rahman Reyes Rivera Rossi "
    "Santos Shah Silva Singh Smith Tanaka Taylor Thompson Torres Walker Wang Williams "
    "Wilson Wong Yamamoto Zhang"
)
UNIT_NAMES = (
    "Emergency Department",
    "Intensive Care Unit",
    "Cardiology",
    "Oncology Day Unit",
    "Maternity",
    "Neonatal Intensive Care",
    "Paediatrics",
    "General Surgery",
    "Orthopaedics",
    "Acute Medicine",
    "Renal Unit",
    "Respiratory Medicine",
    "Stroke Unit",
    "Older People's Care",
    "Mental Health Liaison",
    "Theatres and Recovery",
    "Outpatients",
    "Palliative Care",
    "Radiology",
    "Pharmacy",
)


def has_generated_learners(tenant: Tenant) -> bool:
    return (
        db.session.scalar(
            select(User.id)
            .where(User.tenant_id == tenant.id, User.subject.like(SUBJECT_PREFIX + "%"))
            .limit(1)
        )
        is not None
    )


def generate(
    tenant: Tenant,
    *,
    learners: int,
    courses: int,
    attempts: int,
    units: int | None = None,
    months: int = 24,
    seed: int | None = None,
    certificates: bool = True,
) -> signals.GenerateEvent:
    """Create the learners, then let every plugin add its part; the caller commits."""
    seed = secrets.randbelow(2**31) if seed is None else seed
    rng = random.Random(seed)  # noqa: S311 - made-up data, repeatable by seed
    run = f"{SUBJECT_PREFIX}{seed:x}"
    issuer = f"https://lms.{tenant.slug}.example"
    taken = db.session.scalar(
        select(User.id).where(User.tenant_id == tenant.id, User.subject.like(f"{run}-%")).limit(1)
    )
    if taken is not None:
        raise Conflict(f"Seed {seed} was already generated for {tenant.slug}; use another --seed.")
    unit_count = units or max(3, min(40, learners // 500))
    plan_units = tuple(
        signals.GeneratedUnit(
            context_id=f"{run}-unit-{n + 1}",
            title=_unit_title(n),
            label=f"U{n + 1:02d}",
        )
        for n in range(unit_count)
    )
    people = _create_learners(tenant, issuer, run, learners, unit_count, rng)
    end = utcnow()
    event = signals.GenerateEvent(
        tenant_id=tenant.id,
        stage=signals.GENERATE_STAGES[0],
        issuer=issuer,
        deployment_id=f"{run}-deployment",
        units=plan_units,
        learners=people,
        courses=courses,
        attempts=attempts,
        seed=seed,
        start=end - dt.timedelta(days=30 * months),
        end=end,
        certificates=certificates,
    )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for stage in signals.GENERATE_STAGES:
        signals.demo_generating.send(app, event=dataclasses.replace(event, stage=stage))
    return event


def _unit_title(n: int) -> str:
    name = UNIT_NAMES[n % len(UNIT_NAMES)]
    return name if n < len(UNIT_NAMES) else f"{name} {n // len(UNIT_NAMES) + 1}"


def _create_learners(
    tenant: Tenant, issuer: str, run: str, count: int, units: int, rng: random.Random
) -> tuple[signals.GeneratedLearner, ...]:
    first_id = next_id(User.__table__)
    now = utcnow()
    rows = []
    people = []
    for n in range(count):
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        subject = f"{run}-{n + 1}"
        user_id = first_id + n
        # Like real LMSs: most send names and e-mail, some send nothing at all.
        anonymous = rng.random() < 0.03
        rows.append(
            (
                user_id,
                tenant.id,
                issuer,
                subject,
                None if anonymous else f"{given} {family}",
                None if anonymous else given,
                None if anonymous else family,
                None if anonymous else f"{given}.{family}.{n + 1}@{tenant.slug}.example".lower(),
                True,
                now,
            )
        )
        people.append(signals.GeneratedLearner(user_id, subject, rng.randrange(units)))
    bulk_insert(
        User.__table__,
        (
            "id",
            "tenant_id",
            "issuer",
            "subject",
            "name",
            "given_name",
            "family_name",
            "email",
            "active",
            "created_at",
        ),
        rows,
    )
    bulk_insert(
        UserRole.__table__,
        ("user_id", "role"),
        ((person.user_id, Role.LEARNER.value) for person in people),
    )
    reset_id_sequence(User.__table__)
    return tuple(people)


# -- bulk writing, for every plugin's part ------------------------------------------------


def next_id(table: Table) -> int:
    """The first free id of ``table``: generators number their rows themselves, so that
    rows can refer to each other without reading ids back."""
    return int(db.session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def reset_id_sequence(table: Table) -> None:
    """After inserting explicit ids, move PostgreSQL's sequence past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
        )
    )


def bulk_insert(
    table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]], chunk: int = 5000
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``; returns the count.

    Values are what the ORM would take (aware UTC datetimes, dicts for JSON). PostgreSQL
    gets them through ``COPY``, converted as the column types would; SQLite through
    batched INSERTs.
    """
    session = db.session
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = table.insert()
        count = 0
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(dict(zip(columns, row, strict=True)))
            if len(batch) >= chunk:
                connection.execute(statement, batch)
                count += len(batch)
                batch = []
        if batch:
            connection.execute(statement, batch)
            count += len(batch)
        return count

    from psycopg.types.json import Jsonb

    converters: list[Any] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            converters.append(_naive_utc)
        elif isinstance(column_type, JSONType | JSONB):
            converters.append(lambda value: None if value is None else Jsonb(value))
        elif hasattr(column_type, "enum_class") and column_type.enum_class is not None:
            converters.append(lambda value: None if value is None else str(value))
        else:
            converters.append(None)
    raw = connection.connection.driver_connection
    names = ", ".join(f'"{name}"' for name in columns)
    count = 0
    rows = iter(rows)
    # A COPY holds the connection: rows are drawn a batch at a time between COPYs, so a
    # generator that reads the database while it yields never waits on itself.
    while batch := list(itertools.islice(rows, chunk * 10)):
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in batch:
                copy.write_row(
                    [
                        value if convert is None else convert(value)
                        for convert, value in zip(converters, row, strict=True)
                    ]
                )
        count += len(batch)
    return count


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None)
