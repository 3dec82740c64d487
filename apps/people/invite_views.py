"""The Invites page of a connection (Retool user invites): pending, expired and claimed invites; create, revoke,
and invite again after an invite expired. Thin views: validate → one service in ``apps.people.invites`` → the
list (htmx) with an OOB message, or a redirect back to the page (full-page POST)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.roles import Perm
from apps.connections.models import Connection
from apps.connections.selectors import connection_for
from apps.core.http import HtmxHttpRequest, wants_partial
from apps.people import invites
from apps.people.invite_forms import InviteChangeForm, InviteForm
from apps.people.views import _oob_message
from apps.providers.errors import ProviderError

PAGE = "people/invites.html"
CAPABILITY = "supports_invites"


def _context(
    request: HtmxHttpRequest,
    connection: Connection,
    form: InviteForm | None = None,
    page: invites.InvitesPage | None = None,
    **extra,
) -> dict:
    """The page's context; ``page`` (the upstream reads) is read again unless the caller has a current one."""
    page = page or invites.invites_page(connection=connection)
    if form is None:
        form = _form(request, page)
    return {
        "connection": connection,
        "connection_ctx": connection,
        "page": page,
        "caps": page.caps,
        "form": form,
        "change_form": InviteChangeForm(),
        **extra,
    }


def _form(request: HtmxHttpRequest, page: invites.InvitesPage, data=None) -> InviteForm:
    return InviteForm(
        data,
        groups=page.groups,
        attributes=page.attributes,
        admin_groups_allowed=request.user.has_perm(Perm.GRANT_ADMIN),
    )


@require_GET
def invite_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.VIEW, CAPABILITY)
    return render(request, PAGE, _context(request, connection))


def _reason(form) -> dict[str, str]:
    return {"reason": form.cleaned_data["reason"], "ticket": form.cleaned_data["ticket"]}


def _answer(request: HtmxHttpRequest, connection: Connection, context: dict, success: str) -> HttpResponse:
    """After a change: the invite list and form (htmx) with the message out of band, or back to the page."""
    if success and not wants_partial(request):
        return redirect("people:invite_list", slug=connection.slug)
    if not wants_partial(request):
        return render(request, PAGE, context)
    html = render_to_string(f"{PAGE}#invites_panel", context, request=request)
    if success:
        html += _oob_message(success)
    return HttpResponse(html)


@require_POST
def invite_create(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.CHANGE_PEOPLE, CAPABILITY)
    page = invites.invites_page(connection=connection)
    form = _form(request, page, request.POST)
    success, sent = "", False
    if form.is_valid():
        data = form.cleaned_data
        sent = True
        try:
            invite = invites.invite_create(
                actor=request.user,
                connection=connection,
                email=data["email"],
                group_names=data["groups"],
                metadata=data["metadata"],
                attributes=data["attributes"],
                **_reason(form),
            )
        except (ProviderError, invites.InviteError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            success = f"Invited {invite.email}."
            form = _form(request, page)
    # invalid input sent nothing upstream: the invites read above are still current
    context: dict[str, Any] = _context(request, connection, form, page=None if sent else page)
    return _answer(request, connection, context, success)


def _change(request: HtmxHttpRequest, slug: str, invite_id: str, service, done: str) -> HttpResponse:
    connection = connection_for(request, slug, Perm.CHANGE_PEOPLE, CAPABILITY)
    form = InviteChangeForm(request.POST)
    success, error = "", ""
    if form.is_valid():
        try:
            invite = service(actor=request.user, connection=connection, invite_id=invite_id, **_reason(form))
        except (ProviderError, invites.InviteError, PermissionDenied) as exc:
            error = getattr(exc, "message", None) or str(exc)
        else:
            success = done.format(email=invite.email)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    context = _context(request, connection, change_error=error, change_invite=invite_id)
    return _answer(request, connection, context, success)


@require_POST
def invite_revoke(request: HtmxHttpRequest, slug: str, invite_id: str) -> HttpResponse:
    return _change(request, slug, invite_id, invites.invite_revoke, "Revoked the invite of {email}.")


@require_POST
def invite_renew(request: HtmxHttpRequest, slug: str, invite_id: str) -> HttpResponse:
    return _change(request, slug, invite_id, invites.invite_renew, "Invited {email} again.")
