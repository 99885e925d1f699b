"""What every judge shares: the grading request, the prompt and strict output parsing.

A judge must answer with exactly {"score": number in [0, 1], "label": one of the
rubric's labels, "rationale": string}. Anything else (extra keys, a label the
rubric does not list, a score out of range, prose around the JSON) is a
MalformedOutput, which the grading service retries and finally records as a
failed grade with the parser's message.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from metrics.quality.models import Rubric

MAX_FIELD_CHARS = 6000
MAX_RATIONALE_CHARS = 2000


class MalformedOutput(Exception):
    """The judge answered, but not with a valid grade."""


class JudgeUnavailable(Exception):
    """The judge could not be reached or refused the call (network, auth, rate limit)."""


@dataclass(frozen=True)
class GradeRequest:
    question: str
    answer: str
    context: list[str] = field(default_factory=list)
    reference: str = ""


@dataclass(frozen=True)
class JudgeVerdict:
    score: float
    label: str
    rationale: str
    input_tokens: int = 0
    output_tokens: int = 0


def context_texts(retrieval: Any) -> list[str]:
    """Chunk texts from an event's `retrieval` list (keys text, content or chunk)."""
    texts: list[str] = []
    if not isinstance(retrieval, list):
        return texts
    for chunk in retrieval:
        if isinstance(chunk, str):
            texts.append(chunk)
        elif isinstance(chunk, dict):
            for key in ("text", "content", "chunk", "page_content"):
                value = chunk.get(key)
                if isinstance(value, str) and value:
                    texts.append(value)
                    break
    return texts


def grade_schema(rubric: Rubric) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "label": {"type": "string", "enum": list(rubric.labels)},
            "rationale": {"type": "string"},
        },
        "required": ["score", "label", "rationale"],
        "additionalProperties": False,
    }


def _clip(text: str) -> str:
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + " [...]"


def prompt_build(rubric: Rubric, request: GradeRequest) -> tuple[str, str]:
    """(system, user) messages for any chat judge."""
    system = (
        "You are a strict evaluator of an AI assistant's answers. "
        f"Rubric: {rubric.title} (version {rubric.version}).\n{rubric.instructions}\n"
        'Reply with JSON only: {"score": <0..1>, "label": <one of '
        + ", ".join(rubric.labels)
        + '>, "rationale": <one or two sentences>}.'
    )
    parts = [f"QUESTION:\n{_clip(request.question)}"]
    if request.context:
        joined = "\n---\n".join(request.context)
        parts.append(f"CONTEXT:\n{_clip(joined)}")
    if request.reference:
        parts.append(f"REFERENCE:\n{_clip(request.reference)}")
    parts.append(f"ANSWER:\n{_clip(request.answer)}")
    return system, "\n\n".join(parts)


def verdict_parse(raw: Any, rubric: Rubric) -> tuple[float, str, str]:
    """Validate a judge's output (a JSON string or an already-decoded object)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (json.JSONDecodeError, ValueError) as exc:
            raise MalformedOutput(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise MalformedOutput("expected a JSON object")
    keys = set(raw)
    if keys != {"score", "label", "rationale"}:
        raise MalformedOutput(
            f"expected keys score, label, rationale; got {', '.join(sorted(keys)) or 'none'}"
        )
    score = raw["score"]
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise MalformedOutput("score must be a number")
    if not 0 <= score <= 1:
        raise MalformedOutput(f"score {score} is outside [0, 1]")
    label = raw["label"]
    if not isinstance(label, str) or label not in rubric.labels:
        raise MalformedOutput(f"label {label!r} is not one of {', '.join(rubric.labels)}")
    rationale = raw["rationale"]
    if not isinstance(rationale, str):
        raise MalformedOutput("rationale must be a string")
    return float(score), label, rationale[:MAX_RATIONALE_CHARS]
