"""Step types as plugins: each kind of screen in the player is a :class:`StepType`.

A step type is named by an entry point in the ``shiftwell.step_types`` group, so a third
party adds one the way the built-in ones are added (see ``setup.cfg``)::

    [options.entry_points]
    shiftwell.step_types =
        poll = my_package.steps:PollStep

A step type owns four things for its kind of step: the JSON Schema of its block in a
lesson (``schema``), how it is shown (``template``, rendered with :meth:`context`), how
an answer is read and scored (:meth:`evaluate`) and how it maps to xAPI (``verb``,
``activity_type``, :meth:`interaction`, ``private``).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask import render_template
from markupsafe import Markup

from courses import markdown

ENTRY_POINT_GROUP = "shiftwell.step_types"

LESSON = "http://adlnet.gov/expapi/activities/lesson"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
SIMULATION = "http://adlnet.gov/expapi/activities/simulation"


class AnswerError(Exception):
    """The learner's answer cannot be saved as given; ``field`` is the form field to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Evaluation:
    """What saving an answer results in, decided by the step type."""

    #: Stored as the step's response (private text included: the learner sees it again).
    response: dict[str, Any]
    completed: bool
    score: float | None = None
    success: bool | None = None
    #: The answer in xAPI's response format ("a[,]c"); None for private steps.
    xapi_response: str | None = None
    #: The xAPI interaction definition for this answer (choices, correct pattern).
    interaction: dict[str, Any] | None = None
    #: A sub-activity the answer was given in (a scenario's decision point): (id, title).
    part: tuple[str, str] | None = None


@dataclass
class CheckContext:
    """What a step type needs to check a step block, and where to report problems."""

    path: str  # the lesson file
    line: int  # the line of the step block's first key
    assets: Mapping[str, bytes]
    lines: Mapping[tuple[Any, ...], int] = field(default_factory=dict)
    problems: list[Any] = field(default_factory=list)

    def line_of(self, *key: Any) -> int:
        """The file line of a key inside the block (its nearest known ancestor's line)."""
        parts = tuple(key)
        while parts and parts not in self.lines:
            parts = parts[:-1]
        return self.lines.get(parts, self.line)

    def problem(self, message: str, hint: str, *key: Any, line: int | None = None) -> None:
        from lms_core.errors import Problem

        where = line if line is not None else self.line_of(*key)
        self.problems.append(Problem(message, f"{self.path}:{where}", hint))

    def check_markdown(self, text: str, *key: Any, base_line: int | None = None) -> None:
        """Check Markdown at ``key`` (or, for a screen's text, starting at ``base_line``)."""
        check_markdown(self, text, key, base_line)

    def check_asset(self, ref: str, kinds: tuple[str, ...], hint: str, *key: Any) -> None:
        from courses.package import media_type

        if ref not in self.assets:
            self.problem(f"{ref} is not in the package", hint, *key)
        elif not media_type(ref).startswith(kinds):
            self.problem(f"{ref} is not of a usable type here ({', '.join(kinds)})", hint, *key)


def check_markdown(
    ctx: CheckContext, text: str, key: tuple[Any, ...], base_line: int | None = None
) -> None:
    """Images need alt text and must be in the package; links into it must resolve."""
    from courses.package import media_type

    def at(offset: int | None) -> int | None:
        return None if base_line is None or offset is None else base_line + offset

    tokens = markdown.parse(text)
    for src, alt, offset in markdown.images(tokens):
        line = at(offset)
        if not markdown.is_asset_reference(src):
            ctx.problem(
                f"image {src} is not in the package",
                "put the image in assets/ and refer to it as assets/NAME.png",
                *key,
                line=line,
            )
        elif src not in ctx.assets or not media_type(src).startswith("image/"):
            ctx.problem(
                f"image {src} is not in the package", "check the file name", *key, line=line
            )
        if not alt.strip():
            ctx.problem(
                f"image {src} has no alt text",
                "describe the image for screen readers: ![what it shows](path)",
                *key,
                line=line,
            )
    for href, offset in markdown.links(tokens):
        if markdown.is_asset_reference(href) and href.split("#")[0] not in ctx.assets:
            ctx.problem(
                f"link to {href}, which is not in the package",
                "fix the path",
                *key,
                line=at(offset),
            )
    for token in _walk(tokens):
        if token.type in ("html_inline", "html_block") and "<img" in token.content.lower():
            ctx.problem(
                "raw HTML image",
                "use a Markdown image with alt text instead: ![what it shows](assets/x.png)",
                *key,
                line=at(token.map[0] if token.map else None),
            )


