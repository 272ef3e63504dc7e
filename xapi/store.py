"""Writing statements: the one path every statement takes, from the LRS's HTTP API and
from Shiftwell's own signal receivers alike.

:func:`store_statements` works inside the caller's transaction and never commits: a
learner's progress and the statements describing it commit together, or not at all.
It takes the tenant's :class:`~xapi.models.XapiSequence` row lock first, so one tenant's
statements are numbered in commit order (and the LRS-assigned ``stored`` never goes
backwards), then does all its reading and writing in a handful of set-based queries per
batch.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms_core.db import utcnow
from lms_core.errors import Conflict
from lms_core.extensions import db
from xapi import identity
from xapi.models import (
    TermKind,
    XapiAttachment,
    XapiSequence,
    XapiStatement,
    XapiStatementTerm,
    XapiTerm,
)
from xapi.validation import (
    SIGNATURE_USAGE,
    UUID_RE,
    VOIDED,
    StatementInvalid,
    format_timestamp,
    parse_timestamp,
    validate_statements,
)

#: Statement ``version`` when the client sent none (Data §2.4.10).
DEFAULT_STATEMENT_VERSION = "1.0.0"
_CHUNK = 500
_TERM_INSERT = {"qmark": "INSERT INTO xapi_statement_term (term_id, seq, direct) VALUES (?, ?, ?)"}


@dataclass(frozen=True)
class Writer:
    """Who is storing: the authority put on each statement (Data §2.4.9)."""

    authority: dict[str, Any]
    credential_id: int | None = None


@dataclass(frozen=True)
class AttachmentData:
    """The raw bytes of an attachment, matched to statements by SHA-2 only (§1.5.2)."""

    sha2: str
    content_type: str
    content: bytes


@dataclass
class _New:
    statement: dict[str, Any]
    key: str  # lower-case id
    seq: int = 0
    own: dict[int, bool] = field(default_factory=dict)
    target: str | None = None
    is_voiding: bool = False
    voided: bool = False


def store_statements(
    tenant_id: int,
    statements: list[dict[str, Any]],
    writer: Writer,
    attachments: Mapping[str, AttachmentData] | None = None,
    *,
    validated: bool = False,
) -> list[str]:
    """Store a batch (all or nothing); return the statement ids in the order given.

    The dicts become the stored statements (id, stored, authority... are set on them):
    the caller hands them over rather than paying for a deep copy of every batch.

    A statement whose id the LRS already holds is not stored again: if it is the same
    statement it is accepted as it is, otherwise the batch is refused with 409
    (Communication §2.1.2.s2.b4-b5).
    """
    if not validated:
        statements = validate_statements(statements)
    attachments = attachments or {}
    _check_attachment_data(statements, attachments)
    for statement in statements:
        statement.setdefault("id", str(uuid.uuid4()))
    keys = [str(s["id"]).lower() for s in statements]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise StatementInvalid(
            f"The batch holds statement {duplicate} twice; send each statement id once "
            "(Communication §2.1.2.s2.b6)."
        )

    last_seq, last_stored = _lock_sequence(tenant_id)
    existing = _existing_documents(tenant_id, keys)
    new: list[_New] = []
    for statement, key in zip(statements, keys, strict=True):
        if key in existing:
            if not same_statement(existing[key], statement):
                raise Conflict(
                    f"Statement {statement['id']} is already stored with different content; "
                    "statements are immutable: send it under a new id."
                )
            continue
        new.append(_New(statement, key))
    if not new:
        return [s["id"] for s in statements]

    now = _truncate_ms(utcnow())
    stored = max(now, last_stored) if last_stored else now
    stored_text = format_timestamp(stored)
    for offset, item in enumerate(new, start=1):
        item.seq = last_seq + offset
        _complete(item, writer, stored_text)
    db.session.execute(
        update(XapiSequence)
        .where(XapiSequence.tenant_id == tenant_id)
        .values(last_seq=last_seq + len(new), last_stored=stored)
    )

    _index_terms(tenant_id, new)
    _resolve_references(tenant_id, new)
    _insert(tenant_id, new, stored, writer)
    _store_attachments(tenant_id, attachments)

    from xapi import forwarding

    forwarding.statements_stored(tenant_id)
    return [s["id"] for s in statements]


# -- sequence ---------------------------------------------------------------------------


def _lock_sequence(tenant_id: int) -> tuple[int, dt.datetime | None]:
    """Lock the tenant's sequence row until commit; return its last seq and stored.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite before
    anything is read, so concurrent writers of one tenant queue here instead of racing.
    """
    for _ in range(2):
        row = db.session.execute(
            update(XapiSequence)
            .where(XapiSequence.tenant_id == tenant_id)
            .values(last_seq=XapiSequence.last_seq)
            .returning(XapiSequence.last_seq, XapiSequence.last_stored)
        ).first()
        if row is not None:
            return int(row[0]), row[1]
        dialect = db.session.get_bind().dialect.name
        make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(
            make_insert(XapiSequence)
            .values(tenant_id=tenant_id, last_seq=0)
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
    raise RuntimeError(f"could not create the statement sequence of tenant {tenant_id}")


def _truncate_ms(value: dt.datetime) -> dt.datetime:
    # ``stored`` is returned with milliseconds; keeping more here would make a client's
    # ``since=<stored>`` match the very statement it came from.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


# -- reading what exists ----------------------------------------------------------------


def _existing_documents(tenant_id: int, keys: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        rows = db.session.execute(
            select(XapiStatement.statement_id, XapiStatement.document).where(
                XapiStatement.tenant_id == tenant_id, XapiStatement.statement_id.in_(chunk)
            )
        )
        for statement_id, document in rows:
            found[statement_id] = json.loads(document)
    return found


# -- completing statements --------------------------------------------------------------


def _complete(item: _New, writer: Writer, stored: str) -> None:
    """Add what the LRS sets (Data §2.4.7-2.4.10) and the array form of contextActivities."""
    statement = item.statement
    statement["stored"] = stored
    statement["authority"] = writer.authority
    statement.setdefault("version", DEFAULT_STATEMENT_VERSION)
    statement.setdefault("timestamp", stored)
    _normalise_context_activities(statement)
    statement_object = statement["object"]
    if statement_object.get("objectType") == "SubStatement":
        _normalise_context_activities(statement_object)
    if statement_object.get("objectType") == "StatementRef":
        item.target = str(statement_object["id"]).lower()
        item.is_voiding = statement["verb"]["id"] == VOIDED


def _normalise_context_activities(statement: dict[str, Any]) -> None:
    # Data §2.4.6.2: every contextActivities value is returned as an array.
    activities = statement.get("context", {}).get("contextActivities")
    if isinstance(activities, dict):
        for key, value in list(activities.items()):
            if isinstance(value, dict):
                activities[key] = [value]


# -- terms ------------------------------------------------------------------------------


@dataclass
class _TermSet:
    """Terms one statement mentions, before they have ids."""

    found: dict[tuple[int, str], bool] = field(default_factory=dict)

    def add(self, kind: TermKind, value: str | None, direct: bool) -> None:
        if value is None:
            return
        key = (int(kind), value)
        self.found[key] = self.found.get(key, False) or direct

    def agent(self, agent: Any, direct: bool) -> None:
        if isinstance(agent, dict):
            for who in identity.members_and_self(agent):
                self.add(TermKind.AGENT, identity.agent_identity(who), direct)

    def activity(self, activity: Any, direct: bool) -> None:
        if isinstance(activity, dict) and isinstance(activity.get("id"), str):
            self.add(TermKind.ACTIVITY, activity["id"], direct)


def statement_terms(statement: dict[str, Any]) -> _TermSet:
    """What a statement can be found by (Communication §2.1.3, the filter parameters)."""
    terms = _TermSet()
    terms.agent(statement["actor"], True)
    terms.add(TermKind.VERB, statement["verb"]["id"], True)
    _object_terms(terms, statement["object"], direct=True)
    _context_terms(terms, statement.get("context"), direct=True)
    terms.agent(statement.get("authority"), False)
    return terms


def _object_terms(terms: _TermSet, statement_object: dict[str, Any], direct: bool) -> None:
    object_type = statement_object.get("objectType", "Activity")
    if object_type == "Activity":
        terms.activity(statement_object, direct)
    elif object_type in ("Agent", "Group"):
        terms.agent(statement_object, direct)
    elif object_type == "SubStatement":
        # related_agents / related_activities look inside a contained SubStatement.
        terms.agent(statement_object["actor"], False)
        _object_terms(terms, statement_object["object"], direct=False)
        _context_terms(terms, statement_object.get("context"), direct=False)


def _context_terms(terms: _TermSet, context: dict[str, Any] | None, direct: bool) -> None:
    if not context:
        return
    if direct and isinstance(context.get("registration"), str):
        terms.add(TermKind.REGISTRATION, context["registration"].lower(), True)
    terms.agent(context.get("instructor"), False)
    terms.agent(context.get("team"), False)
    for activities in (context.get("contextActivities") or {}).values():
        for activity in activities if isinstance(activities, list) else [activities]:
            terms.activity(activity, False)


def _index_terms(tenant_id: int, new: list[_New]) -> None:
    """Give every term of the batch an id and keep activity definitions and agent names."""
    term_sets = [statement_terms(item.statement) for item in new]
    digests: dict[tuple[int, str], str] = {}
    for terms in term_sets:
        for key in terms.found:
            if key not in digests:
                digests[key] = identity.digest(key[0], key[1])
    wanted = {d: key for key, d in digests.items()}
    definitions = _activity_definitions(item.statement for item in new)
    names = _agent_names(item.statement for item in new)
    rows = _term_rows(tenant_id, list(wanted))
    missing = [d for d in wanted if d not in rows]
    if missing:
        now = utcnow()
        values = []
        for d in missing:
            kind, value = wanted[d]
            data: dict[str, Any] | None = None
            if kind == TermKind.ACTIVITY and value in definitions:
                data = {"definition": definitions.pop(value)}
            elif kind == TermKind.AGENT and value in names:
                data = {"names": sorted(names.pop(value))}
            values.append(
                {
                    "tenant_id": tenant_id,
                    "kind": kind,
                    "digest": d,
                    "value": value,
                    "data": data,
                    "updated_at": now,
                }
            )
        db.session.execute(insert(XapiTerm.__table__), values)
        rows.update(_term_rows(tenant_id, missing))
    _update_term_data(rows, wanted, definitions, names)
    for item, terms in zip(new, term_sets, strict=True):
        item.own = {rows[digests[key]][0]: direct for key, direct in terms.found.items()}


def _term_rows(tenant_id: int, digests: list[str]) -> dict[str, tuple[int, Any]]:
    rows: dict[str, tuple[int, Any]] = {}
    for chunk in _chunks(digests):
        for term_id, d, data in db.session.execute(
            select(XapiTerm.id, XapiTerm.digest, XapiTerm.data).where(
                XapiTerm.tenant_id == tenant_id, XapiTerm.digest.in_(chunk)
            )
        ):
            rows[d] = (term_id, data)
    return rows


def _update_term_data(
    rows: dict[str, tuple[int, Any]],
    wanted: dict[str, tuple[int, str]],
    definitions: dict[str, dict[str, Any]],
    names: dict[str, set[str]],
) -> None:
    """The LRS keeps the latest definition of an activity as its canonical one
    (Communication §2.5, Data §2.4.4.1), merging language maps so no language is lost."""
    now = utcnow()
    for d, (term_id, data) in rows.items():
        kind, value = wanted[d]
        updated: dict[str, Any] | None = None
        if kind == TermKind.ACTIVITY and value in definitions:
            current = dict((data or {}).get("definition") or {})
            merged = merge_definition(current, definitions[value])
            if merged != current:
                updated = {**(data or {}), "definition": merged}
        elif kind == TermKind.AGENT and value in names:
            known = set((data or {}).get("names") or ())
            if not names[value] <= known:
                updated = {**(data or {}), "names": sorted(known | names[value])}
        if updated is not None:
            db.session.execute(
                update(XapiTerm).where(XapiTerm.id == term_id).values(data=updated, updated_at=now)
            )


def merge_definition(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in incoming.items():
        if key in ("name", "description") and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _activity_definitions(statements: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def visit(activity: Any) -> None:
        if isinstance(activity, dict) and isinstance(activity.get("definition"), dict):
            activity_id = activity["id"]
            found[activity_id] = merge_definition(
                found.get(activity_id, {}), activity["definition"]
            )

    def visit_statement(statement: dict[str, Any]) -> None:
        statement_object = statement["object"]
        object_type = statement_object.get("objectType", "Activity")
        if object_type == "Activity":
            visit(statement_object)
        elif object_type == "SubStatement":
            visit_statement(statement_object)
        for activities in (statement.get("context", {}).get("contextActivities") or {}).values():
            for activity in activities:
                visit(activity)

    for statement in statements:
        visit_statement(statement)
    return found


def _agent_names(statements: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}

    def visit(agent: Any) -> None:
        if not isinstance(agent, dict):
            return
        for who in identity.members_and_self(agent):
            key = identity.agent_identity(who)
            if key is not None and isinstance(who.get("name"), str):
                found.setdefault(key, set()).add(who["name"])

    for statement in statements:
        visit(statement["actor"])
        if statement["object"].get("objectType") in ("Agent", "Group"):
            visit(statement["object"])
    return found


# -- StatementRefs and voiding ----------------------------------------------------------


def _resolve_references(tenant_id: int, new: list[_New]) -> None:
    """Apply voiding and StatementRef filter inheritance, whichever statement came first.

    A statement targeting another matches every filter its target matches
    (Communication §2.1.3, "Filter Conditions for StatementRefs"), recursively. The
    terms are copied at write time — onto the targeting statement when the target is
    already here, onto the targeting statements when the target arrives later — so
    queries never have to follow references.
    """
    by_key = {item.key: item for item in new}
    targets = {item.target for item in new if item.target and item.target not in by_key}
    stored_targets: dict[str, tuple[bool, dict[int, bool]]] = {}
    for chunk in _chunks(sorted(targets)):
        for statement_id, is_voiding, terms in db.session.execute(
            select(XapiStatement.statement_id, XapiStatement.is_voiding, XapiStatement.terms).where(
                XapiStatement.tenant_id == tenant_id, XapiStatement.statement_id.in_(chunk)
            )
        ):
            stored_targets[statement_id] = (is_voiding, _decode_terms(terms))

    effective: dict[str, dict[int, bool]] = {}

    def resolve(item: _New, seen: frozenset[str]) -> dict[int, bool]:
        if item.key in effective:
            return effective[item.key]
        terms = dict(item.own)
        if item.target and item.target not in seen:
            inherited: dict[int, bool] = {}
            if item.target in by_key:
                inherited = resolve(by_key[item.target], seen | {item.key})
            elif item.target in stored_targets:
                inherited = stored_targets[item.target][1]
            _merge_terms(terms, inherited)
        effective[item.key] = terms
        return terms

    for item in new:
        item.own = resolve(item, frozenset())

    # Data §2.3.2.s2.b3: voided if and only if not itself voiding and a voiding
    # statement targets it — in this batch, or already stored, or stored later.
    to_void = set()
    for item in new:
        if item.is_voiding and item.target:
            target = by_key.get(item.target)
            if target is not None:
                if not target.is_voiding:
                    target.voided = True
            elif item.target in stored_targets and not stored_targets[item.target][0]:
                to_void.add(item.target)
    for chunk in _chunks(sorted(to_void)):
        db.session.execute(
            update(XapiStatement)
            .where(XapiStatement.tenant_id == tenant_id, XapiStatement.statement_id.in_(chunk))
            .values(voided=True)
        )
    _propagate_to_earlier_references(tenant_id, new)


def _propagate_to_earlier_references(tenant_id: int, new: list[_New]) -> None:
    """Statements stored before their target learn its terms now (and theirs, onwards)."""
    frontier = {item.key: item.own for item in new}
    new_keys = {item.key: item for item in new}
    visited: set[str] = set()
    while frontier:
        referencing = []
        for chunk in _chunks(sorted(frontier)):
            referencing.extend(
                db.session.execute(
                    select(
                        XapiStatement.id,
                        XapiStatement.statement_id,
                        XapiStatement.seq,
                        XapiStatement.target_id,
                        XapiStatement.is_voiding,
                        XapiStatement.terms,
                    ).where(
                        XapiStatement.tenant_id == tenant_id,
                        XapiStatement.target_id.is_not(None),  # lets the partial index serve
                        XapiStatement.target_id.in_(chunk),
                    )
                )
            )
        next_frontier: dict[str, dict[int, bool]] = {}
        for row_id, statement_id, seq, target_id, is_voiding, terms_text in referencing:
            if statement_id in visited:
                continue
            visited.add(statement_id)
            target = new_keys.get(target_id)
            if is_voiding and target is not None and not target.is_voiding:
                target.voided = True
            terms = _decode_terms(terms_text)
            added = {
                t: d
                for t, d in frontier[target_id].items()
                if terms.get(t) is None or (d and not terms[t])
            }
            if not added:
                continue
            _merge_terms(terms, added)
            db.session.execute(
                update(XapiStatement)
                .where(XapiStatement.id == row_id)
                .values(terms=_encode_terms(terms))
            )
            _upsert_statement_terms(seq, added)
            next_frontier[statement_id] = terms
        frontier = next_frontier


def _upsert_statement_terms(seq: int, terms: dict[int, bool]) -> None:
    existing = dict(
        db.session.execute(
            select(XapiStatementTerm.term_id, XapiStatementTerm.direct).where(
                XapiStatementTerm.seq == seq, XapiStatementTerm.term_id.in_(list(terms))
            )
        ).all()
    )
    for term_id, direct in terms.items():
        if term_id not in existing:
            db.session.execute(
                insert(XapiStatementTerm).values(term_id=term_id, seq=seq, direct=direct)
            )
        elif direct and not existing[term_id]:
            db.session.execute(
                update(XapiStatementTerm)
                .where(XapiStatementTerm.term_id == term_id, XapiStatementTerm.seq == seq)
                .values(direct=True)
            )


def _merge_terms(into: dict[int, bool], more: Mapping[int, bool]) -> None:
    for term_id, direct in more.items():
        into[term_id] = into.get(term_id, False) or direct


def _decode_terms(text: str | None) -> dict[int, bool]:
    return {int(t): bool(d) for t, d in json.loads(text or "[]")}


def _encode_terms(terms: Mapping[int, bool]) -> str:
    return json.dumps(sorted([t, int(d)] for t, d in terms.items()), separators=(",", ":"))


# -- writing ----------------------------------------------------------------------------


_STATEMENT_COLUMNS = (
    "tenant_id",
    "seq",
    "statement_id",
    "stored",
    "voided",
    "is_voiding",
    "target_id",
    "has_attachments",
    "credential_id",
    "document",
    "terms",
)
_TERM_COLUMNS = ("term_id", "seq", "direct")


def _insert(tenant_id: int, new: list[_New], stored: dt.datetime, writer: Writer) -> None:
    statements = [
        (
            tenant_id,
            item.seq,
            item.key,
            stored,
            item.voided,
            item.is_voiding,
            item.target,
            bool(item.statement.get("attachments")),
            writer.credential_id,
            dump(item.statement),
            _encode_terms(item.own),
        )
        for item in new
    ]
    terms = [(term_id, item.seq, direct) for item in new for term_id, direct in item.own.items()]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # COPY: measured at a third of the cost of multi-row INSERTs for these rows.
        naive = stored.astimezone(dt.UTC).replace(tzinfo=None)  # as UTCDateTime stores it
        _copy(
            connection,
            "xapi_statement",
            _STATEMENT_COLUMNS,
            [(*r[:3], naive, *r[4:]) for r in statements],
        )
        _copy(connection, "xapi_statement_term", _TERM_COLUMNS, terms)
        return
    # SQLite: Core (not ORM) inserts, and the seven index rows per statement straight to
    # the driver, past SQLAlchemy's per-parameter processing (measured: a quarter of the
    # insert time).
    db.session.execute(
        insert(XapiStatement.__table__),
        [dict(zip(_STATEMENT_COLUMNS, r, strict=True)) for r in statements],
    )
    connection.exec_driver_sql(_TERM_INSERT["qmark"], terms)


def _copy(
    connection: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _check_attachment_data(
    statements: list[dict[str, Any]], attachments: Mapping[str, AttachmentData]
) -> None:
    """Communication §1.5.2.s3.b5: an attachment needs a fileUrl or its raw data."""
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(_all_attachments(statement)):
            if "fileUrl" in attachment:
                continue
            if attachment["sha2"].lower() not in attachments:
                raise StatementInvalid(
                    f"/{i}/attachments/{j}: no fileUrl and no multipart/mixed part with "
                    f"X-Experience-API-Hash {attachment['sha2']}; send the data as a part "
                    "of a multipart/mixed request or give a fileUrl (Communication §1.5.2)."
                )
            if attachment["usageType"] == SIGNATURE_USAGE:
                from xapi import signatures

                signatures.verify(statement, attachment, attachments[attachment["sha2"].lower()])


def _all_attachments(statement: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(statement.get("attachments") or ())
    if statement["object"].get("objectType") == "SubStatement":
        found.extend(statement["object"].get("attachments") or ())
    return found


def _store_attachments(tenant_id: int, attachments: Mapping[str, AttachmentData]) -> None:
    if not attachments:
        return
    present = set(
        db.session.scalars(
            select(XapiAttachment.sha2).where(
                XapiAttachment.tenant_id == tenant_id, XapiAttachment.sha2.in_(list(attachments))
            )
        )
    )
    rows = [
        {
            "tenant_id": tenant_id,
            "sha2": sha2,
            "content_type": data.content_type[:255],
            "length": len(data.content),
            "content": data.content,
            "created_at": utcnow(),
        }
        for sha2, data in attachments.items()
        if sha2 not in present
    ]
    if rows:
        db.session.execute(insert(XapiAttachment.__table__), rows)


# -- comparison -------------------------------------------------------------------------


def same_statement(stored: dict[str, Any], received: dict[str, Any]) -> bool:
    """Data §2.3.1 "Statement Comparison Requirements": ignore what the LRS may assign
    (id, authority, stored, timestamp, version), attachments, the order of a Group's
    members, case in case-insensitive values and how a timestamp is written."""
    left, right = comparable(stored), comparable(received)
    if "timestamp" not in received or "timestamp" not in stored:
        left.pop("timestamp", None)
        right.pop("timestamp", None)
    return left == right


def comparable(statement: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(statement)
    for key in ("id", "authority", "stored", "version", "attachments"):
        result.pop(key, None)
    if isinstance(result.get("timestamp"), str):
        parsed = parse_timestamp(result["timestamp"])
        result["timestamp"] = parsed.isoformat() if parsed else result["timestamp"]
    _normalise_context_activities(result)
    statement_object = result.get("object")
    if isinstance(statement_object, dict):
        if statement_object.get("objectType") == "SubStatement":
            result["object"] = comparable(statement_object)
        elif statement_object.get("objectType") == "StatementRef" and isinstance(
            statement_object.get("id"), str
        ):
            statement_object["id"] = statement_object["id"].lower()
    return _case_fold(result)


def _case_fold(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        if key in ("display", "name", "description") and all(
            isinstance(v, str) for v in value.values()
        ):
            return {k.lower(): v for k, v in value.items()}  # language tags: RFC 5646 §2.1.1
        folded = {k: _case_fold(v, k) for k, v in value.items()}
        if "mbox" in folded and isinstance(folded["mbox"], str):
            folded["mbox"] = identity.agent_identity({"mbox": folded["mbox"]})
        if isinstance(folded.get("member"), list):
            folded["member"] = sorted(folded["member"], key=lambda m: json.dumps(m, sort_keys=True))
        return folded
    if isinstance(value, list):
        return [_case_fold(v) for v in value]
    if key in ("registration", "id") and isinstance(value, str) and UUID_RE.match(value):
        return value.lower()
    return value


def dump(document: Any) -> str:
    """Compact JSON, the form statements are stored and served in (orjson: measured at
    a tenth of the standard library's cost, on the ingest path of every statement)."""
    return orjson.dumps(document).decode()


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
