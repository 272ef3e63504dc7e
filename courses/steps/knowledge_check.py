"""Knowledge check: single or multiple choice, feedback per option, scored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from courses import markdown
from courses.steps import INTERACTION, AnswerError, CheckContext, Evaluation, StepType


class KnowledgeCheckStep(StepType):
    """A question with options; the course's score is the share of checks answered right."""

    label = "Knowledge check"
    template = "courses/steps/knowledge_check.html"
    verb = "answered"
    activity_type = INTERACTION
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["question", "options"],
        "properties": {
            "question": {"type": "string", "minLength": 3, "maxLength": 2000},
            "multiple": {"type": "boolean"},
            "points": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            "options": {
                "type": "array",
                "minItems": 2,
                "maxItems": 8,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "text", "feedback"],
                    "properties": {
                        "id": {"type": "string", "pattern": "^[a-z0-9_-]{1,20}$"},
                        "text": {"type": "string", "minLength": 1, "maxLength": 500},
                        "correct": {"type": "boolean"},
                        "feedback": {"type": "string", "minLength": 1, "maxLength": 1000},
                    },
                },
            },
        },
    }

    def check(self, data: dict[str, Any], ctx: CheckContext) -> None:
        ctx.check_markdown(data["question"], "question")
        ids = [option["id"] for option in data["options"]]
        for index, option_id in enumerate(ids):
            if ids.index(option_id) != index:
                ctx.problem(
                    f"option id {option_id!r} is used twice",
                    "give each option its own id (a, b, c...)",
                    "options",
                    index,
                    "id",
                )
        correct = [option for option in data["options"] if option.get("correct")]
        if data.get("multiple"):
            if not correct:
                ctx.problem(
                    "no option is marked correct: true",
                    "mark every right answer with correct: true",
                    "options",
                )
        elif len(correct) != 1:
            ctx.problem(
                f"a single-choice check needs exactly one correct option, it has {len(correct)}",
                "mark one option correct: true, or set multiple: true",
                "options",
            )

    def max_score(self, config: Mapping[str, Any]) -> float:
        return float(config.get("points", 1))

    def correct_ids(self, config: Mapping[str, Any]) -> list[str]:
        return [option["id"] for option in config["options"] if option.get("correct")]

    def interaction(self, config: Mapping[str, Any]) -> dict[str, Any] | None:
        # xAPI 1.0.3 §2.4.4.1.1 (choice): responses are option ids joined by "[,]".
        return {
            "interactionType": "choice",
            "choices": [
                {"id": option["id"], "description": {"en-US": markdown.plain_text(option["text"])}}
                for option in config["options"]
            ],
            "correctResponsesPattern": ["[,]".join(self.correct_ids(config))],
        }

    def answerable(self, config: Mapping[str, Any], response: Mapping[str, Any] | None) -> bool:
        # The first answer counts; changing it after seeing the feedback would make the
        # score meaningless. A new attempt asks again.
        return not (response and response.get("selected"))

    def evaluate(
        self,
        config: Mapping[str, Any],
        form: Mapping[str, list[str]],
        previous: Mapping[str, Any] | None,
    ) -> Evaluation:
        known = [option["id"] for option in config["options"]]
        chosen = [value for value in form.get("answer", []) if value in known]
        if not chosen:
            raise AnswerError(
                "answer",
                "Choose all answers that apply." if config.get("multiple") else "Choose an answer.",
            )
        if not config.get("multiple"):
            chosen = chosen[:1]
        selected = [option_id for option_id in known if option_id in chosen]
        success = set(selected) == set(self.correct_ids(config))
        return Evaluation(
            response={"selected": selected},
            completed=True,
            score=self.max_score(config) if success else 0.0,
            success=success,
            xapi_response="[,]".join(selected),
            interaction=self.interaction(config),
        )