def _walk(tokens: list[Any]) -> list[Any]:
    out = []
    for token in tokens:
        out.append(token)
        if token.children:
            out.extend(_walk(token.children))
    return out


@dataclass(frozen=True)
class StepView:
    """What a step template gets: the step, its type's context and the saved response."""

    step: Any
    config: Mapping[str, Any]
    response: Mapping[str, Any] | None
    completed: bool
    errors: Mapping[str, str]
    form: Mapping[str, Any]
    md: Callable[[str], Markup]
    md_inline: Callable[[str], Markup]
    asset_url: Callable[[str], str]
    #: Where the step's form posts, and the next screen once this one is done.
    action_url: str = ""
    next_url: str | None = None
    #: False once the step takes no more answers (answered check, finished attempt).
    answerable: bool = True
    #: The attempt is complete: the learner is reviewing, nothing can change.
    review: bool = False
    language: str = "en"


class StepType:
    """Base class of every step type. Subclasses set the class attributes and override."""

    #: The entry point name; what ``type:`` says in a lesson.
    name: ClassVar[str] = ""
    #: What learners and authors call it.
    label: ClassVar[str] = ""
    #: JSON Schema (draft 2020-12) of the step block's own keys (besides type/id/required).
    schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False}
    #: Jinja template showing the step inside the player page.
    template: ClassVar[str] = ""
    #: xAPI verb name (docs/xapi-profile.md) and activity type IRI for its statement.
    verb: ClassVar[str] = "experienced"
    activity_type: ClassVar[str] = LESSON
    #: Private steps (reflections, wellbeing answers): the response never leaves the learner.
    private: ClassVar[bool] = False
    #: Whether a step of this type must be done to complete the course, unless it says.
    required_by_default: ClassVar[bool] = True
    #: For private step types with fixed answers: the response key whose values reports
    #: may count across a group of people (with :meth:`aggregate_labels`); None: none.
    aggregate_field: ClassVar[str | None] = None

    def check(self, data: dict[str, Any], ctx: CheckContext) -> None:
        """Checks the schema cannot express (exactly one right answer, assets exist...)."""

    def max_score(self, config: Mapping[str, Any]) -> float:
        return 0.0

    def evaluate(
        self,
        config: Mapping[str, Any],
        form: Mapping[str, list[str]],
        previous: Mapping[str, Any] | None,
    ) -> Evaluation:
        """Read the learner's answer from ``form`` (lists of values by field name).

        Raise :class:`AnswerError` to show the step again with the error by its field.
        """
        return Evaluation(response={}, completed=True)

    def interaction(self, config: Mapping[str, Any]) -> dict[str, Any] | None:
        return None

    def answerable(self, config: Mapping[str, Any], response: Mapping[str, Any] | None) -> bool:
        """Whether the step still takes an answer (a knowledge check answered once does not)."""
        return True

    def aggregate_labels(self, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(stored value of ``aggregate_field``, label) for each possible answer, in order."""
        return []

    def render(self, view: StepView) -> Markup:
        return Markup(render_template(self.template, view=view, step_type=self))  # noqa: S704


def load_step_types() -> dict[str, StepType]:
    """Every installed step type, by name; the first one installed under a name wins."""
    found: dict[str, StepType] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, StepType)):
            raise TypeError(f"step type {ep.name} = {ep.value} must name a StepType subclass")
        instance = cls()
        type(instance).name = ep.name
        found[ep.name] = instance
    return dict(sorted(found.items()))


_registry: dict[str, StepType] | None = None


def registry() -> dict[str, StepType]:
    global _registry
    if _registry is None:
        _registry = load_step_types()
    return _registry
