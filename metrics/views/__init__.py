"""Tenant dashboard pages (overview, one page per layer, drill-down) and the ops overview."""
