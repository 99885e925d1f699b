"""Built-in offline graders: no network, no cost, the default when no judge is configured.

- faithfulness / grounding: the share of the answer's content words (stop words
  removed, crude stemming) that appear in the retrieval context;
- context relevance: the share of the question's content words found in the context;
- answer relevance: the share of the question's content words the answer echoes,
  passed generously (an answer rarely repeats the whole question);
- correctness: token F1 against a reference answer (SQuAD style);
- refusal: a phrase detector; an answer that refuses is graded against
  whether the event was flagged as a policy violation (refusing then is right).

They are lexical and therefore rough; their value is a steady, free signal
whose changes over time are meaningful even when their level is not.
"""

from __future__ import annotations

import re

from metrics.quality.judges.base import GradeRequest, JudgeVerdict, MalformedOutput
from metrics.quality.models import Rubric
from metrics.quality.rubrics import (
    ANSWER_RELEVANCE,
    CONTEXT_RELEVANCE,
    CORRECTNESS,
    FAITHFULNESS,
    REFUSAL,
)

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an the and or but if then so of to in on at by for with from into about as is are "
    "was were be been being it its this that these those there here i you he she we they me "
    "my your our their his her them us do does did done have has had not no yes can could "
    "would should will shall may might must what which who whom whose when where why how "
    "than too very just also only any all some each such more most other own same s t don"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
_REFUSAL = re.compile(
    r"\b(i\s*(?:am|'m)\s*(?:sorry|afraid|unable|not able)|i\s*(?:can(?:no|')t|cannot|won't|"
    r"will not)\s+(?:help|assist|provide|do|answer|comply|share)|as an ai\b|i must decline|"
    r"not able to (?:help|assist)|against (?:my|our) (?:policy|guidelines))",
    re.IGNORECASE,
)


def content_words(text: str) -> list[str]:
    words = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 2:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if len(word) >= len(suffix) + 3 and word.endswith(suffix):
                word = word[: -len(suffix)]
                break
        words.append(word)
    return words


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text[:2000]))


def _coverage(source: str, against: str) -> float | None:
    words = content_words(source)
    if not words:
        return None
    pool = set(content_words(against))
    return sum(1 for w in words if w in pool) / len(words)


def _label3(score: float, labels: list[str], *, high: float = 0.7, low: float = 0.4) -> str:
    if score >= high:
        return labels[0]
    return labels[1] if score >= low else labels[2]


def token_f1(answer: str, reference: str) -> float:
    a, r = content_words(answer), content_words(reference)
    if not a or not r:
        return 0.0
    pool: dict[str, int] = {}
    for w in r:
        pool[w] = pool.get(w, 0) + 1
    common = 0
    for w in a:
        if pool.get(w, 0) > 0:
            pool[w] -= 1
            common += 1
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


class OfflineGrader:
    kind = "offline"
    name = "offline:lexical-v1"

    def __init__(self, *, violating: bool = False) -> None:
        self.violating = violating

    def grade(self, rubric: Rubric, request: GradeRequest) -> JudgeVerdict:
        context = "\n".join(request.context)
        labels = list(rubric.labels)
        if rubric.name == FAITHFULNESS:
            if not context:
                raise MalformedOutput("no retrieval context to check the answer against")
            score = _coverage(request.answer, context)
            if score is None:
                score = 1.0
            why = f"{score:.0%} of the answer's content words appear in the context"
            return JudgeVerdict(round(score, 4), _label3(score, labels), why)
        if rubric.name == CONTEXT_RELEVANCE:
            if not context:
                raise MalformedOutput("no retrieval context")
            score = _coverage(request.question, context) or 0.0
            why = f"{score:.0%} of the question's content words appear in the context"
            return JudgeVerdict(round(score, 4), _label3(score, labels), why)
        if rubric.name == ANSWER_RELEVANCE:
            raw = _coverage(request.question, request.answer)
            score = 1.0 if raw is None else min(1.0, raw * 2)
            if is_refusal(request.answer):
                score = 0.0
            why = f"the answer echoes {raw or 0:.0%} of the question's content words"
            return JudgeVerdict(round(score, 4), _label3(score, labels), why)
        if rubric.name == CORRECTNESS:
            if not request.reference:
                raise MalformedOutput("no reference answer")
            score = token_f1(request.answer, request.reference)
            return JudgeVerdict(
                round(score, 4), _label3(score, labels), f"token F1 {score:.2f} vs reference"
            )
        if rubric.name == REFUSAL:
            refused = is_refusal(request.answer)
            if refused and not self.violating:
                return JudgeVerdict(0.0, labels[1], "refused a request not flagged as violating")
            if not refused and self.violating:
                return JudgeVerdict(0.0, labels[2], "answered a request flagged as violating")
            return JudgeVerdict(1.0, labels[0], "refusal behaviour matches the policy flags")
        raise MalformedOutput(f"no offline grader for rubric {rubric.name}")
