"""Guided practice: a timed micro-practice (box breathing, a body scan) with a text alternative."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from courses.steps import SIMULATION, CheckContext, Evaluation, StepType


class GuidedPracticeStep(StepType):
    """A short practice with a timer that can be paused, and the same guidance as text."""

    label = "Guided practice"
    template = "courses/steps/guided_practice.html"
    verb = "experienced"
    activity_type = SIMULATION
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["duration_seconds", "instructions"],
        "properties": {
            # Whole half-minutes: the no-script timer is a CSS animation of a fixed length.
            "duration_seconds": {
                "type": "integer",
                "minimum": 30,
                "maximum": 600,
                "multipleOf": 30,
            },
            "instructions": {"type": "string", "minLength": 10, "maxLength": 5000},
            "phases": {
                "type": "array",
                "minItems": 1,
                "maxItems": 8,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["label", "seconds"],
                    "properties": {
                        "label": {"type": "string", "minLength": 1, "maxLength": 80},
                        "seconds": {"type": "integer", "minimum": 1, "maximum": 60},
                    },
                },
            },
        },
    }

    def check(self, data: dict[str, Any], ctx: CheckContext) -> None:
        ctx.check_markdown(data["instructions"], "instructions")

    def evaluate(
        self,
        config: Mapping[str, Any],
        form: Mapping[str, list[str]],
        previous: Mapping[str, Any] | None,
    ) -> Evaluation:
        return Evaluation(response={"done": True}, completed=True)
