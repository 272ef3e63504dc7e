"""Deep Linking 2.0: an instructor picks courses and the LMS gets one link per course, each
opening its course (``custom.course``) and carrying a gradebook column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lms_core import audit
from lti.tool import CONTEXT, DEEP_LINKING_SETTINGS, ShiftwellMessageLaunch, launch_url

RESOURCE_LINK = "ltiResourceLink"
SCORE_MAXIMUM = 100


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


@dataclass(frozen=True)
class DeepLinkRequest:
    """What the LMS asked for (LTI-DL 2.0 §4.4.1), in our terms."""

    launch_id: str
    return_url: str
    accept_types: tuple[str, ...]
    accept_multiple: bool
    accept_lineitem: bool
    presentation_targets: tuple[str, ...]
    title: str | None
    context_title: str | None

    @property
    def accepts_resource_links(self) -> bool:
        return RESOURCE_LINK in self.accept_types

    @property
    def presentation(self) -> str | None:
        """Where links open, when the LMS cannot frame them: "window"."""
        if "iframe" in self.presentation_targets or not self.presentation_targets:
            return None
        return "window" if "window" in self.presentation_targets else None


def request_from(launch: ShiftwellMessageLaunch) -> DeepLinkRequest:
    claims = launch.claims
    settings = claims.get(DEEP_LINKING_SETTINGS) or {}
    context = claims.get(CONTEXT) or {}
    accept_types = settings.get("accept_types")
    targets = settings.get("accept_presentation_document_targets")
    return DeepLinkRequest(
        launch_id=launch.get_launch_id(),
        return_url=str(settings.get("deep_link_return_url")),
        accept_types=tuple(t for t in accept_types if isinstance(t, str))
        if isinstance(accept_types, list)
        else (),
        accept_multiple=_flag(settings.get("accept_multiple"), True),
        # LTI-DL 2.0 §4.4.1 accept_lineitem: absent means the LMS may take one.
        accept_lineitem=_flag(settings.get("accept_lineitem"), True),
        presentation_targets=tuple(t for t in targets if isinstance(t, str))
        if isinstance(targets, list)
        else (),
        title=settings.get("title") if isinstance(settings.get("title"), str) else None,
        context_title=context.get("title") if isinstance(context.get("title"), str) else None,
    )


class CourseLink(DeepLinkResource):
    """An ``ltiResourceLink`` content item with the course summary as its text and, when
    the LMS cannot frame it, a new-window presentation."""

    _text: str | None = None
    _window: bool = False

    def set_text(self, value: str | None) -> CourseLink:
        self._text = value
        return self

    def open_in_window(self) -> CourseLink:
        self._window = True
        return self

    def to_dict(self) -> dict[str, object]:
        item = super().to_dict()
        if self._text:
            item["text"] = self._text
        if self._window:
            item["window"] = {"targetName": "_blank"}
        return item


def content_items(request: DeepLinkRequest, courses: list[Any]) -> list[CourseLink]:
    items = []
    for course in courses:
        link = (
            CourseLink()
            .set_title(course.title)
            .set_url(launch_url())
            .set_custom_params({"course": course.slug})
            .set_text(course.summary or None)
        )
        if request.accept_lineitem:
            link.set_lineitem(
                LineItem()
                .set_score_maximum(SCORE_MAXIMUM)
                .set_label(course.title)
                .set_resource_id(course.slug)
                .set_tag("shiftwell")
            )
        if request.presentation == "window":
            link.open_in_window()
        items.append(link)
    return items


def response_jwt(launch: ShiftwellMessageLaunch, courses: list[Any], tenant_id: int) -> str:
    """The signed LtiDeepLinkingResponse (an empty list means "nothing chosen")."""
    request = request_from(launch)
    items = content_items(request, courses)
    token = launch.get_deep_link().get_response_jwt(items)
    audit.record(
        "lti.deep_link_returned",
        tenant=tenant_id,
        target_type="lti_deep_link",
        target_id=launch.get_launch_id(),
        courses=[c.slug for c in courses],
    )
    return token
