"""The Anthropic judge via the official client: a forced tool call carries the grade."""

from __future__ import annotations

from typing import Any

import anthropic

from metrics.quality.judges.base import (
    GradeRequest,
    JudgeUnavailable,
    JudgeVerdict,
    MalformedOutput,
    grade_schema,
    prompt_build,
    verdict_parse,
)
from metrics.quality.models import Rubric

TOOL_NAME = "record_grade"


class AnthropicJudge:
    kind = "anthropic"

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout_s: float = 60) -> None:
        self.model = model
        self.client = anthropic.Anthropic(
            base_url=base_url or None,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=0,
        )

    @property
    def name(self) -> str:
        return f"anthropic:{self.model}"

    def grade(self, rubric: Rubric, request: GradeRequest) -> JudgeVerdict:
        system, user = prompt_build(rubric, request)
        try:
            response = self.client.messages.create(
                model=self.model,
                max_tokens=400,
                system=system,
                messages=[{"role": "user", "content": user}],
                tools=[
                    {
                        "name": TOOL_NAME,
                        "description": "Record the grade of the answer under the rubric.",
                        "input_schema": grade_schema(rubric),
                    }
                ],
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        except anthropic.APIError as exc:
            raise JudgeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        input_tokens = response.usage.input_tokens if response.usage else 0
        output_tokens = response.usage.output_tokens if response.usage else 0
        payload: Any = None
        for block in response.content:
            if block.type == "tool_use" and block.name == TOOL_NAME:
                payload = block.input
                break
            if block.type == "text" and payload is None:
                payload = block.text  # a judge that ignored the tool: parse its text strictly
        try:
            if payload is None:
                raise MalformedOutput("no tool call and no text in the response")
            score, label, rationale = verdict_parse(payload, rubric)
        except MalformedOutput as exc:
            exc.input_tokens = input_tokens  # type: ignore[attr-defined]
            exc.output_tokens = output_tokens  # type: ignore[attr-defined]
            raise
        return JudgeVerdict(score, label, rationale, input_tokens, output_tokens)
