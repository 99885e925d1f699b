"""Every number the metrics pages and the read API show, one selector per panel.

Import from here: `from metrics.selectors import cost_breakdown, metrics_filter_from_params`.
Cross-tenant reads live in metrics.selectors.ops and are not re-exported.
"""

from metrics.selectors._query import BREAKDOWN_DIMENSIONS, Series
from metrics.selectors.cost import (
    Concentration,
    CostRow,
    CostSummary,
    cost_breakdown,
    cost_concentration,
    cost_per_day,
    cost_series,
    cost_summary,
)
from metrics.selectors.events import (
    EventDetail,
    EventPage,
    WaterfallSpan,
    event_detail,
    event_list,
    events_filtered,
    tail_events,
    tail_threshold_ms,
)
from metrics.selectors.filters import (
    FILTER_DIMENSIONS,
    PRESET_RANGES,
    MetricsFilter,
    metrics_filter_for,
    metrics_filter_from_params,
)
from metrics.selectors.latency import (
    LatencyStats,
    LatencySummary,
    latency_breakdown,
    latency_series,
    latency_summary,
)
from metrics.selectors.overview import Headline, Overview, overview
from metrics.selectors.quality import (
    QualityStats,
    QualitySummary,
    quality_breakdown,
    quality_series,
    quality_summary,
)
from metrics.selectors.reliability import (
    ReliabilityStats,
    ReliabilitySummary,
    error_series,
    fallback_series,
    provider_availability_series,
    reliability_breakdown,
    reliability_summary,
)
from metrics.selectors.safety import (
    SafetySummary,
    ViolationRow,
    safety_series,
    safety_summary,
    violations_breakdown,
)

__all__ = [
    "BREAKDOWN_DIMENSIONS",
    "FILTER_DIMENSIONS",
    "PRESET_RANGES",
    "Concentration",
    "CostRow",
    "CostSummary",
    "EventDetail",
    "EventPage",
    "Headline",
    "LatencyStats",
    "LatencySummary",
    "MetricsFilter",
    "Overview",
    "QualityStats",
    "QualitySummary",
    "ReliabilityStats",
    "ReliabilitySummary",
    "SafetySummary",
    "Series",
    "ViolationRow",
    "WaterfallSpan",
    "cost_breakdown",
    "cost_concentration",
    "cost_per_day",
    "cost_series",
    "cost_summary",
    "error_series",
    "event_detail",
    "event_list",
    "events_filtered",
    "fallback_series",
    "latency_breakdown",
    "latency_series",
    "latency_summary",
    "metrics_filter_for",
    "metrics_filter_from_params",
    "overview",
    "provider_availability_series",
    "quality_breakdown",
    "quality_series",
    "quality_summary",
    "reliability_breakdown",
    "reliability_summary",
    "safety_series",
    "safety_summary",
    "tail_events",
    "tail_threshold_ms",
    "violations_breakdown",
]
