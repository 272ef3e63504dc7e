"""Partner Markdown → HTML that cannot run script in a learner's browser.

Two layers: markdown-it-py (CommonMark, which already refuses ``javascript:`` and
``data:`` links), then nh3 (the Ammonia sanitiser) with an allow-list of tags,
attributes and URL schemes. Raw HTML in a lesson passes the first layer on purpose and
is cut down by the second: ``<script>`` goes with its content, ``onerror`` and
``style`` attributes go, ``<a href="javascript:...">`` loses its link. Images may only
come from the package itself: a learner's browser never fetches from a third party
(no tracking pixels), and every image went through the package checks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em",
        "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li",
        "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

AssetUrl = Callable[[str], str]


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "typographer": True}).enable("table")


_md = _parser()


def parse(text: str) -> list[Token]:
    return _md.parse(text)


def is_asset_reference(url: str) -> bool:
    """A link into the package itself (``assets/breathing.png``), not to the web."""
    return bool(url) and "://" not in url and not url.startswith(("/", "#", "mailto:", "//"))


def sanitise(html: str, asset_url: AssetUrl | None = None) -> str:
    """Keep only allowed tags and attributes; point package paths at ``asset_url``."""

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if (tag, attribute) in (("img", "src"), ("a", "href")) and is_asset_reference(value):
            return asset_url(value) if asset_url else value
        if tag == "img" and attribute == "src":
            return None  # not from the package: never fetched
        return value

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=attribute_filter,
    )


def render(text: str, asset_url: AssetUrl | None = None, *, inline: bool = False) -> Markup:
    """Render and sanitise; package-relative image and link URLs go through ``asset_url``."""
    html = _md.renderInline(text) if inline else _md.render(text)
    # The output is sanitised by nh3 just above, so marking it safe is sound.
    return Markup(sanitise(html, asset_url))  # noqa: S704


@functools.lru_cache(maxsize=2048)
def render_cached(text: str, asset_prefix: str, inline: bool = False) -> Markup:
    """Step pages render the same stored Markdown over and over: keep the HTML."""
    return render(text, lambda path: asset_prefix + path, inline=inline)


def images(tokens: list[Token]) -> list[tuple[str, str, int | None]]:
    """(src, alt, line offset) of every image, for validation."""
    found: list[tuple[str, str, int | None]] = []

    def walk(items: list[Token], line: int | None) -> None:
        for token in items:
            here = token.map[0] if token.map else line
            if token.type == "image":
                alt = "".join(child.content for child in token.children or [])
                found.append((str(token.attrGet("src") or ""), alt, here))
            if token.children:
                walk(token.children, here)

    walk(tokens, None)
    return found


def links(tokens: list[Token]) -> list[tuple[str, int | None]]:
    found: list[tuple[str, int | None]] = []

    def walk(items: list[Token], line: int | None) -> None:
        for token in items:
            here = token.map[0] if token.map else line
            if token.type == "link_open":
                found.append((str(token.attrGet("href") or ""), here))
            if token.children:
                walk(token.children, here)

    walk(tokens, None)
    return found


def plain_text(text: str) -> str:
    """Markdown as plain text (for titles and xAPI descriptions)."""
    out: list[str] = []

    def walk(items: list[Any]) -> None:
        for token in items:
            if token.type in ("text", "code_inline"):
                out.append(token.content)
            elif token.type in ("softbreak", "hardbreak"):
                out.append(" ")
            if token.children:
                walk(token.children)

    walk(_md.parseInline(text))
    return "".join(out).strip()
