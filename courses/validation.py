"""Checking a course package's content and turning it into what the importer stores.

The format (docs/course-packages.md): ``course.yaml`` (JSON Schema in
``courses/schema/course.schema.json``) lists lesson files; each lesson is Markdown with
YAML front matter (``courses/schema/lesson.schema.json``). A lesson is cut into steps —
one screen each — at every ``## heading``; a fenced block with the info string ``step``
inside a section makes it an interactive step (its keys: ``type``, optional ``id`` and
``required``, then the step type's own keys). Text before the first heading is an intro
screen titled with the lesson's title.

Every problem is collected with its file and line and a hint, then raised together.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from courses import markdown
from courses.package import PackageFiles, PackageInvalid, media_type, signature_problem
from courses.steps import CheckContext, StepType, registry
from lms_core.errors import Problem

SCHEMA_DIR = Path(__file__).parent / "schema"
COURSE_SCHEMA_PATH = SCHEMA_DIR / "course.schema.json"
LESSON_SCHEMA_PATH = SCHEMA_DIR / "lesson.schema.json"
MANIFEST = "course.yaml"
MAX_STEPS = 120
_SLUG_RE = re.compile(r"[^a-z0-9]+")
#: Partner slugs that name pages of the partner portal (/partner/<slug>/) instead.
RESERVED_PARTNER_SLUGS = frozenset({"manage", "invitations"})


def reserved_partner_slug(slug: str) -> str | None:
    """Why ``slug`` cannot name a partner, or None: one wording for the package report,
    ``shiftwell partners add`` and ``courses import --partner``."""
    if slug not in RESERVED_PARTNER_SLUGS:
        return None
    return f"partner slug {slug!r} is reserved: the partner portal has a page at /partner/{slug}"


_STEP_COMMON = {
    "type": {"type": "string"},
    "id": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"},
    "required": {"type": "boolean"},
}


@cache
def course_schema() -> dict[str, Any]:
    return json.loads(COURSE_SCHEMA_PATH.read_text())


@cache
def lesson_schema() -> dict[str, Any]:
    return json.loads(LESSON_SCHEMA_PATH.read_text())


@dataclass
class ParsedStep:
    key: str
    type: str
    title: str
    required: bool
    max_score: float
    config: dict[str, Any]
    location: str
    explicit_id: bool = False


@dataclass
class ParsedLesson:
    key: str
    title: str
    minutes: int
    path: str
    steps: list[ParsedStep] = field(default_factory=list)


@dataclass
class ParsedCourse:
    """A package that passed every check: what the importer writes, all at once."""

    manifest: dict[str, Any]
    lessons: list[ParsedLesson]
    assets: dict[str, bytes]
    content_hash: str

    @property
    def slug(self) -> str:
        return str(self.manifest["slug"])

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def title(self) -> str:
        return str(self.manifest["title"])

    @property
    def partner_slug(self) -> str:
        partner = self.manifest["partner"]
        return partner if isinstance(partner, str) else partner["slug"]

    @property
    def steps(self) -> Iterator[ParsedStep]:
        for lesson in self.lessons:
            yield from lesson.steps


# -- YAML with line numbers -------------------------------------------------------------


class _YamlProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def load_yaml(text: str, path: str, first_line: int = 1) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML safely; return the data and the file line of every key and item.

    Anchors and aliases are refused: they add nothing to a course and are how a "billion
    laughs" document makes a few bytes expand into gigabytes.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): first_line}
        lines: dict[tuple[Any, ...], int] = {}
        _map_lines(node, (), lines, set(), path, first_line)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        raise _YamlProblem(
            Problem(
                f"YAML syntax error: {exc.problem or exc}",
                f"{path}:{line}",
                "check indentation and quote text that contains a colon",
            )
        ) from None
    except yaml.YAMLError as exc:
        raise _YamlProblem(
            Problem(f"YAML error: {exc}", f"{path}:{first_line}", "check the YAML syntax")
        ) from None
    finally:
        loader.dispose()
    return data, lines


def _map_lines(
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
    seen: set[int],
    file: str,
    first_line: int,
) -> None:
    if id(node) in seen:
        raise _YamlProblem(
            Problem(
                "YAML anchors and aliases (&name, *name) are not allowed",
                f"{file}:{first_line + node.start_mark.line}",
                "write the value out in full",
            )
        )
    seen.add(id(node))
    lines.setdefault(path, first_line + node.start_mark.line)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = first_line + key_node.start_mark.line
            _map_lines(value_node, (*path, key), lines, seen, file, first_line)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = first_line + item.start_mark.line
            _map_lines(item, (*path, index), lines, seen, file, first_line)


def _line_of(lines: dict[tuple[Any, ...], int], key: tuple[Any, ...]) -> int:
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key, 1)


def schema_problems(
    schema: dict[str, Any],
    data: Any,
    path: str,
    lines: dict[tuple[Any, ...], int],
    prefix: tuple[Any, ...] = (),
) -> list[Problem]:
    """JSON Schema errors as problems with a line, the key and a hint in plain words."""
    problems = []
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        key = (*prefix, *error.absolute_path)
        where = ".".join(str(part) for part in error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = (
                set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
            )
            names = ", ".join(sorted(allowed)) or "none"
            for extra in [k for k in error.instance if k not in allowed]:
                problems.append(
                    Problem(
                        f"{'.'.join(str(p) for p in (*error.absolute_path, extra))}: unknown key",
                        f"{path}:{_line_of(lines, (*key, extra))}",
                        f"remove it or check its spelling; allowed here: {names}",
                    )
                )
            continue
        message, hint = _explain(error)
        problems.append(
            Problem(
                f"{where}: {message}" if where else message,
                f"{path}:{_line_of(lines, key)}",
                hint,
            )
        )
    return problems


def _explain(error: ValidationError) -> tuple[str, str]:
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return f"{missing} is missing", f"add {missing}: (see docs/course-packages.md)"
    if kind == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {}))) or "none"
        return str(error.message), f"remove it or check its spelling; allowed keys: {allowed}"
    if kind == "type":
        expected = error.validator_value
        got = type(error.instance).__name__
        hint = f"give a {expected}"
        if expected == "string" and got in ("float", "int", "date", "datetime"):
            hint = 'put the value in quotes, e.g. version: "1.0.0"'
        elif expected == "string" and got in ("bool", "NoneType"):
            hint = "YAML reads yes/no/true/false/null as values: put the text in quotes"
        return f"expected a {expected}, found {got} {error.instance!r}", hint
    if kind == "pattern":
        return f"{error.instance!r} is not in the expected form", _pattern_hint(
            str(error.validator_value)
        )
    if kind == "enum":
        choices = ", ".join(str(v) for v in error.validator_value)
        return f"{error.instance!r} is not allowed", f"use one of: {choices}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "multipleOf"):
        return str(error.message), f"{kind}: {error.validator_value}"
    if kind in ("minItems", "maxItems", "minLength", "maxLength", "minProperties"):
        return str(error.message), f"{kind}: {error.validator_value}"
    if kind == "oneOf":
        return (
            "is neither a partner slug nor a partner with slug and name",
            "write partner: northbridge, or partner: with slug:, name: and settings:",
        )
    return str(error.message), "see docs/course-packages.md"


def _pattern_hint(pattern: str) -> str:
    if "\\.(0|" in pattern:
        return "a semantic version like 1.0.0"
    if pattern.startswith("^[a-z0-9](?:"):
        return "lower-case letters, digits and hyphens, e.g. four-minute-reset"
    if pattern.endswith("\\.md$"):
        return "a path to a .md file in the package, e.g. lessons/01-pause.md"
    if "png|jpe?g" in pattern:
        return "a PNG or JPEG file in the package"
    return f"must match {pattern}"


# -- the package ------------------------------------------------------------------------


def validate_package(package: PackageFiles) -> ParsedCourse:
    """Check everything; raise :class:`PackageInvalid` with every problem, or return it parsed."""
    problems: list[Problem] = []
    texts: dict[str, str] = {}
    for path, data in package.files.items():
        if media_type(path).startswith(("text/", "application/yaml")):
            try:
                texts[path] = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                problems.append(
                    Problem(
                        f"not UTF-8 text (byte {exc.start})",
                        path,
                        "save the file as UTF-8",
                    )
                )
        else:
            problem = signature_problem(path, data)
            if problem:
                problems.append(problem)
    if MANIFEST not in package.files:
        problems.append(
            Problem(
                "course.yaml is missing",
                package.source,
                "put course.yaml at the top of the package (see docs/course-packages.md)",
            )
        )
        raise PackageInvalid(package.source, problems)
    manifest, manifest_lines = _load_manifest(texts.get(MANIFEST), problems)
    lessons: list[ParsedLesson] = []
    lesson_paths = manifest.get("lessons") if isinstance(manifest, dict) else None
    if isinstance(manifest, dict):
        _check_manifest(manifest, manifest_lines, package, problems)
    if isinstance(lesson_paths, list):
        seen_keys: set[str] = set()
        for index, lesson_path in enumerate(lesson_paths):
            if not isinstance(lesson_path, str):
                continue
            where = f"{MANIFEST}:{_line_of(manifest_lines, ('lessons', index))}"
            if lesson_path not in package.files:
                problems.append(
                    Problem(
                        f"lesson {lesson_path} is not in the package",
                        where,
                        "check the path; it is relative to course.yaml",
                    )
                )
                continue
            if lesson_path not in texts:
                continue
            lesson = _parse_lesson(lesson_path, texts[lesson_path], package.files, problems)
            if lesson is None:
                continue
            if lesson.key in seen_keys:
                problems.append(
                    Problem(
                        f"two lessons have the id {lesson.key!r}",
                        lesson_path,
                        "give one of them another id: in its front matter",
                    )
                )
            seen_keys.add(lesson.key)
            lessons.append(lesson)
        total_steps = sum(len(lesson.steps) for lesson in lessons)
        if total_steps > MAX_STEPS:
            problems.append(
                Problem(
                    f"{total_steps} steps, more than the {MAX_STEPS} a course may have",
                    MANIFEST,
                    "split it into several courses",
                )
            )
    if problems:
        raise PackageInvalid(package.source, problems)
    assert isinstance(manifest, dict)
    lesson_files = {lesson.path for lesson in lessons}
    assets = {
        path: data
        for path, data in package.files.items()
        if path != MANIFEST and path not in lesson_files
    }
    return ParsedCourse(manifest, lessons, assets, package.content_hash())


def _load_manifest(
    text: str | None, problems: list[Problem]
) -> tuple[Any, dict[tuple[Any, ...], int]]:
    if text is None:
        return None, {}
    try:
        data, lines = load_yaml(text, MANIFEST)
    except _YamlProblem as exc:
        problems.append(exc.problem)
        return None, {}
    if not isinstance(data, dict):
        problems.append(
            Problem(
                "course.yaml must be a mapping of keys to values",
                f"{MANIFEST}:1",
                "start with slug:, version:, title: ... (see docs/course-packages.md)",
            )
        )
        return None, {}
    problems.extend(schema_problems(course_schema(), data, MANIFEST, lines))
    return data, lines


def _check_manifest(
    manifest: dict[str, Any],
    lines: dict[tuple[Any, ...], int],
    package: PackageFiles,
    problems: list[Problem],
) -> None:
    credit = manifest.get("credit")
    if isinstance(credit, dict) and isinstance(credit.get("amount"), int | float):
        where = f"{MANIFEST}:{_line_of(lines, ('credit',))}"
        if credit.get("type") == "none" and credit["amount"] != 0:
            problems.append(
                Problem("credit type none with an amount", where, "set amount: 0, or a type")
            )
        elif credit.get("type") not in (None, "none") and credit["amount"] <= 0:
            problems.append(
                Problem(
                    "credit without an amount",
                    where,
                    "give the amount, e.g. amount: 0.25 (contact hours)",
                )
            )
    partner = manifest.get("partner")
    partner_slug = partner.get("slug") if isinstance(partner, dict) else partner
    reserved = reserved_partner_slug(partner_slug) if isinstance(partner_slug, str) else None
    if reserved:
        key = ("partner", "slug") if isinstance(partner, dict) else ("partner",)
        problems.append(
            Problem(
                reserved,
                f"{MANIFEST}:{_line_of(lines, key)}",
                "choose another slug, e.g. the university's name",
            )
        )
    settings = partner.get("settings") if isinstance(partner, dict) else None
    if isinstance(settings, dict) and isinstance(settings.get("logo"), str):
        logo = settings["logo"]
        if logo not in package.files:
            problems.append(
                Problem(
                    f"partner logo {logo} is not in the package",
                    f"{MANIFEST}:{_line_of(lines, ('partner', 'settings', 'logo'))}",
                    "add the image or fix the path",
                )
            )


def _split_front_matter(text: str, path: str) -> tuple[str, str, int]:
    """(front matter, body, line number of the body's first line)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise _YamlProblem(
            Problem(
                "the lesson has no front matter",
                f"{path}:1",
                "start the file with ---, then title: and minutes:, then --- again",
            )
        )
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise _YamlProblem(
        Problem(
            "the front matter is never closed",
            f"{path}:1",
            "end the front matter with a line of three dashes: ---",
        )
    )


