"""Template filters shared by the console's pages: ``{% load adminui %}``."""

from __future__ import annotations

from datetime import UTC

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def upstream_time(value: str | None) -> str:
    """An upstream ISO 8601 timestamp (``2026-12-01T04:00:29.228Z``) as operators read it, in UTC like the rest of
    the console (``2026-12-01 04:00 UTC``); anything unparseable is shown as given, nothing as an empty string."""
    if not value:
        return ""
    try:
        moment = parse_datetime(str(value))
    except ValueError:
        moment = None
    if moment is None:
        return str(value)
    if moment.tzinfo is None:  # no zone given: shown as given
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + " UTC"
