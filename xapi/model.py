"""A small typed model of the statements Shiftwell itself writes, and their one serialiser.

The LRS stores whatever valid xAPI a client sends, as JSON; this model is for the
statements *we* make from learners' progress (:mod:`xapi.vocabulary`), so that their
shape is checked by the type checker and written in one place. :func:`to_json`
produces xAPI 1.0.3; a 2.0 serialisation (``contextAgents``, ``contextGroups``, RFC 3339
timestamps) would be a second branch of it, not a second model.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LanguageMap = Mapping[str, str]
SUPPORTED_VERSIONS = ("1.0.3",)


@dataclass(frozen=True, slots=True)
class Account:
    home_page: str
    name: str


@dataclass(frozen=True, slots=True)
class Agent:
    """Learners are identified by an account only: never by an e-mail address."""

    account: Account
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Verb:
    id: str
    display: LanguageMap


@dataclass(frozen=True, slots=True)
class InteractionComponent:
    id: str
    description: LanguageMap | None = None


@dataclass(frozen=True, slots=True)
class ActivityDefinition:
    name: LanguageMap | None = None
    description: LanguageMap | None = None
    type: str | None = None
    more_info: str | None = None
    interaction_type: str | None = None
    correct_responses_pattern: tuple[str, ...] | None = None
    choices: tuple[InteractionComponent, ...] | None = None
    scale: tuple[InteractionComponent, ...] | None = None
    source: tuple[InteractionComponent, ...] | None = None
    target: tuple[InteractionComponent, ...] | None = None
    steps: tuple[InteractionComponent, ...] | None = None
    extensions: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    definition: ActivityDefinition | None = None


@dataclass(frozen=True, slots=True)
class Score:
    scaled: float | None = None
    raw: float | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Result:
    score: Score | None = None
    success: bool | None = None
    completion: bool | None = None
    response: str | None = None
    duration: dt.timedelta | None = None
    extensions: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ContextActivities:
    parent: tuple[Activity, ...] = ()
    grouping: tuple[Activity, ...] = ()
    category: tuple[Activity, ...] = ()
    other: tuple[Activity, ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    registration: uuid.UUID | None = None
    context_activities: ContextActivities | None = None
    revision: str | None = None
    platform: str | None = None
    language: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Statement:
    id: uuid.UUID
    actor: Agent
    verb: Verb
    object: Activity
    timestamp: dt.datetime
    result: Result | None = None
    context: Context | None = None


# -- the serialiser ---------------------------------------------------------------------


def to_json(statement: Statement, version: str = "1.0.3") -> dict[str, Any]:
    """The statement as xAPI JSON of ``version``; empty properties are left out (Data
    §2.2.s2.b1: no empty objects)."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"xAPI {version} serialisation is not implemented (have {SUPPORTED_VERSIONS})"
        )
    data: dict[str, Any] = {
        "id": str(statement.id),
        "actor": _agent(statement.actor),
        "verb": {"id": statement.verb.id, "display": dict(statement.verb.display)},
        "object": _activity(statement.object),
        "timestamp": _timestamp(statement.timestamp),
    }
    if statement.result is not None and (result := _result(statement.result)):
        data["result"] = result
    if statement.context is not None and (context := _context(statement.context)):
        data["context"] = context
    return data


def format_duration(value: dt.timedelta) -> str:
    """ISO 8601 duration with at most 0.01 s precision (Data §4.6.s1.b2): ``PT1M35.5S``."""
    centiseconds = round(value.total_seconds() * 100)
    hours, rest = divmod(centiseconds, 360000)
    minutes, rest = divmod(rest, 6000)
    seconds = rest / 100
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if seconds or text == "PT":
        text += f"{seconds:.2f}".rstrip("0").rstrip(".") + "S"
    return text


def _timestamp(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _agent(agent: Agent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "objectType": "Agent",
        "account": {"homePage": agent.account.home_page, "name": agent.account.name},
    }
    if agent.name:
        data["name"] = agent.name
    return data


def _activity(activity: Activity) -> dict[str, Any]:
    data: dict[str, Any] = {"objectType": "Activity", "id": activity.id}
    if activity.definition is not None and (definition := _definition(activity.definition)):
        data["definition"] = definition
    return data


def _definition(definition: ActivityDefinition) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if definition.name:
        data["name"] = dict(definition.name)
    if definition.description:
        data["description"] = dict(definition.description)
    if definition.type:
        data["type"] = definition.type
    if definition.more_info:
        data["moreInfo"] = definition.more_info
    if definition.interaction_type:
        data["interactionType"] = definition.interaction_type
    if definition.correct_responses_pattern is not None:
        data["correctResponsesPattern"] = list(definition.correct_responses_pattern)
    for key in ("choices", "scale", "source", "target", "steps"):
        components = getattr(definition, key)
        if components:
            data[key] = [_component(c) for c in components]
    if definition.extensions:
        data["extensions"] = dict(definition.extensions)
    return data


def _component(component: InteractionComponent) -> dict[str, Any]:
    data: dict[str, Any] = {"id": component.id}
    if component.description:
        data["description"] = dict(component.description)
    return data


def _result(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if result.score is not None:
        score = {
            key: value
            for key, value in (
                ("scaled", result.score.scaled),
                ("raw", result.score.raw),
                ("min", result.score.min),
                ("max", result.score.max),
            )
            if value is not None
        }
        if score:
            data["score"] = score
    if result.success is not None:
        data["success"] = result.success
    if result.completion is not None:
        data["completion"] = result.completion
    if result.response is not None:
        data["response"] = result.response
    if result.duration is not None:
        data["duration"] = format_duration(result.duration)
    if result.extensions:
        data["extensions"] = dict(result.extensions)
    return data


def _context(context: Context) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if context.registration is not None:
        data["registration"] = str(context.registration)
    activities = context.context_activities
    if activities is not None:
        grouped = {
            key: [_activity(a) for a in getattr(activities, key)]
            for key in ("parent", "grouping", "category", "other")
            if getattr(activities, key)
        }
        if grouped:
            data["contextActivities"] = grouped
    if context.revision:
        data["revision"] = context.revision
    if context.platform:
        data["platform"] = context.platform
    if context.language:
        data["language"] = context.language
    if context.extensions:
        data["extensions"] = dict(context.extensions)
    return data
