"""The live-server key fixtures are shared with the OpenTelemetry client tests."""

from tests.metrics.otel.conftest import alpha_key, beta_key  # noqa: F401
