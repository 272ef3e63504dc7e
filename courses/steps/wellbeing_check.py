"""Wellbeing check-in: a private answer on a short scale ("How are you arriving today?")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from courses.steps import INTERACTION, AnswerError, CheckContext, Evaluation, StepType

DEFAULT_SCALE = ("Very low", "Low", "Okay", "Good", "Very good")


class WellbeingCheckStep(StepType):
    """A question answered on a labelled scale, for the learner's own awareness.

    Like a reflection it is private: the answer is kept for the learner, never sent in
    an event or an xAPI statement. The hospital sees only how answers fall across at
    least five people (``aggregate_field``), never one person's answer.
    """

    label = "Wellbeing check-in"
    template = "courses/steps/wellbeing_check.html"
    verb = "answered"
    activity_type = INTERACTION
    private = True
    required_by_default = False
    #: The response key whose values reports may count across a group (never per person).
    aggregate_field: ClassVar[str | None] = "value"
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["question"],
        "properties": {
            "question": {"type": "string", "minLength": 3, "maxLength": 500},
            "scale": {
                "type": "array",
                "minItems": 3,
                "maxItems": 7,
                "items": {"type": "string", "minLength": 1, "maxLength": 60},
            },
        },
    }

    def check(self, data: dict[str, Any], ctx: CheckContext) -> None:
        ctx.check_markdown(data["question"], "question")
        scale = data.get("scale") or []
        if len(set(scale)) != len(scale):
            ctx.problem(
                "a label appears twice in the scale", "give each point its own label", "scale"
            )

    def scale(self, config: Mapping[str, Any]) -> Sequence[str]:
        return tuple(config.get("scale") or DEFAULT_SCALE)

    def aggregate_labels(self, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(stored value, label) of every point of the scale, lowest first."""
        return [(str(n), label) for n, label in enumerate(self.scale(config), 1)]

    def interaction(self, config: Mapping[str, Any]) -> dict[str, Any] | None:
        return {
            "interactionType": "likert",
            "scale": [
                {"id": str(n), "description": {"en-US": label}}
                for n, label in enumerate(self.scale(config), 1)
            ],
        }

    def evaluate(
        self,
        config: Mapping[str, Any],
        form: Mapping[str, list[str]],
        previous: Mapping[str, Any] | None,
    ) -> Evaluation:
        raw = (form.get("value") or [""])[0]
        points = len(self.scale(config))
        if not raw.isdigit() or not 1 <= int(raw) <= points:
            raise AnswerError("value", "Choose the answer closest to how you feel, or skip.")
        # No xapi_response: like a reflection, the answer never leaves the learner.
        return Evaluation(
            response={"value": int(raw)}, completed=True, interaction=self.interaction(config)
        )
