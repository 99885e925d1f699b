"""The tenant's judge: settings, the encrypted API key, and building the judge object.

The API key is encrypted with Fernet under a key derived from SECRET_KEY
(HKDF-SHA256, fixed info string) and is never rendered back: pages show only
whether one is set and its last four characters.
"""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlparse

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction

from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.services import model_update
from metrics.quality.graders import OfflineGrader
from metrics.quality.judges.base import GradeRequest, JudgeVerdict
from metrics.quality.models import JudgeConfig, JudgeKind, Rubric
from metrics.quality.rubrics import DEFAULT_RUBRICS


class Judge(Protocol):
    kind: str

    @property
    def name(self) -> str: ...

    def grade(self, rubric: Rubric, request: GradeRequest) -> JudgeVerdict: ...


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vigil-judge-api-key").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def api_key_encrypt(raw: str) -> str:
    return _fernet().encrypt(raw.encode()).decode() if raw else ""


def api_key_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""  # SECRET_KEY rotated: the admin must enter the key again


def judge_config_get() -> JudgeConfig:
    config = JudgeConfig.objects.order_by("pk").first()
    return config if config is not None else JudgeConfig(kind=JudgeKind.OFFLINE)


def api_key_hint(config: JudgeConfig) -> str:
    raw = api_key_decrypt(config.api_key_encrypted)
    return f"…{raw[-4:]}" if len(raw) >= 8 else ("set" if raw else "")


def _decimal(value: Any, field: str, errors: dict[str, str]) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = "Enter a number."
        return Decimal(0)
    if not number.is_finite() or number < 0 or number > Decimal("1000000"):
        errors[field] = "Between 0 and 1000000."
        return Decimal(0)
    return number


def judge_config_set(*, tenant_slug: str, data: dict[str, Any]) -> JudgeConfig:
    """Validate and save the judge settings. An empty `api_key` keeps the stored one."""
    errors: dict[str, str] = {}
    kind = str(data.get("kind", JudgeKind.OFFLINE))
    if kind not in JudgeKind.values:
        errors["kind"] = "Choose offline, openai or anthropic."
    base_url = str(data.get("base_url", "")).strip()
    if base_url:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(base_url) > 500:
            errors["base_url"] = "Enter an http(s) URL."
    model = str(data.get("model", "")).strip()
    if kind != JudgeKind.OFFLINE and not model:
        errors["model"] = "Name the judge model."
    if len(model) > 128:
        errors["model"] = "At most 128 characters."
    cap = _decimal(data.get("monthly_cap_usd") or "50", "monthly_cap_usd", errors)
    in_price = _decimal(data.get("input_price_per_mtok") or "0", "input_price_per_mtok", errors)
    out_price = _decimal(data.get("output_price_per_mtok") or "0", "output_price_per_mtok", errors)
    try:
        rpm = int(data.get("requests_per_minute") or 60)
        if not 1 <= rpm <= 10_000:
            raise ValueError
    except (TypeError, ValueError):
        errors["requests_per_minute"] = "Between 1 and 10000."
        rpm = 60
    bounds = {
        "agreement_kappa_min": (-1.0, 1.0, 0.6),
        "agreement_mad_max": (0.0, 1.0, 0.2),
        "max_attempts": (1, 5, 3),
    }
    limits: dict[str, float] = {}
    for field, (low, high, default) in bounds.items():
        raw = data.get(field)
        try:
            value = float(raw) if raw not in (None, "") else float(default)
        except (TypeError, ValueError):
            value = float("nan")
        if not low <= value <= high:
            errors[field] = f"Between {low:g} and {high:g}."
        limits[field] = value
    rubrics = data.get("rubrics") or []
    if isinstance(rubrics, str):
        rubrics = [r.strip() for r in rubrics.split(",") if r.strip()]
    unknown = [r for r in rubrics if r not in DEFAULT_RUBRICS]
    if unknown:
        errors["rubrics"] = f"Unknown rubric(s): {', '.join(map(str, unknown))}."
    if errors:
        raise ApplicationError("Invalid judge settings.", details=errors)
    values: dict[str, Any] = {
        "kind": kind,
        "base_url": base_url,
        "model": model,
        "monthly_cap_usd": cap.quantize(Decimal("0.01")),
        "input_price_per_mtok": in_price,
        "output_price_per_mtok": out_price,
        "requests_per_minute": rpm,
        "rubrics": list(rubrics),
        "agreement_kappa_min": limits["agreement_kappa_min"],
        "agreement_mad_max": limits["agreement_mad_max"],
        "max_attempts": int(limits["max_attempts"]),
    }
    raw_key = str(data.get("api_key", "") or "")
    with transaction.atomic():
        config = JudgeConfig.objects.select_for_update().order_by("pk").first()
        if config is None:
            config = JudgeConfig.objects.create()
        if raw_key:
            values["api_key_encrypted"] = api_key_encrypt(raw_key)
        config, before, after = model_update(instance=config, fields=list(values), data=values)
        for secret in ("api_key_encrypted",):
            if secret in after:
                before[secret], after[secret] = "(hidden)", "(changed)"
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.judge_config_set",
            object_type="judge_config",
            object_id=config.pk,
            before=before,
            after=after,
        )
    return config


def judge_build(config: JudgeConfig, *, violating: bool = False) -> Judge:
    if config.kind == JudgeKind.OPENAI:
        from metrics.quality.judges.openai_judge import OpenAIJudge

        return OpenAIJudge(
            base_url=config.base_url,
            model=config.model,
            api_key=api_key_decrypt(config.api_key_encrypted),
        )
    if config.kind == JudgeKind.ANTHROPIC:
        from metrics.quality.judges.anthropic_judge import AnthropicJudge

        return AnthropicJudge(
            base_url=config.base_url,
            model=config.model,
            api_key=api_key_decrypt(config.api_key_encrypted),
        )
    return OfflineGrader(violating=violating)
