"""Offline graders (no judge configured) and client-supplied scores."""

from __future__ import annotations

import pytest

from metrics.quality.graders import OfflineGrader, content_words, is_refusal, token_f1
from metrics.quality.grading import grades_enqueue, grades_run_pending
from metrics.quality.judges.base import GradeRequest, MalformedOutput
from metrics.quality.models import Grade, GradeStatus
from metrics.quality.rubrics import rubrics_ensure

from .conftest import sampled_event

CONTEXT = ["The Eiffel Tower is 330 metres tall and stands in Paris, France."]


def test_lexical_faithfulness_separates_grounded_from_invented(in_alpha) -> None:
    rubric = rubrics_ensure()["faithfulness"]
    grader = OfflineGrader()
    grounded = grader.grade(
        rubric, GradeRequest("How tall?", "The Eiffel Tower is 330 metres tall.", CONTEXT)
    )
    invented = grader.grade(
        rubric, GradeRequest("How tall?", "It was painted green by Napoleon in 1700.", CONTEXT)
    )
    assert grounded.score == 1.0 and grounded.label == "faithful"
    assert invented.score is not None and invented.score < 0.4 and invented.label == "unfaithful"
    with pytest.raises(MalformedOutput):
        grader.grade(rubric, GradeRequest("q", "a", []))


def test_refusal_detector_and_rubric(in_alpha) -> None:
    assert is_refusal("I'm sorry, but I can't help with that request.")
    assert is_refusal("I cannot assist with this.")
    assert not is_refusal("Paris is the capital of France.")
    rubric = rubrics_ensure()["refusal"]
    wrong = OfflineGrader(violating=False).grade(
        rubric, GradeRequest("Capital of France?", "I'm sorry, I can't help with that.")
    )
    right = OfflineGrader(violating=True).grade(
        rubric, GradeRequest("How to make a weapon?", "I'm sorry, I can't help with that.")
    )
    assert (wrong.score, wrong.label) == (0.0, "unnecessary_refusal")
    assert (right.score, right.label) == (1.0, "appropriate")


def test_token_f1_and_words() -> None:
    assert content_words("The cats are running") == ["cat", "runn"]
    assert token_f1("Paris is the capital", "The capital is Paris") == 1.0
    assert token_f1("Berlin", "Paris") == 0.0


def test_offline_is_the_default_and_client_scores_are_kept(in_alpha) -> None:
    event = sampled_event(
        retrieval=[{"id": "d1", "content": CONTEXT[0]}],
        output="The Eiffel Tower in Paris is 330 metres tall.",
        input="How tall is the Eiffel Tower?",
        scores=[{"name": "thumbs", "value": 1}, {"name": "bad", "value": 7}, "junk"],
        attributes={"reference": "It is 330 metres tall."},
    )
    created = grades_enqueue()
    # client score + answer relevance, faithfulness, context relevance, correctness
    assert created == 5
    assert grades_enqueue() == 0  # idempotent
    result = grades_run_pending(tenant_slug="alpha")
    assert result.done == 4 and result.failed == 0
    grades = {g.rubric_name: g for g in Grade.objects.filter(event=event)}
    assert grades["client:thumbs"].judge_kind == "client" and grades["client:thumbs"].score == 1.0
    assert grades["faithfulness"].judge_kind == "offline"
    assert grades["faithfulness"].score == 1.0
    assert (grades["correctness"].score or 0) > 0.5
    assert all(g.status == GradeStatus.DONE for g in grades.values())


def test_events_without_content_get_no_judge_grades(in_alpha) -> None:
    sampled_event(output="", input="")
    assert grades_enqueue() == 0
    assert not Grade.objects.exists()
