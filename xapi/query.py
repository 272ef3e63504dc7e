"""Reading statements: GET /statements with every filter of Communication §2.1.3.

Filters on an agent, activity, verb or registration become term ids; ``since`` and
``until`` become bounds on ``seq`` (``stored`` grows with ``seq``, see
:mod:`xapi.models`). The query then walks one term's ``(term_id, seq)`` index in the
requested order and checks the other terms with primary-key look-ups, stopping after
``limit + 1`` rows: its cost depends on the page size, not on the size of the store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import aliased

from lms_core.extensions import db
from xapi import identity
from xapi.models import TermKind, XapiAttachment, XapiStatement, XapiStatementTerm, XapiTerm
from xapi.validation import IFIS

#: The most statements one page holds (``limit=0`` asks for this many).
MAX_PAGE = 500


@dataclass(frozen=True)
class StatementQuery:
    """The filters of a statement query, already validated."""

    agent: dict[str, Any] | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 0
    ascending: bool = False
    #: Paging: the seq of the last statement of the previous page.
    after_seq: int | None = None


@dataclass
class Page:
    documents: list[str]
    last_seq: int | None
    has_more: bool
    attachments: list[str] = field(default_factory=list)  # sha2 of attachments referenced


def find_statements(tenant_id: int, query: StatementQuery) -> Page:
    """One page of matching statements, newest first unless ``ascending``."""
    limit = MAX_PAGE if query.limit <= 0 else min(query.limit, MAX_PAGE)
    filters: list[tuple[int, bool]] = []  # (term_id, direct only)
    wanted = [
        (TermKind.REGISTRATION, query.registration.lower() if query.registration else None, True),
        (TermKind.ACTIVITY, query.activity, not query.related_activities),
        (
            TermKind.AGENT,
            identity.agent_identity(query.agent) if query.agent else None,
            not query.related_agents,
        ),
        (TermKind.VERB, query.verb, True),
    ]
    for kind, value, direct_only in wanted:
        if value is None:
            continue
        term_id = _term_id(tenant_id, kind, value)
        if term_id is None:
            return Page([], None, False)
        filters.append((term_id, direct_only))

    low, high = _seq_bounds(tenant_id, query)
    if high is not None and low is not None and high <= low:
        return Page([], None, False)

    if filters:
        driver_id, driver_direct = filters[0]
        d = aliased(XapiStatementTerm, name="d")
        seq_col: Any = d.seq
        stmt: Select[Any] = (
            select(XapiStatement.seq, XapiStatement.document, XapiStatement.has_attachments)
            .select_from(d)
            .join(
                XapiStatement,
                and_(XapiStatement.tenant_id == tenant_id, XapiStatement.seq == d.seq),
            )
            .where(d.term_id == driver_id)
        )
        if driver_direct:
            stmt = stmt.where(d.direct.is_(True))
        for term_id, direct_only in filters[1:]:
            t = aliased(XapiStatementTerm)
            condition = and_(t.term_id == term_id, t.seq == d.seq)
            if direct_only:
                condition = and_(condition, t.direct.is_(True))
            stmt = stmt.where(exists().where(condition))
    else:
        seq_col = XapiStatement.seq
        stmt = select(
            XapiStatement.seq, XapiStatement.document, XapiStatement.has_attachments
        ).where(XapiStatement.tenant_id == tenant_id)
    stmt = stmt.where(XapiStatement.voided.is_(False))
    if low is not None:
        stmt = stmt.where(seq_col > low)
    if high is not None:
        stmt = stmt.where(seq_col <= high)
    stmt = stmt.order_by(seq_col.asc() if query.ascending else seq_col.desc()).limit(limit + 1)

    rows = db.session.execute(stmt).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    documents = [row[1] for row in rows]
    sha2s: list[str] = []
    for row in rows:
        if row[2]:
            sha2s.extend(attachment_hashes(json.loads(row[1])))
    return Page(documents, rows[-1][0] if rows else None, has_more, list(dict.fromkeys(sha2s)))


def get_statement(tenant_id: int, statement_id: str, *, voided: bool) -> XapiStatement | None:
    """By id: a statement that is not voided, or (``voided=True``) one that is."""
    row = db.session.scalar(
        select(XapiStatement).where(
            XapiStatement.tenant_id == tenant_id,
            XapiStatement.statement_id == statement_id.lower(),
        )
    )
    if row is None or row.voided != voided:
        return None
    return row


def attachment_data(tenant_id: int, sha2s: list[str]) -> list[XapiAttachment]:
    if not sha2s:
        return []
    return list(
        db.session.scalars(
            select(XapiAttachment).where(
                XapiAttachment.tenant_id == tenant_id, XapiAttachment.sha2.in_(sha2s)
            )
        )
    )


def attachment_hashes(statement: dict[str, Any]) -> list[str]:
    found = [a["sha2"].lower() for a in statement.get("attachments") or () if "sha2" in a]
    statement_object = statement.get("object") or {}
    if statement_object.get("objectType") == "SubStatement":
        found.extend(a["sha2"].lower() for a in statement_object.get("attachments") or ())
    return found


def term_data(tenant_id: int, kind: TermKind, value: str) -> dict[str, Any] | None:
    """What the LRS knows of an activity (its canonical definition) or an agent (names)."""
    return db.session.scalar(
        select(XapiTerm.data).where(
            XapiTerm.tenant_id == tenant_id, XapiTerm.digest == identity.digest(kind, value)
        )
    )


def _term_id(tenant_id: int, kind: TermKind, value: str) -> int | None:
    return db.session.scalar(
        select(XapiTerm.id).where(
            XapiTerm.tenant_id == tenant_id, XapiTerm.digest == identity.digest(kind, value)
        )
    )


def _seq_bounds(tenant_id: int, query: StatementQuery) -> tuple[int | None, int | None]:
    """(exclusive low, inclusive high) seq for since, until and the paging cursor."""
    low = _last_seq_stored_by(tenant_id, query.since, default=0) if query.since else None
    high = _last_seq_stored_by(tenant_id, query.until, default=0) if query.until else None
    if query.after_seq is not None:
        if query.ascending:
            low = max(low or 0, query.after_seq)
        else:
            high = min(high, query.after_seq - 1) if high is not None else query.after_seq - 1
    return low, high


def _last_seq_stored_by(tenant_id: int, moment: dt.datetime, default: int) -> int:
    seq = db.session.scalar(
        select(XapiStatement.seq)
        .where(XapiStatement.tenant_id == tenant_id, XapiStatement.stored <= moment)
        .order_by(XapiStatement.stored.desc(), XapiStatement.seq.desc())
        .limit(1)
    )
    return default if seq is None else seq


# -- formats ----------------------------------------------------------------------------


def ids_format(statement: dict[str, Any]) -> dict[str, Any]:
    """Communication §2.1.3 ``format=ids``: only what identifies agents, activities, verbs."""
    result = dict(statement)
    result["actor"] = _agent_ids(statement["actor"])
    result["verb"] = {"id": statement["verb"]["id"]}
    result["object"] = _object_ids(statement["object"])
    if "authority" in statement:
        result["authority"] = _agent_ids(statement["authority"])
    if "context" in statement:
        result["context"] = _context_ids(statement["context"])
    return result


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    reduced: dict[str, Any] = {}
    if "objectType" in agent:
        reduced["objectType"] = agent["objectType"]
    for key in IFIS:
        if key in agent:
            reduced[key] = agent[key]
    if (
        agent.get("objectType") == "Group"
        and "member" in agent
        and not any(k in agent for k in IFIS)
    ):
        reduced["member"] = [_agent_ids(m) for m in agent["member"]]
    return reduced


def _object_ids(statement_object: dict[str, Any]) -> dict[str, Any]:
    object_type = statement_object.get("objectType", "Activity")
    if object_type == "Activity":
        return {"id": statement_object["id"]}
    if object_type in ("Agent", "Group"):
        return _agent_ids(statement_object)
    if object_type == "SubStatement":
        return ids_format(statement_object)
    return statement_object


def _context_ids(context: dict[str, Any]) -> dict[str, Any]:
    result = dict(context)
    for key in ("instructor", "team"):
        if key in context:
            result[key] = _agent_ids(context[key])
    if "contextActivities" in context:
        result["contextActivities"] = {
            key: [{"id": a["id"]} for a in activities]
            for key, activities in context["contextActivities"].items()
        }
    return result


def canonical_format(
    statement: dict[str, Any], definitions: dict[str, dict[str, Any]], languages: Any
) -> dict[str, Any]:
    """``format=canonical``: the LRS's canonical activity definitions and one language per
    language map, chosen by Accept-Language for each map (Communication §2.1.3.s4)."""

    def activity(value: dict[str, Any]) -> dict[str, Any]:
        definition = definitions.get(value["id"], value.get("definition"))
        result = {k: v for k, v in value.items() if k != "definition"}
        if definition:
            result["definition"] = _filter_definition(definition, languages)
        return result

    def body(value: dict[str, Any]) -> dict[str, Any]:
        result = dict(value)
        verb = dict(value["verb"])
        if "display" in verb:
            verb["display"] = pick_language(verb["display"], languages)
        result["verb"] = verb
        statement_object = value["object"]
        object_type = statement_object.get("objectType", "Activity")
        if object_type == "Activity":
            result["object"] = activity(statement_object)
        elif object_type == "SubStatement":
            result["object"] = body(statement_object)
        context = value.get("context")
        if context and "contextActivities" in context:
            result["context"] = {
                **context,
                "contextActivities": {
                    key: [activity(a) for a in items]
                    for key, items in context["contextActivities"].items()
                },
            }
        return result

    return body(statement)


def _filter_definition(definition: dict[str, Any], languages: Any) -> dict[str, Any]:
    result = dict(definition)
    for key in ("name", "description"):
        if key in result:
            result[key] = pick_language(result[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        if key in result:
            result[key] = [
                {**c, "description": pick_language(c["description"], languages)}
                if "description" in c
                else c
                for c in result[key]
            ]
    return result


def pick_language(language_map: dict[str, str], languages: Any) -> dict[str, str]:
    if not language_map:
        return language_map
    tags = list(language_map)
    best = languages.best_match(tags) if languages is not None else None
    if best is None:
        best = next((t for t in tags if t.lower().startswith("en")), tags[0])
    return {best: language_map[best]}


def canonical_definitions(
    tenant_id: int, statements: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The canonical definition of every activity the statements mention."""
    ids: set[str] = set()

    def collect(value: dict[str, Any]) -> None:
        statement_object = value["object"]
        object_type = statement_object.get("objectType", "Activity")
        if object_type == "Activity":
            ids.add(statement_object["id"])
        elif object_type == "SubStatement":
            collect(statement_object)
        for items in (value.get("context", {}).get("contextActivities") or {}).values():
            ids.update(a["id"] for a in items)

    for statement in statements:
        collect(statement)
    found: dict[str, dict[str, Any]] = {}
    digests = {identity.digest(TermKind.ACTIVITY, i): i for i in ids}
    if digests:
        for digest, data in db.session.execute(
            select(XapiTerm.digest, XapiTerm.data).where(
                XapiTerm.tenant_id == tenant_id, XapiTerm.digest.in_(list(digests))
            )
        ):
            if data and data.get("definition"):
                found[digests[digest]] = data["definition"]
    return found
