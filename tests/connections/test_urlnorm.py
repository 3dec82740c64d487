from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.connections.urlnorm import normalize_base_url


@pytest.mark.parametrize(
    ("pasted", "stored"),
    [
        ("https://tooljet.example.com", "https://tooljet.example.com"),
        ("https://tooljet.example.com/", "https://tooljet.example.com"),
        ("  https://Tooljet.Example.com//  ", "https://tooljet.example.com"),
        ("https://tooljet.example.com/api/ext", "https://tooljet.example.com"),
        ("https://tooljet.example.com/api/ext/", "https://tooljet.example.com"),
        ("https://host.example.com/tooljet/api/ext", "https://host.example.com/tooljet"),
        ("https://host.example.com/tooljet/", "https://host.example.com/tooljet"),
        ("https://acme.retool.com/api/v2", "https://acme.retool.com"),
        ("https://acme.internal/retool/api/v2/", "https://acme.internal/retool"),
        ("https://host/api/v2/ext", "https://host"),
        ("http://tooljet:3000/api/ext", "http://tooljet:3000"),
        ("https://[::1]:8443/api/v2", "https://[::1]:8443"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
        ("HTTP://127.0.0.1:8081/api/ext", "http://127.0.0.1:8081"),
        ("https://host.example.com/a//b/", "https://host.example.com/a/b"),
        ("https://host.example.com/?q=1#frag", "https://host.example.com"),
    ],
)
def test_it_normalises_pasted_urls(pasted, stored):
    assert normalize_base_url(pasted) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "tooljet.example.com",
        "ftp://host.example.com",
        "javascript:alert(1)",
        "https://",
        "https://user:pw@host.example.com",
        "file:///etc/passwd",
        "https://bad_host!.example.com",
    ],
)
def test_it_rejects_bad_urls(bad):
    with pytest.raises(ValidationError):
        normalize_base_url(bad)
