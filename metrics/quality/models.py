"""Quality data in each tenant's schema: policies, judges, rubrics, grades, reviews, drift.

Imported by metrics/models.py so Django registers the models in the metrics app
(a dual app: none of these is in VIGIL_PUBLIC_MODELS, so all live per tenant).
"""

from __future__ import annotations

from django.db import models

from metrics.quality.sampling_rates import DEFAULT_WEEKLY_MINIMUM

DEFAULT_SAMPLE_RATE = 0.005
JUDGE_FEATURE = "vigil-judge"


class SamplingPolicy(models.Model):
    """How a feature's events are sampled for grading ("" = the tenant's default policy).

    `category_rates` is recomputed daily from last week's volume so that each
    content category reaches `category_weekly_minimum` samples a week; the
    decision stays a pure function of (event id, rates), so every worker agrees.
    """

    feature = models.CharField(max_length=128, unique=True, blank=True, default="")
    rate = models.FloatField(default=DEFAULT_SAMPLE_RATE)
    category_weekly_minimum = models.IntegerField(default=DEFAULT_WEEKLY_MINIMUM)
    include_flagged = models.BooleanField(default=True)
    category_rates = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.feature or '(default)'} @ {self.rate:g}"


class JudgeKind(models.TextChoices):
    OFFLINE = "offline", "Built-in offline graders"
    OPENAI = "openai", "OpenAI-compatible API"
    ANTHROPIC = "anthropic", "Anthropic API"


class JudgeConfig(models.Model):
    """The tenant's judge (one row). The API key is stored encrypted and never shown back."""

    kind = models.CharField(max_length=16, choices=JudgeKind.choices, default=JudgeKind.OFFLINE)
    base_url = models.CharField(max_length=500, blank=True, default="")
    model = models.CharField(max_length=128, blank=True, default="")
    api_key_encrypted = models.TextField(blank=True, default="")
    monthly_cap_usd = models.DecimalField(max_digits=12, decimal_places=2, default=50)
    # Judge model prices (USD per million tokens) when Vigil's price table has no entry.
    input_price_per_mtok = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    output_price_per_mtok = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    requests_per_minute = models.IntegerField(default=60)
    max_attempts = models.IntegerField(default=3)
    rubrics = models.JSONField(default=list, blank=True)  # rubric names to grade with
    agreement_kappa_min = models.FloatField(default=0.6)
    agreement_mad_max = models.FloatField(default=0.2)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.model}".strip()


class Rubric(models.Model):
    """A versioned grading prompt. Grades keep the version they were made with."""

    name = models.CharField(max_length=64)
    version = models.IntegerField(default=1)
    title = models.CharField(max_length=200)
    instructions = models.TextField()
    labels = models.JSONField(default=list)  # allowed labels, best first
    pass_labels = models.JSONField(default=list)
    needs_context = models.BooleanField(default=False)
    needs_reference = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="rubric_name_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class GradeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (spend cap)"


class Grade(models.Model):
    """One score of one event under one rubric by one judge (or client / offline grader)."""

    event = models.ForeignKey("metrics.Event", on_delete=models.CASCADE, related_name="grades")
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, null=True, blank=True)
    rubric_name = models.CharField(max_length=64)
    rubric_version = models.IntegerField(default=1)
    judge_kind = models.CharField(max_length=16)  # openai | anthropic | offline | client
    judge_name = models.CharField(max_length=200)
    # Copied from the event so time series never join the large events table.
    day = models.DateField()
    feature = models.CharField(max_length=128)
    content_category = models.CharField(max_length=128, blank=True, default="")
    release = models.CharField(max_length=128, blank=True, default="")

    status = models.CharField(
        max_length=16, choices=GradeStatus.choices, default=GradeStatus.PENDING
    )
    attempts = models.IntegerField(default=0)
    error = models.TextField(blank=True, default="")
    score = models.FloatField(null=True, blank=True)  # 0..1
    label = models.CharField(max_length=64, blank=True, default="")
    rationale = models.TextField(blank=True, default="")
    judge_input_tokens = models.IntegerField(default=0)
    judge_output_tokens = models.IntegerField(default=0)
    judge_cost_usd = models.DecimalField(max_digits=14, decimal_places=10, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "rubric_name", "judge_kind"], name="grade_event_rubric_judge"
            )
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="grade_status"),
            models.Index(fields=["day", "content_category"], name="grade_day_category"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.rubric_name} {self.status}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Reviewed"
    SKIPPED = "skipped", "Skipped"


class CalibrationItem(models.Model):
    """A judge grade put in front of a human reviewer (the weekly calibration set)."""

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="reviews")
    week = models.DateField()  # Monday of the calibration week
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default="open")
    reviewer_id = models.IntegerField(null=True, blank=True)
    human_score = models.FloatField(null=True, blank=True)
    human_label = models.CharField(max_length=64, blank=True, default="")
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grade"], name="calibration_one_per_grade")]
        indexes = [models.Index(fields=["status", "week"], name="calibration_status_week")]

    def __str__(self) -> str:
        return f"review of grade {self.grade_id} ({self.status})"


class Deployment(models.Model):
    """A model or prompt release; the 30 days after it are watched for quality drift."""

    release = models.CharField(max_length=128)
    model = models.CharField(max_length=128, blank=True, default="")
    feature = models.CharField(max_length=128, blank=True, default="")
    description = models.TextField(blank=True, default="")
    deployed_at = models.DateTimeField()
    watch_days = models.IntegerField(default=30)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["deployed_at"], name="deployment_time")]

    def __str__(self) -> str:
        return f"{self.release} @ {self.deployed_at:%Y-%m-%d}"


class FindingKind(models.TextChoices):
    DRIFT = "drift", "Quality drift"
    JUDGE_AGREEMENT = "judge_agreement", "Judge disagrees with humans"


class QualityFinding(models.Model):
    """Something the alert engine should turn into an incident (read via selectors)."""

    kind = models.CharField(max_length=32, choices=FindingKind.choices)
    feature = models.CharField(max_length=128, blank=True, default="")
    content_category = models.CharField(max_length=128, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")  # judge/rubric
    active = models.BooleanField(default=True)
    delta_points = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    confidence = models.FloatField(default=0.95)
    baseline = models.FloatField(null=True, blank=True)
    current = models.FloatField(null=True, blank=True)
    started_on = models.DateField(null=True, blank=True)
    detected_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=64)
    deployment = models.ForeignKey(Deployment, on_delete=models.SET_NULL, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["active", "kind"], name="finding_active_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.feature}/{self.content_category} {self.delta_points:+.1f}"
