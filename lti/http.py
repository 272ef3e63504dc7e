"""Every HTTP call the tool makes to an LMS: with timeouts, and platform keys cached as the
platform says.

pylti1p3 calls ``requests`` without a timeout (a hung LMS would hang a clinician's launch
or a worker forever) and caches a platform's JWKS for a fixed time, never re-reading it
when a token names a key it has not seen: a platform that rotates its key breaks every
launch until a restart. :class:`KeySetCache` honours ``Cache-Control``/``Expires`` and
re-fetches once on an unknown ``kid``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from flask import Flask, current_app
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import parse_cache_control_header

log = logging.getLogger(__name__)

USER_AGENT = "Shiftwell-LTI/1.0"
#: (connect, read) seconds. A launch waits for at most one JWKS fetch.
DEFAULT_TIMEOUT = (3.05, 10.0)
#: Without caching headers a platform's keys are kept this long.
DEFAULT_KEYSET_TTL = 300.0
#: Never longer than a day, whatever the platform says, so a removed key goes away.
MAX_KEYSET_TTL = 86400.0
#: An unknown kid triggers a re-fetch at most this often per key set: forged tokens with
#: random kids must not turn the tool into a request amplifier against the LMS.
MIN_REFETCH_INTERVAL = 10.0


class PlatformHttpError(Exception):
    """The LMS could not be reached or answered nonsense (not the user's fault)."""


class TimeoutSession(requests.Session):
    """A requests session whose every call has a timeout unless one is given."""

    def __init__(self, timeout: Any = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def http_session() -> TimeoutSession:
    timeout = current_app.config.get("LTI_HTTP_TIMEOUT", DEFAULT_TIMEOUT)
    # From the environment a pair arrives as a JSON list; requests wants a tuple.
    return TimeoutSession(tuple(timeout) if isinstance(timeout, list) else timeout)


def cache_lifetime(headers: Mapping[str, str], now: float | None = None) -> float:
    """Seconds a response may be reused, from Cache-Control (RFC 9111 §5.2.2) or Expires."""
    cache_control = parse_cache_control_header(
        headers.get("Cache-Control"), cls=ResponseCacheControl
    )
    if cache_control.no_store or cache_control.no_cache:
        return 0.0
    age = _number(headers.get("Age")) or 0.0
    # s-maxage is for shared caches (RFC 9111 §5.2.2.10); the tool is a private client.
    max_age = cache_control.max_age
    if max_age is not None:
        return _clamp(float(max_age) - age)
    expires = headers.get("Expires")
    if expires:
        try:
            expires_at = parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError):
            return 0.0  # RFC 9111 §5.3: an invalid Expires means "already expired"
        date = headers.get("Date")
        reference = now if now is not None else time.time()
        if date:
            with contextlib.suppress(TypeError, ValueError):
                reference = parsedate_to_datetime(date).timestamp()
        return _clamp(expires_at - reference)
    return DEFAULT_KEYSET_TTL


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _clamp(seconds: float) -> float:
    return max(0.0, min(MAX_KEYSET_TTL, seconds))


@dataclass
class _Entry:
    keys: list[dict[str, Any]]
    fetched_at: float
    expires_at: float
    refetched_for_unknown_kid_at: float | None = None


@dataclass
class KeySetCache:
    """Platform JWKS by URL, per process (``app.extensions['lti.keysets']``)."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fetches: int = 0  # for tests and the benchmark: how often we went to the network

    def key_for(self, url: str, kid: str, session: requests.Session) -> dict[str, Any] | None:
        """The JWK with ``kid`` from the key set at ``url``, or None if the platform does
        not publish it even after a fresh read."""
        now = time.monotonic()
        with self.lock:
            entry = self.entries.get(url)
        if entry is not None and now < entry.expires_at:
            key = _find(entry.keys, kid)
            if key is not None:
                return key
            last = entry.refetched_for_unknown_kid_at
            if last is not None and now - last < MIN_REFETCH_INTERVAL:
                return None
            log.info("lti: key %s not in the cached key set of %s; reading it again", kid, url)
            entry = self._fetch(url, session)
            entry.refetched_for_unknown_kid_at = now
            return _find(entry.keys, kid)
        entry = self._fetch(url, session)
        return _find(entry.keys, kid)

    def _fetch(self, url: str, session: requests.Session) -> _Entry:
        try:
            response = session.get(url, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise PlatformHttpError(
                f"the LMS's key set at {url} could not be read ({type(exc).__name__})"
            ) from exc
        if response.status_code != 200:
            raise PlatformHttpError(
                f"the LMS's key set at {url} answered HTTP {response.status_code}"
            )
        try:
            body = response.json()
            keys = [k for k in body["keys"] if isinstance(k, dict)]
        except (ValueError, KeyError, TypeError) as exc:
            raise PlatformHttpError(f"the LMS's key set at {url} is not a JWKS") from exc
        now = time.monotonic()
        entry = _Entry(keys, now, now + cache_lifetime(response.headers))
        with self.lock:
            self.entries[url] = entry
            self.fetches += 1
        return entry

    def forget(self, url: str | None = None) -> None:
        with self.lock:
            if url is None:
                self.entries.clear()
            else:
                self.entries.pop(url, None)


def _find(keys: list[dict[str, Any]], kid: str) -> dict[str, Any] | None:
    for key in keys:
        if key.get("kid") == kid:
            return key
    return None


def keysets(app: Flask | None = None) -> KeySetCache:
    return (app or current_app).extensions["lti.keysets"]
