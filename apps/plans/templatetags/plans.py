from __future__ import annotations

from django import template

from apps.plans.forms import ROLE_CHOICES, SELECTION_ACTIONS
from apps.plans.selectors import approval_count, person_history, person_temporary_access

register = template.Library()


@register.simple_tag(takes_context=True)
def plan_approvals_waiting(context) -> int:
    """The top bar's count of plans this operator could approve (0 for non-admins, without a query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return approval_count(user=user)


@register.simple_tag
def plan_roles() -> list[tuple[str, str]]:
    """The roles "Change role everywhere" offers (pages below the plans app do not import it)."""
    return ROLE_CHOICES


@register.simple_tag
def plan_selection_actions() -> list[tuple[str, str]]:
    """What "Plan a change for the selected" offers on the search results."""
    return SELECTION_ACTIONS


@register.simple_tag
def person_plan_history(email: str, rows) -> dict[str, list]:
    """The person page's history: plan operations and audit rows of their accounts (``rows``: index rows)."""
    return person_history(email=email, rows=rows)


@register.simple_tag
def person_time_boxed(email: str) -> list:
    """The person page's active temporary access: time-boxed plans that changed them, not reverted yet."""
    return person_temporary_access(email=email)
