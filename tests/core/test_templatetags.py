from __future__ import annotations

import pytest

from apps.core.templatetags.adminui import upstream_time


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-12-01T04:00:29.228Z", "2026-12-01 04:00 UTC"),
        ("2026-12-01T05:00:00+01:00", "2026-12-01 04:00 UTC"),
        ("2026-12-01T04:00:29", "2026-12-01 04:00"),
        ("not a time", "not a time"),
        ("2026-13-45T99:00:00Z", "2026-13-45T99:00:00Z"),
        ("", ""),
        (None, ""),
    ],
)
def test_upstream_times_read_as_operators_expect(value, shown):
    assert upstream_time(value) == shown
