"""The OpenAI-compatible judge (OpenAI, vLLM, Ollama, LiteLLM...) via the official client."""

from __future__ import annotations

import openai

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


class OpenAIJudge:
    kind = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout_s: float = 60) -> None:
        self.model = model
        self.client = openai.OpenAI(
            base_url=base_url or None,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=0,  # the grading service owns retries and counts attempts
        )

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def grade(self, rubric: Rubric, request: GradeRequest) -> JudgeVerdict:
        system, user = prompt_build(rubric, request)
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                temperature=0,
                max_tokens=400,
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": "grade",
                        "strict": True,
                        "schema": grade_schema(rubric),
                    },
                },
            )
        except openai.APIError as exc:
            raise JudgeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        usage = response.usage
        input_tokens = usage.prompt_tokens if usage else 0
        output_tokens = usage.completion_tokens if usage else 0
        if not response.choices:
            raise MalformedOutput("no choices in the response")
        content = response.choices[0].message.content or ""
        try:
            score, label, rationale = verdict_parse(content, rubric)
        except MalformedOutput as exc:
            exc.input_tokens = input_tokens  # type: ignore[attr-defined]
            exc.output_tokens = output_tokens  # type: ignore[attr-defined]
            raise
        return JudgeVerdict(score, label, rationale, input_tokens, output_tokens)
