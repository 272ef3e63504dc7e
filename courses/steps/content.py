"""Content: text and media — images with alt text, video with captions, audio with transcripts."""

from __future__ import annotations

from typing import Any, ClassVar

from courses.steps import LESSON, CheckContext, StepType

_PATH = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", "maxLength": 200}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 20000}


class ContentStep(StepType):
    """A screen to read, look at, watch or listen to."""

    label = "Content"
    template = "courses/steps/content.html"
    verb = "experienced"
    activity_type = LESSON
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "media": {
                "type": "array",
                "maxItems": 6,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "image": _PATH,
                        "video": _PATH,
                        "audio": _PATH,
                        "alt": _TEXT,
                        "caption": _TEXT,
                        "captions": _PATH,
                        "title": _TEXT,
                        "transcript": _TEXT,
                    },
                },
            }
        },
    }

    def check(self, data: dict[str, Any], ctx: CheckContext) -> None:
        if not data.get("body", "").strip() and not data.get("media"):
            ctx.problem(
                "the screen is empty",
                "write some text under the heading or add media",
            )
        for index, item in enumerate(data.get("media") or []):
            key = ("media", index)
            kinds = [kind for kind in ("image", "video", "audio") if kind in item]
            if len(kinds) != 1:
                ctx.problem(
                    "each media item is exactly one of image, video or audio",
                    "split it into one item per file",
                    *key,
                )
                continue
            kind = kinds[0]
            ctx.check_asset(item[kind], (f"{kind}/",), "add the file under assets/", *key, kind)
            if kind == "image" and not item.get("alt", "").strip():
                ctx.problem(
                    "image without alt text",
                    "add alt: a short description of what the image shows",
                    *key,
                )
            if kind == "video":
                if not item.get("captions"):
                    ctx.problem(
                        "video without captions",
                        "add captions: assets/NAME.vtt (WebVTT) for learners who cannot hear it",
                        *key,
                    )
                else:
                    ctx.check_asset(item["captions"], ("text/vtt",), "add the .vtt file", *key)
                    data_ = ctx.assets.get(item["captions"], b"")
                    if data_ and not data_.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"):
                        ctx.problem(
                            f"{item['captions']} is not WebVTT",
                            "a caption file starts with the line WEBVTT",
                            *key,
                            "captions",
                        )
            if kind == "audio" and not item.get("transcript", "").strip():
                ctx.problem(
                    "audio without a transcript",
                    "add transcript: the words spoken, for learners who cannot hear it",
                    *key,
                )
            if kind in ("video", "audio") and not item.get("title", "").strip():
                ctx.problem(f"{kind} without a title", "add title: what it is", *key)
            for text_key in ("caption", "transcript"):
                if item.get(text_key):
                    ctx.check_markdown(item[text_key], *key, text_key)
