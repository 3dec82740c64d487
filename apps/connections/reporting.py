"""What error reports (the DEBUG page, the admins' e-mail) may show: never a connection's token.

Django's own filter hides settings and marked parameters, and only with DEBUG off. This one is always active and
also hides, in every frame of a traceback, any token reachable from that frame or its callers (a
``ConnectionConfig``, a provider or session holding one, a local named like a credential) in every encoding an
upstream could have sent it back in.
"""

from __future__ import annotations

import re
from pprint import pformat
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

from apps.providers.base import ConnectionConfig
from apps.providers.errors import REDACTED, redact

_CREDENTIAL_NAME = re.compile(r"(?i)(token|secret|passw|authorization|credential|api_?key|cookie)")
_CREDENTIAL_TEXT = re.compile(r"(?i)\b(bearer|basic)\s+[^\s'\"<>]+")


def _tokens_in(value: Any) -> set[str]:
    for candidate in (
        value,
        getattr(value, "config", None),
        getattr(getattr(value, "session", None), "config", None),
    ):
        if isinstance(candidate, ConnectionConfig) and candidate.token:
            return {candidate.token}
    return set()


class TokenSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|ENCRYPTION|DATABASE_URL|CACHE_URL", flags=re.I
    )

    def is_active(self, request: Any) -> bool:
        return True  # in DEBUG too: a token on a debug page is still a leaked token

    def get_post_parameters(self, request: Any) -> Any:
        params = super().get_post_parameters(request)
        if not params:
            return params
        params = params.copy()
        for key in list(params):
            if _CREDENTIAL_NAME.search(key):
                params[key] = self.cleansed_substitute
        return params

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        tokens: set[str] = set()
        frame = tb_frame
        while frame is not None:
            for value in list(frame.f_locals.values()):
                tokens |= _tokens_in(value)
            frame = frame.f_back
        cleansed = []
        for name, value in variables:
            if _CREDENTIAL_NAME.search(name) and value != self.cleansed_substitute:
                cleansed.append((name, self.cleansed_substitute))
                continue
            text = value if isinstance(value, str) else pformat(value)
            scrubbed = _CREDENTIAL_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", redact(text, *tokens) or "")
            cleansed.append((name, value if scrubbed == text else scrubbed))
        return cleansed
