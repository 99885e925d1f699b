"""The live-server key fixtures are shared with the OpenTelemetry client tests."""

from tests.metrics.otel.conftest import (  # noqa: F401
    _forget_committed_rows,
    alpha_key,
    beta_key,
)
