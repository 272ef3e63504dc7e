"""Scenario: branching choices with consequences (a difficult conversation, a handover)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from courses import markdown
from courses.steps import INTERACTION, AnswerError, CheckContext, Evaluation, StepType

_ID = {"type": "string", "pattern": "^[a-z0-9_-]{1,40}$"}


class ScenarioStep(StepType):
    """A story in decision points: each choice shows its consequence and leads on."""

    label = "Scenario"
    template = "courses/steps/scenario.html"
    verb = "answered"
    activity_type = INTERACTION
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["start", "nodes"],
        "properties": {
            "start": _ID,
            "nodes": {
                "type": "object",
                "minProperties": 2,
                "maxProperties": 30,
                "propertyNames": _ID,
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["text"],
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 120},
                        "text": {"type": "string", "minLength": 1, "maxLength": 3000},
                        "choices": {
                            "type": "array",
                            "maxItems": 5,
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["id", "text", "consequence"],
                                "properties": {
                                    "id": _ID,
                                    "text": {"type": "string", "minLength": 1, "maxLength": 500},
                                    "consequence": {
                                        "type": "string",
                                        "minLength": 1,
                                        "maxLength": 2000,
                                    },
                                    "next": _ID,
                                    "best": {"type": "boolean"},
                                },
                            },
                        },
                    },
                },
            },
        },
    }

    def check(self, data: dict[str, Any], ctx: CheckContext) -> None:
        nodes: dict[str, Any] = data["nodes"]
        if data["start"] not in nodes:
            ctx.problem(
                f"start: {data['start']!r} is not one of the nodes",
                f"use one of: {', '.join(nodes)}",
                "start",
            )
            return
        for node_id, node in nodes.items():
            ctx.check_markdown(node["text"], "nodes", node_id, "text")
            ids = [choice["id"] for choice in node.get("choices") or []]
            if len(set(ids)) != len(ids):
                ctx.problem(
                    "two choices share an id",
                    "give each choice its own id",
                    "nodes",
                    node_id,
                    "choices",
                )
            for index, choice in enumerate(node.get("choices") or []):
                target = choice.get("next")
                if target is not None and target not in nodes:
                    ctx.problem(
                        f"next: {target!r} is not one of the nodes",
                        f"use one of: {', '.join(nodes)}, or leave next out to end here",
                        "nodes",
                        node_id,
                        "choices",
                        index,
                        "next",
                    )
        # Every path must end: a learner must never go round in circles.
        state: dict[str, int] = {}

        def visit(node_id: str, trail: tuple[str, ...]) -> None:
            if state.get(node_id) == 2:
                return
            if state.get(node_id) == 1:
                ctx.problem(
                    f"the scenario can loop: {' → '.join((*trail, node_id))}",
                    "make every path lead to an ending (a node without choices)",
                    "nodes",
                    node_id,
                )
                return
            state[node_id] = 1
            for choice in nodes[node_id].get("choices") or []:
                if choice.get("next") in nodes:
                    visit(choice["next"], (*trail, node_id))
            state[node_id] = 2

        visit(data["start"], ())
        for node_id in nodes:
            if node_id not in state:
                ctx.problem(
                    f"node {node_id!r} cannot be reached from start",
                    "lead a choice to it with next:, or remove it",
                    "nodes",
                    node_id,
                )

    def node_interaction(self, node: Mapping[str, Any]) -> dict[str, Any]:
        choices = node.get("choices") or []
        best = [choice["id"] for choice in choices if choice.get("best")]
        definition: dict[str, Any] = {
            "interactionType": "choice",
            "choices": [
                {"id": choice["id"], "description": {"en-US": markdown.plain_text(choice["text"])}}
                for choice in choices
            ],
        }
        if best:
            definition["correctResponsesPattern"] = best
        return definition

    def current_node(
        self, config: Mapping[str, Any], response: Mapping[str, Any] | None
    ) -> str | None:
        if not response:
            return str(config["start"])
        return response.get("node")

    def answerable(self, config: Mapping[str, Any], response: Mapping[str, Any] | None) -> bool:
        return not (response and response.get("done"))

    def evaluate(
        self,
        config: Mapping[str, Any],
        form: Mapping[str, list[str]],
        previous: Mapping[str, Any] | None,
    ) -> Evaluation:
        node_id = self.current_node(config, previous)
        if node_id is None:
            raise AnswerError("choice", "This scenario is finished.")
        node = config["nodes"][node_id]
        choices = {choice["id"]: choice for choice in node.get("choices") or []}
        picked = (form.get("choice") or [""])[0]
        if picked not in choices:
            raise AnswerError("choice", "Choose what you would do.")
        choice = choices[picked]
        target = choice.get("next")
        done = target is None or not config["nodes"][target].get("choices")
        path = [*(previous or {}).get("path", []), {"node": node_id, "choice": picked}]
        has_best = any(c.get("best") for c in choices.values())
        title = node.get("title") or node_id
        return Evaluation(
            response={"path": path, "node": target, "done": done},
            completed=done,
            success=bool(choice.get("best")) if has_best else None,
            xapi_response=picked,
            interaction=self.node_interaction(node),
            part=(node_id, str(title)),
        )
