"""Strict validation of xAPI 1.0.3 statements and request parameters.

Every rule here answers a requirement of the specification (xAPI 1.0.3 Part Two, "Data",
and Part Three §3); the ADL conformance suite checks them. A statement that breaks one
is refused as a whole with ``400 Bad Request`` and a message that names the property
by its JSON pointer (``/context/contextActivities/parent/0/id``) and says what it must
be. Validation is pure: no database, no Flask.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lms_core.errors import InvalidInput, Problem

# -- formats ----------------------------------------------------------------------------

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# RFC 3986 §3.1 scheme, then anything that may appear in an IRI (RFC 3987 excludes
# spaces, controls and <>"{}|\^`). Data §2.2.s4.b6 allows best-effort IRI validation.
IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]*$")
MBOX_RE = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
SHA2_RE = re.compile(r"^[0-9a-fA-F]{56}$|^[0-9a-fA-F]{64}$|^[0-9a-fA-F]{96}$|^[0-9a-fA-F]{128}$")
# RFC 5646 §2.1 "Language-Tag" (langtag / privateuse / grandfathered); Data §2.2.s4.b2.
_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-x(?:-[A-Za-z0-9]{1,8})+)?"
)
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|"
    "i-pwn|i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|"
    "no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
LANGTAG_RE = re.compile(rf"^(?:{_LANGTAG}|x(?:-[A-Za-z0-9]{{1,8}})+|{_GRANDFATHERED})$", re.I)
# ISO 8601:2004 §4.4.3.2 (Data §4.6): PnYnMnDTnHnMnS or PnW; the alternative format
# (P0003-06-04T12:30:05, §4.4.3.3) must not be used. Only the last part may be a fraction.
_NUM = r"\d+(?:[.,]\d+)?"
DURATION_RE = re.compile(
    rf"^P(?:(?=\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
    rf"|T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?|{_NUM}W)$"
)
# ISO 8601 combined date and time, extended or basic (Data §4.5). RFC 3339 §4.3 makes
# "-00:00" mean "offset unknown", which is not a time: refuse it (and -00, -0000).
TIMESTAMP_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}|\d{8})T"
    r"(?P<time>\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
VERSION_RE = re.compile(r"^1\.0(?:\.\d+)?$")
INTERACTION_TYPES = (
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
)
# Which component lists each interaction type may carry (Data §2.4.4.1, Interaction
# Activities): "choice" and "sequencing" have choices, "likert" a scale, ...
INTERACTION_COMPONENTS: dict[str, frozenset[str]] = {
    "choice": frozenset({"choices"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
}
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


class StatementInvalid(InvalidInput):
    """A statement or parameter breaks the xAPI specification."""


class Validator:
    """Collects every problem of one document before refusing it, so a client fixes
    all of them in one round."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, path or "/", hint))

    def raise_if_any(self, what: str) -> None:
        if self.problems:
            count = len(self.problems)
            first = self.problems[0]
            detail = f"{what}: {first}" + (f" (and {count - 1} more)" if count > 1 else "")
            raise StatementInvalid(detail, self.problems)

    # -- primitives ---------------------------------------------------------------------

    def object(self, value: Any, path: str, allowed: Iterable[str], what: str) -> bool:
        if not isinstance(value, dict):
            self.fail(path, f"{what} must be a JSON object, not {_type_name(value)}")
            return False
        allowed = set(allowed)
        for key, item in value.items():
            if key not in allowed:
                self.fail(
                    f"{path}/{key}",
                    f"{what} has no property {key!r}",
                    f"allowed: {', '.join(sorted(allowed))} (names are case-sensitive)",
                )
            elif item is None:
                self.fail(f"{path}/{key}", "null is not allowed (Data §2.2.s4.b1)")
        return True

    def string(self, value: Any, path: str) -> bool:
        if not isinstance(value, str):
            self.fail(path, f"must be a string, not {_type_name(value)}")
            return False
        return True

    def boolean(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, not {_type_name(value)}")

    def number(self, value: Any, path: str) -> bool:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(path, f"must be a number, not {_type_name(value)}")
            return False
        return True

    def iri(self, value: Any, path: str) -> None:
        if self.string(value, path) and not IRI_RE.match(value):
            self.fail(
                path, f"{value!r} is not an IRI", "an absolute IRI with a scheme, e.g. https://..."
            )

    def uuid(self, value: Any, path: str) -> None:
        if self.string(value, path) and not UUID_RE.match(value):
            self.fail(path, f"{value!r} is not a UUID", "use the 8-4-4-4-12 hexadecimal form")

    def timestamp(self, value: Any, path: str) -> None:
        if self.string(value, path) and parse_timestamp(value) is None:
            self.fail(
                path,
                f"{value!r} is not an ISO 8601 timestamp",
                "e.g. 2024-05-01T08:30:00.000Z; the offset -00:00 is not allowed",
            )

    def language_map(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"a language map must be a JSON object, not {_type_name(value)}")
            return
        for tag, text in value.items():
            if not LANGTAG_RE.match(tag):
                self.fail(f"{path}/{tag}", f"{tag!r} is not an RFC 5646 language tag", "e.g. en-US")
            if not isinstance(text, str):
                self.fail(f"{path}/{tag}", f"must be a string, not {_type_name(text)}")

    def extensions(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"extensions must be a JSON object, not {_type_name(value)}")
            return
        # Data §4.1: keys are IRIs; values are anything, including null.
        for key in value:
            if not IRI_RE.match(key):
                self.fail(f"{path}/{key}", f"extension key {key!r} is not an IRI")

    # -- agents -------------------------------------------------------------------------

    def agent_or_group(self, value: Any, path: str, *, group_allowed: bool = True) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            if not group_allowed:
                self.fail(f"{path}/objectType", "a Group is not allowed here")
                return
            self.group(value, path)
        else:
            self.agent(value, path)

    def agent(self, value: Any, path: str) -> None:
        if not self.object(value, path, ("objectType", "name", *IFIS), "an Agent"):
            return
        if "objectType" in value and value["objectType"] != "Agent":
            self.fail(f"{path}/objectType", f"must be 'Agent', not {value['objectType']!r}")
        if "name" in value:
            self.string(value["name"], f"{path}/name")
        count = self.ifis(value, path)
        if count != 1:
            self.fail(
                path,
                f"an Agent must have exactly one identifier, it has {count}",
                "one of mbox, mbox_sha1sum, openid, account (Data §2.4.2.1)",
            )

    def group(self, value: Any, path: str) -> None:
        if not self.object(value, path, ("objectType", "name", "member", *IFIS), "a Group"):
            return
        if "name" in value:
            self.string(value["name"], f"{path}/name")
        count = self.ifis(value, path)
        if count > 1:
            self.fail(path, f"an identified Group has exactly one identifier, it has {count}")
        members = value.get("member")
        if count == 0 and members is None:
            self.fail(path, "an anonymous Group (no identifier) must list its members")
        if members is not None:
            if not isinstance(members, list):
                self.fail(f"{path}/member", "member must be an array of Agents")
                return
            if count == 0 and not members:
                self.fail(f"{path}/member", "an anonymous Group needs at least one member")
            for i, member in enumerate(members):
                if isinstance(member, dict) and member.get("objectType") == "Group":
                    self.fail(f"{path}/member/{i}", "a Group's members must be Agents, not Groups")
                else:
                    self.agent(member, f"{path}/member/{i}")

    def ifis(self, value: dict[str, Any], path: str) -> int:
        count = 0
        if "mbox" in value:
            count += 1
            mbox = value["mbox"]
            if self.string(mbox, f"{path}/mbox") and not MBOX_RE.match(mbox):
                self.fail(
                    f"{path}/mbox", f"{mbox!r} is not a mailto IRI", "e.g. mailto:a@example.org"
                )
        if "mbox_sha1sum" in value:
            count += 1
            digest = value["mbox_sha1sum"]
            if self.string(digest, f"{path}/mbox_sha1sum") and not SHA1_RE.match(digest):
                self.fail(f"{path}/mbox_sha1sum", "must be 40 hexadecimal digits (SHA-1)")
        if "openid" in value:
            count += 1
            self.iri(value["openid"], f"{path}/openid")
        if "account" in value:
            count += 1
            account = value["account"]
            if self.object(account, f"{path}/account", ("homePage", "name"), "an account"):
                for key in ("homePage", "name"):
                    if key not in account:
                        self.fail(f"{path}/account", f"an account needs {key!r}")
                if "homePage" in account:
                    self.iri(account["homePage"], f"{path}/account/homePage")
                if "name" in account:
                    self.string(account["name"], f"{path}/account/name")
        return count

    # -- verb, object -------------------------------------------------------------------

    def verb(self, value: Any, path: str) -> None:
        if not self.object(value, path, ("id", "display"), "a Verb"):
            return
        if "id" not in value:
            self.fail(path, "a Verb needs an 'id' (an IRI)")
        else:
            self.iri(value["id"], f"{path}/id")
        if "display" in value:
            self.language_map(value["display"], f"{path}/display")

    def activity(self, value: Any, path: str) -> None:
        if not self.object(value, path, ("objectType", "id", "definition"), "an Activity"):
            return
        if "objectType" in value and value["objectType"] != "Activity":
            self.fail(f"{path}/objectType", f"must be 'Activity', not {value['objectType']!r}")
        if "id" not in value:
            self.fail(path, "an Activity needs an 'id' (an IRI)")
        else:
            self.iri(value["id"], f"{path}/id")
        if "definition" in value:
            self.definition(value["definition"], f"{path}/definition")

    def definition(self, value: Any, path: str) -> None:
        allowed = (
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
            *COMPONENT_LISTS,
        )
        if not self.object(value, path, allowed, "an Activity definition"):
            return
        for key in ("name", "description"):
            if key in value:
                self.language_map(value[key], f"{path}/{key}")
        for key in ("type", "moreInfo"):
            if key in value:
                self.iri(value[key], f"{path}/{key}")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}/extensions")
        interaction_type = value.get("interactionType")
        if "interactionType" in value and (
            not isinstance(interaction_type, str) or interaction_type not in INTERACTION_TYPES
        ):
            self.fail(
                f"{path}/interactionType",
                f"{interaction_type!r} is not an interaction type",
                f"one of {', '.join(INTERACTION_TYPES)}",
            )
            interaction_type = None
        if "correctResponsesPattern" in value:
            pattern = value["correctResponsesPattern"]
            if "interactionType" not in value:
                self.fail(f"{path}/correctResponsesPattern", "needs an interactionType")
            if not isinstance(pattern, list):
                self.fail(f"{path}/correctResponsesPattern", "must be an array of strings")
            else:
                for i, item in enumerate(pattern):
                    self.string(item, f"{path}/correctResponsesPattern/{i}")
        present = [key for key in COMPONENT_LISTS if key in value]
        if present and "interactionType" not in value:
            self.fail(f"{path}/{present[0]}", "interaction components need an interactionType")
        elif present and interaction_type is not None:
            allowed_lists = INTERACTION_COMPONENTS.get(interaction_type, frozenset())
            for key in present:
                if key not in allowed_lists:
                    self.fail(
                        f"{path}/{key}",
                        f"a {interaction_type!r} interaction has no {key!r} list",
                        f"allowed: {', '.join(sorted(allowed_lists)) or 'none'}",
                    )
        for key in present:
            self.components(value[key], f"{path}/{key}")

    def components(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.fail(path, "must be an array of interaction components")
            return
        seen: set[str] = set()
        for i, component in enumerate(value):
            where = f"{path}/{i}"
            if not self.object(component, where, ("id", "description"), "an interaction component"):
                continue
            if "id" not in component:
                self.fail(where, "an interaction component needs an 'id'")
            elif self.string(component["id"], f"{where}/id"):
                if component["id"] in seen:
                    self.fail(
                        f"{where}/id", f"id {component['id']!r} appears twice (Data §2.4.4.1)"
                    )
                seen.add(component["id"])
            if "description" in component:
                self.language_map(component["description"], f"{where}/description")

    def statement_ref(self, value: Any, path: str) -> None:
        if not self.object(value, path, ("objectType", "id"), "a StatementRef"):
            return
        if value.get("objectType") != "StatementRef":
            self.fail(f"{path}/objectType", "a StatementRef needs objectType 'StatementRef'")
        if "id" not in value:
            self.fail(path, "a StatementRef needs the 'id' of a statement")
        else:
            self.uuid(value["id"], f"{path}/id")

    def statement_object(self, value: Any, path: str, *, sub: bool) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"the object must be a JSON object, not {_type_name(value)}")
            return
        object_type = value.get("objectType", "Activity")
        if object_type == "Activity":
            self.activity(value, path)
        elif object_type in ("Agent", "Group"):
            self.agent_or_group(value, path)
        elif object_type == "StatementRef":
            self.statement_ref(value, path)
        elif object_type == "SubStatement" and not sub:
            self.statement_body(value, path, sub=True)
        elif object_type == "SubStatement":
            self.fail(f"{path}/objectType", "a SubStatement cannot contain another SubStatement")
        else:
            self.fail(
                f"{path}/objectType",
                f"{object_type!r} is not an object type",
                "Activity, Agent, Group, StatementRef or SubStatement",
            )

    # -- result, context, attachments ---------------------------------------------------

    def result(self, value: Any, path: str) -> None:
        allowed = ("score", "success", "completion", "response", "duration", "extensions")
        if not self.object(value, path, allowed, "a result"):
            return
        if "score" in value:
            self.score(value["score"], f"{path}/score")
        for key in ("success", "completion"):
            if key in value:
                self.boolean(value[key], f"{path}/{key}")
        if "response" in value:
            self.string(value["response"], f"{path}/response")
        if "duration" in value:
            duration = value["duration"]
            if self.string(duration, f"{path}/duration") and not DURATION_RE.match(duration):
                self.fail(
                    f"{path}/duration",
                    f"{duration!r} is not an ISO 8601 duration",
                    "e.g. PT1M30.5S (ISO 8601:2004 §4.4.3.2)",
                )
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}/extensions")

    def score(self, value: Any, path: str) -> None:
        if not self.object(value, path, ("scaled", "raw", "min", "max"), "a score"):
            return
        numbers = {k: v for k, v in value.items() if self.number(v, f"{path}/{k}")}
        scaled = numbers.get("scaled")
        if scaled is not None and not -1 <= scaled <= 1:
            self.fail(f"{path}/scaled", f"{scaled} is outside -1..1")
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and low > high:
            self.fail(f"{path}/min", f"min {low} is greater than max {high}")
        if raw is not None and low is not None and raw < low:
            self.fail(f"{path}/raw", f"raw {raw} is below min {low}")
        if raw is not None and high is not None and raw > high:
            self.fail(f"{path}/raw", f"raw {raw} is above max {high}")

    def context(self, value: Any, path: str, object_type: str) -> None:
        allowed = (
            "registration",
            "instructor",
            "team",
            "contextActivities",
            "revision",
            "platform",
            "language",
            "statement",
            "extensions",
        )
        if not self.object(value, path, allowed, "a context"):
            return
        if "registration" in value:
            self.uuid(value["registration"], f"{path}/registration")
        if "instructor" in value:
            self.agent_or_group(value["instructor"], f"{path}/instructor")
        if "team" in value:
            team = value["team"]
            if isinstance(team, dict) and team.get("objectType") == "Group":
                self.group(team, f"{path}/team")
            else:
                self.fail(f"{path}/team", "team must be a Group (with objectType 'Group')")
        if "contextActivities" in value:
            self.context_activities(value["contextActivities"], f"{path}/contextActivities")
        for key in ("revision", "platform"):
            if key in value:
                self.string(value[key], f"{path}/{key}")
                if object_type != "Activity":
                    # Data §2.4.6: revision and platform only describe an Activity object.
                    self.fail(
                        f"{path}/{key}", f"{key!r} is only allowed when the object is an Activity"
                    )
        if "language" in value:
            language = value["language"]
            if self.string(language, f"{path}/language") and not LANGTAG_RE.match(language):
                self.fail(f"{path}/language", f"{language!r} is not an RFC 5646 language tag")
        if "statement" in value:
            self.statement_ref(value["statement"], f"{path}/statement")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}/extensions")

    def context_activities(self, value: Any, path: str) -> None:
        if not self.object(value, path, CONTEXT_ACTIVITY_KEYS, "contextActivities"):
            return
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, list):
                for i, activity in enumerate(item):
                    self.activity(activity, f"{path}/{key}/{i}")
            else:
                self.activity(item, f"{path}/{key}")

    def attachments(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.fail(path, "attachments must be an array")
            return
        allowed = (
            "usageType",
            "display",
            "description",
            "contentType",
            "length",
            "sha2",
            "fileUrl",
        )
        for i, attachment in enumerate(value):
            where = f"{path}/{i}"
            if not self.object(attachment, where, allowed, "an attachment"):
                continue
            for key in ("usageType", "display", "contentType", "length", "sha2"):
                if key not in attachment:
                    self.fail(where, f"an attachment needs {key!r}")
            if "usageType" in attachment:
                self.iri(attachment["usageType"], f"{where}/usageType")
            for key in ("display", "description"):
                if key in attachment:
                    self.language_map(attachment[key], f"{where}/{key}")
            if "contentType" in attachment:
                content_type = attachment["contentType"]
                if self.string(content_type, f"{where}/contentType") and "/" not in content_type:
                    self.fail(
                        f"{where}/contentType", f"{content_type!r} is not an Internet Media Type"
                    )
            if "length" in attachment:
                length = attachment["length"]
                if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                    self.fail(f"{where}/length", "must be a non-negative integer")
            if "sha2" in attachment:
                sha2 = attachment["sha2"]
                if self.string(sha2, f"{where}/sha2") and not SHA2_RE.match(sha2):
                    self.fail(f"{where}/sha2", "must be a hexadecimal SHA-224/256/384/512 digest")
            if "fileUrl" in attachment:
                self.iri(attachment["fileUrl"], f"{where}/fileUrl")

    # -- statements ---------------------------------------------------------------------

    def statement_body(self, value: Any, path: str, *, sub: bool) -> None:
        common = ("actor", "verb", "object", "result", "context", "timestamp", "attachments")
        allowed = (
            (*common, "objectType") if sub else (*common, "id", "stored", "authority", "version")
        )
        what = "a SubStatement" if sub else "a statement"
        if not self.object(value, path, allowed, what):
            return
        for key in ("actor", "verb", "object"):
            if key not in value:
                self.fail(path, f"{what} needs {key!r}")
        if "id" in value:
            self.uuid(value["id"], f"{path}/id")
        if "actor" in value:
            self.agent_or_group(value["actor"], f"{path}/actor")
        if "verb" in value:
            self.verb(value["verb"], f"{path}/verb")
        object_type = "Activity"
        if "object" in value:
            statement_object = value["object"]
            self.statement_object(statement_object, f"{path}/object", sub=sub)
            if isinstance(statement_object, dict):
                object_type = statement_object.get("objectType", "Activity")
        verb_id = value.get("verb", {}).get("id") if isinstance(value.get("verb"), dict) else None
        if verb_id == VOIDED and object_type != "StatementRef":
            # Data §2.3.2.s2.b1: a voiding statement points at its target by StatementRef.
            self.fail(
                f"{path}/object", "a statement with the verb 'voided' needs a StatementRef object"
            )
        if "result" in value:
            self.result(value["result"], f"{path}/result")
        if "context" in value:
            self.context(value["context"], f"{path}/context", object_type)
        if "timestamp" in value:
            self.timestamp(value["timestamp"], f"{path}/timestamp")
        if "stored" in value:
            self.timestamp(value["stored"], f"{path}/stored")
        if "authority" in value:
            self.authority(value["authority"], f"{path}/authority")
        if "version" in value:
            version = value["version"]
            if self.string(version, f"{path}/version") and not VERSION_RE.match(version):
                self.fail(f"{path}/version", f"version {version!r} is not 1.0.x (Data §2.4.10)")
        if "attachments" in value:
            self.attachments(value["attachments"], f"{path}/attachments")

    def authority(self, value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            # Data §2.4.9.s3: a Group authority is only three-legged OAuth's anonymous
            # Group of two Agents, the application and the user.
            self.group(value, path)
            if any(key in value for key in IFIS):
                self.fail(path, "a Group authority is anonymous: the OAuth application and user")
            members = value.get("member")
            if isinstance(members, list) and len(members) != 2:
                self.fail(f"{path}/member", "a Group authority has exactly two Agents")
        else:
            self.agent(value, path)


# -- entry points -----------------------------------------------------------------------


def validate_statements(data: Any) -> list[dict[str, Any]]:
    """A single statement or a batch, as posted, as a list; raise for any problem."""
    validator = Validator()
    if isinstance(data, list):
        if not data:
            validator.fail("/", "the batch is empty", "send a statement or an array of statements")
        for i, statement in enumerate(data):
            validator.statement_body(statement, f"/{i}", sub=False)
        statements = data
    else:
        validator.statement_body(data, "", sub=False)
        statements = [data]
    validator.raise_if_any("The statement is not valid xAPI 1.0.3")
    return statements


def validate_agent_parameter(
    value: Any, name: str = "agent", *, group_allowed: bool = True
) -> None:
    validator = Validator()
    validator.agent_or_group(value, f"?{name}", group_allowed=group_allowed)
    if (
        isinstance(value, dict)
        and value.get("objectType") == "Group"
        and not any(k in value for k in IFIS)
    ):
        validator.fail(f"?{name}", "an anonymous Group cannot be used here; use an identified one")
    validator.raise_if_any(f"The {name} parameter is not a valid Agent")


def parse_timestamp(value: str) -> dt.datetime | None:
    """An aware datetime for an ISO 8601 timestamp (UTC when it names no offset)."""
    match = TIMESTAMP_RE.match(value)
    if not match:
        return None
    tz = match["tz"]
    if tz and tz[0] == "-" and set(tz[1:].replace(":", "")) == {"0"}:
        return None
    date = match["date"]
    if "-" not in date:
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    time = match["time"].replace(",", ".")
    if ":" not in time and len(time) > 2:
        digits, _, fraction = time.partition(".")
        time = ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))
        time += f".{fraction}" if fraction else ""
    elif len(time) == 2:
        time += ":00"
    if "." in time:
        whole, fraction = time.split(".")
        time = f"{whole}.{(fraction + '000000')[:6]}"
    offset = "+00:00" if tz in (None, "Z") else tz
    if len(offset) == 3:
        offset += ":00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        parsed = dt.datetime.fromisoformat(f"{date}T{time}{offset}")
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC)


def format_timestamp(value: dt.datetime) -> str:
    """UTC with milliseconds, the form the LRS returns (Data §4.5.s1.b6)."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
