from __future__ import annotations

from django.conf import settings
from django.core import checks

from apps.accounts.policy import APPROVAL_RULES


@checks.register
def approval_rules_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A misspelt approval rule would silently let one operator do what needed two."""
    unknown = sorted(set(settings.ADMINUI_PLAN_APPROVAL_RULES) - set(APPROVAL_RULES))
    if not unknown:
        return []
    return [
        checks.Error(
            f"ADMINUI_PLAN_APPROVAL_RULES has unknown rule(s): {', '.join(unknown)}.",
            hint=f"Use any of: {', '.join(APPROVAL_RULES)}.",
            id="plans.E001",
        )
    ]
