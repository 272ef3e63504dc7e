"""How the LRS tells agents, activities and statements apart.

Agents and identified Groups are the same when their inverse functional identifier is
(Communication §2.1.3, the ``agent`` parameter); everything the store indexes is keyed
by the SHA-1 digest of such an identity, so IRIs of any length index in 40 characters.
"""

from __future__ import annotations

import hashlib
from typing import Any

from xapi.models import TermKind


def agent_identity(agent: dict[str, Any]) -> str | None:
    """The inverse functional identifier of an Agent or identified Group, as text."""
    if "mbox" in agent:
        # The domain of an e-mail address is case-insensitive (Data §2.3.1.b7).
        local, _, domain = str(agent["mbox"]).rpartition("@")
        return f"mbox:{local}@{domain.lower()}"
    if "mbox_sha1sum" in agent:
        return f"mbox_sha1sum:{str(agent['mbox_sha1sum']).lower()}"
    if "openid" in agent:
        return f"openid:{agent['openid']}"
    if "account" in agent:
        # An IRI holds no line break (validation refuses whitespace), so one separates.
        account = agent["account"]
        return f"account:{account.get('homePage')}\n{account.get('name')}"
    return None


def ifi_object(identity: str) -> dict[str, Any]:
    """The identifier property of an Agent, back from :func:`agent_identity`."""
    kind, _, value = identity.partition(":")
    if kind == "account":
        home_page, _, name = value.partition("\n")
        return {"account": {"homePage": home_page, "name": name}}
    return {kind: value}


def digest(kind: TermKind | int, value: str) -> str:
    return hashlib.sha1(f"{int(kind)}\x00{value}".encode()).hexdigest()  # noqa: S324 - a key, not a security hash


def agent_digest(agent: dict[str, Any]) -> str | None:
    identity = agent_identity(agent)
    return None if identity is None else digest(TermKind.AGENT, identity)


def members_and_self(agent: dict[str, Any]) -> list[dict[str, Any]]:
    """A Group matches by its own identifier and by its members' (Communication §2.1.3)."""
    found = [agent]
    if agent.get("objectType") == "Group":
        found.extend(m for m in agent.get("member") or () if isinstance(m, dict))
    return found