def _slugify(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")[:60].strip("-") or "step"


def _parse_lesson(
    path: str, text: str, files: dict[str, bytes], problems: list[Problem]
) -> ParsedLesson | None:
    try:
        front_text, body, body_line = _split_front_matter(text, path)
        front, lines = load_yaml(front_text, path, first_line=2)
    except _YamlProblem as exc:
        problems.append(exc.problem)
        return None
    if not isinstance(front, dict):
        problems.append(
            Problem(
                "the front matter must be keys and values", f"{path}:2", "add title: and minutes:"
            )
        )
        return None
    front_problems = schema_problems(lesson_schema(), front, path, lines)
    problems.extend(front_problems)
    if front_problems:
        return None
    stem = posixpath.splitext(posixpath.basename(path))[0]
    key = front.get("id") or _slugify(re.sub(r"^\d+[-_ ]*", "", stem) or stem)
    lesson = ParsedLesson(key, front["title"], front["minutes"], path)
    sections = list(_sections(body, front["title"]))
    if not sections:
        problems.append(
            Problem(
                "the lesson has no steps",
                f"{path}:{body_line}",
                "add at least one screen: a ## heading followed by its text",
            )
        )
        return lesson
    used: set[str] = set()
    for section in sections:
        step = _parse_step(lesson, section, path, body_line, files, problems)
        if step is None:
            continue
        if step.key in used and not step.explicit_id:
            base, number = step.key, 2
            while f"{base}-{number}" in used:
                number += 1
            step.key = f"{base}-{number}"
        elif step.key in used:
            problems.append(
                Problem(
                    f"two steps in this lesson have the id {step.key.split('/')[-1]!r}",
                    step.location,
                    "give one of them an id: in its step block",
                )
            )
        used.add(step.key)
        lesson.steps.append(step)
    return lesson


@dataclass
class _Section:
    title: str
    line: int  # 0-based line in the body of the heading (or the first line of the intro)
    body: str
    raw_body: str  # with the original line breaks, for line numbers
    body_start: int  # 0-based line in the body where raw_body starts
    block: str | None
    block_line: int | None  # 0-based line of the block's first YAML line
    blocks: int


def _sections(body: str, lesson_title: str) -> Iterator[_Section]:
    tokens = markdown.parse(body)
    lines = body.splitlines(keepends=True)
    starts: list[tuple[int, str]] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2" and token.level == 0 and token.map:
            title = markdown.plain_text(tokens[index + 1].content)
            starts.append((token.map[0], title))
    first = starts[0][0] if starts else len(lines)
    bounds: list[tuple[int, int, str, bool]] = []
    if "".join(lines[:first]).strip():
        bounds.append((0, first, lesson_title, False))
    for number, (start, title) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        bounds.append((start, end, title, True))
    for start, end, title, has_heading in bounds:
        fences = [
            t
            for t in tokens
            if t.type == "fence"
            and t.info.strip() == "step"
            and t.map
            and start <= t.map[0] < end
            and t.level == 0
        ]
        skip: set[int] = set()
        for fence in fences:
            assert fence.map
            skip.update(range(fence.map[0], fence.map[1]))
        content_start = start + 1 if has_heading else start
        # Step blocks become blank lines, so Markdown line numbers stay the file's.
        prose = "".join(
            "\n" if number in skip else line
            for number, line in enumerate(lines[content_start:end], content_start)
        )
        block = fences[0] if fences else None
        yield _Section(
            title=title,
            line=start,
            body=re.sub(r"\n{3,}", "\n\n", prose).strip("\n"),
            raw_body=prose,
            body_start=content_start,
            block=block.content if block else None,
            block_line=block.map[0] + 1 if block and block.map else None,
            blocks=len(fences),
        )


def _parse_step(
    lesson: ParsedLesson,
    section: _Section,
    path: str,
    body_line: int,
    files: dict[str, bytes],
    problems: list[Problem],
) -> ParsedStep | None:
    heading_location = f"{path}:{body_line + section.line}"
    if not section.title:
        problems.append(
            Problem("a heading without text", heading_location, "give the screen a title")
        )
        return None
    if section.blocks > 1:
        problems.append(
            Problem(
                f"the screen {section.title!r} has {section.blocks} step blocks",
                heading_location,
                "one ```step block per screen: start a new ## heading for the next one",
            )
        )
    data: dict[str, Any] = {"type": "content"}
    lines: dict[tuple[Any, ...], int] = {}
    block_first = body_line + (section.block_line or section.line)
    if section.block is not None:
        try:
            loaded, lines = load_yaml(section.block, path, first_line=block_first)
        except _YamlProblem as exc:
            problems.append(exc.problem)
            return None
        if not isinstance(loaded, dict):
            problems.append(
                Problem(
                    "a step block must be keys and values",
                    f"{path}:{block_first}",
                    "start it with type: and the step's keys",
                )
            )
            return None
        data = loaded
    step_types = registry()
    type_name = data.get("type")
    step_type: StepType | None = step_types.get(type_name) if isinstance(type_name, str) else None
    if step_type is None:
        problems.append(
            Problem(
                f"unknown step type {type_name!r}",
                f"{path}:{_line_of(lines, ('type',)) if lines else block_first}",
                f"use one of: {', '.join(step_types)}",
            )
        )
        return None
    own = {k: v for k, v in data.items() if k not in _STEP_COMMON}
    common_schema = {
        "type": "object",
        "properties": _STEP_COMMON,
        "required": ["type"],
    }
    found = schema_problems(common_schema, data, path, lines)
    found += schema_problems(step_type.schema, own, path, lines)
    problems.extend(found)
    if found:
        return None
    config = {**own, "body": section.body}
    ctx = CheckContext(path=path, line=block_first, assets=files, lines=lines)
    if section.body:
        body_ctx = CheckContext(path=path, line=body_line + section.body_start, assets=files)
        body_ctx.check_markdown(section.raw_body, base_line=body_line + section.body_start)
        problems.extend(body_ctx.problems)
    step_type.check(config, ctx)
    problems.extend(ctx.problems)
    step_id = data.get("id") or _slugify(section.title)
    return ParsedStep(
        key=f"{lesson.key}/{step_id}",
        type=step_type.name,
        title=section.title,
        required=bool(data.get("required", step_type.required_by_default)),
        max_score=step_type.max_score(config),
        config=config,
        location=heading_location,
        explicit_id="id" in data,
    )
