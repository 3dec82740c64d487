from __future__ import annotations

from django import template

from apps.plans.forms import ROLE_CHOICES
from apps.plans.selectors import approval_count

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
