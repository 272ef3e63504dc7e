"""Reflection: private free text, seen by the learner alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from courses.steps import INTERACTION, AnswerError, CheckContext, Evaluation, StepType


class ReflectionStep(StepType):
    """A question to think about and, if the learner wishes, write down for themselves."""

    label = "Reflection"
    template = "courses/steps/reflection.html"
    verb = "answered"
    activity_type = INTERACTION
    private = True
    # Writing is an invitation, not a test: a learner may skip it unless the package says.
    required_by_default = False
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "string", "minLength": 3, "maxLength": 2000},
            "max_length": {"type": "integer", "minimum": 50, "maximum": 10000},
        },
    }

    def check(self, data: dict[str, Any], ctx: CheckContext) -> None:
        ctx.check_markdown(data["prompt"], "prompt")

    def interaction(self, config: Mapping[str, Any]) -> dict[str, Any] | None:
        return {"interactionType": "long-fill-in"}

    def evaluate(
        self,
        config: Mapping[str, Any],
        form: Mapping[str, list[str]],
        previous: Mapping[str, Any] | None,
    ) -> Evaluation:
        text = (form.get("text") or [""])[0].replace("\r\n", "\n").strip()
        limit = int(config.get("max_length", 4000))
        if not text:
            raise AnswerError("text", "Write a few words before saving, or skip this step.")
        if len(text) > limit:
            raise AnswerError("text", f"Keep it under {limit} characters; it has {len(text)} now.")
        # The text is stored for the learner; xapi_response stays None: it never leaves.
        return Evaluation(
            response={"text": text},
            completed=True,
            interaction=self.interaction(config),
        )
