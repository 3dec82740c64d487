"""The RBAC matrix: every URL name of the URLconf, every operator role (viewer, helpdesk, admin, and a helpdesk whose
scope covers staging only), both products, an account that holds admin upstream and one that does not.

Each URL name is classified below; a new URL name that is not fails ``test_every_url_name_is_classified``. For every
probe the status must be what the role allows, and a refused request must send nothing upstream (the simulators'
request logs). The figures (requests tried, refused, leaks) are printed; leaks must be 0."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.policy import is_protected_account
from apps.audit.services import audit_record
from apps.connections.clients import get_provider

R = {"reason": "matrix probe", "ticket": "SEC-1"}
ROLES = ("viewer", "scoped", "helpdesk", "admin")
MISSING_UUID = "00000000-0000-4000-8000-000000000000"

# Reachable before an operator is known (sign-in steps, probes of the process): no role applies.
EXEMPT = {
    "healthz": "liveness, before sign-in",
    "readyz": "readiness, before sign-in",
    "metrics": "scrape endpoint with its own access rule (tests/ops)",
    "accounts:login": "sign-in step",
    "accounts:logout": "sign-out",
    "accounts:login_code": "sign-in step (second factor)",
    "accounts:two_factor": "the operator's own second factor",
    "accounts:oidc_login": "sign-in step (single sign-on)",
    "accounts:oidc_callback": "sign-in step (single sign-on)",
    "accounts:reauth": "re-authentication of the operator themself",
    "accounts:password_set": "password link from an e-mail, before sign-in",
}


def _url_names(patterns=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else p.namespace or namespace
            names |= _url_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(f"{namespace}:{p.name}" if namespace else p.name)
    return names


@dataclass
class Probe:
    """One request. ``access``: ``view`` (every role), ``people`` (helpdesk and admin; the policy decides per
    target), ``admin`` (admin operators only) or ``missing`` (an id that does not exist: refused or not found for
    everyone). ``target``: ``admin`` when the account holds admin upstream. ``admin_only``: a change only admin
    operators may make whatever the target (e-mail, granting admin). ``send_as_admin``: False for a change an admin
    would really make and that would spoil later probes (deleting, granting admin)."""

    name: str
    method: str
    url: str
    data: dict = field(default_factory=dict)
    access: str = "view"
    target: str = ""
    admin_only: bool = False
    send_as_admin: bool = True


def _expected(probe: Probe, role: str) -> int | None:
    """The refusal status this role must get, or None when it is allowed."""
    if probe.access == "missing":
        return -1  # 403 or 404
    if probe.access == "view":
        return None
    if role == "viewer":
        return 403
    if probe.access == "admin":
        return None if role == "admin" else 403
    if role == "admin":
        return None
    return 403 if probe.target == "admin" or probe.admin_only else None


def _expected_out_of_scope(probe: Probe) -> int:
    """The scoped operator on the other environment's connection: it does not exist for them (404), or, where the
    role's permission is checked first, 403."""
    return -1 if probe.access in ("admin", "missing") else 404


def _pick(connection, protected: bool):
    from apps.directory.models import DirectoryUser

    with get_provider(connection) as provider:
        for row in DirectoryUser.objects.filter(connection=connection, invite__isnull=True).order_by("email"):
            user = provider.get_user(row.remote_id)
            if is_protected_account(user) == protected and row.active:
                return user
    raise AssertionError("no such user in the seed")


def _probes(kind: str, sim, connection) -> list[Probe]:
    s = connection.slug
    admin = _pick(connection, protected=True)
    person = _pick(connection, protected=False)
    probes = [
        Probe("directory:search", "GET", "/?q=a"),
        Probe("connections:connection_list", "GET", "/connections/"),
        Probe("transfers:fleet", "GET", "/apps/"),
        Probe("groups:group_drift", "GET", f"/groups/drift/?left={s}&right={s}"),
        Probe("groups:group_drift_csv", "GET", f"/groups/drift.csv?left={s}&right={s}"),
        Probe("audit:event_list", "GET", "/audit/"),
        Probe("audit:verification_status", "GET", "/audit/verify/status/"),
        Probe("plans:plan_list", "GET", "/plans/"),
        Probe("plans:approval_list", "GET", "/plans/approvals/"),
        Probe("directory:person", "GET", f"/people/{person.email}/"),
        Probe("connections:connection_detail", "GET", f"/connections/{s}/"),
        Probe("directory:user_list", "GET", f"/connections/{s}/users/"),
        Probe("directory:sync_status", "GET", f"/connections/{s}/users/sync-status/"),
        Probe("directory:directory_refresh", "POST", f"/connections/{s}/users/refresh/", access="people"),
        Probe("people:user_detail", "GET", f"/connections/{s}/users/{person.id}/"),
        Probe("people:user_detail", "GET", f"/connections/{s}/users/{admin.id}/", target="admin"),
        Probe("people:user_create", "GET", f"/connections/{s}/users/new/"),
        Probe("groups:group_list", "GET", f"/connections/{s}/groups/"),
        Probe(
            "groups:group_user_picker", "GET", f"/connections/{s}/groups/people/?user_q=a", access="people"
        ),
        Probe("transfers:app_list", "GET", f"/connections/{s}/apps/"),
        Probe("transfers:fleet_access", "GET", "/apps/access/?name=Sales+Dashboard"),
        Probe("transfers:fleet_access_csv", "GET", "/apps/access.csv?name=Sales+Dashboard"),
        Probe("people:user_apps", "GET", f"/connections/{s}/users/{person.id}/apps/"),
        Probe("people:invite_list", "GET", f"/connections/{s}/invites/"),
        Probe("plans:csv_template", "GET", "/plans/csv/template.csv"),
        Probe("plans:csv_upload", "GET", "/plans/csv/", access="people"),
        Probe("plans:selection_build", "POST", "/plans/selection/", {"action": "offboard"}, access="people"),
        Probe(
            "plans:copy_access_build",
            "POST",
            "/plans/copy-access/",
            {"email": person.email, "source_email": admin.email},
            access="people",
        ),
        # objects that do not exist: nothing may be sent upstream, whoever asks
        Probe("plans:csv_errors", "GET", "/plans/999999/errors.csv", access="missing"),
        Probe("plans:plan_end_now", "POST", "/plans/999999/end/", access="missing"),
        Probe(
            "groups:group_access_grant",
            "POST",
            f"/connections/{s}/groups/999999/access/grant/",
            {"object": "app:999999", "level": "use"},
            access="missing",
        ),
        Probe(
            "groups:group_access_revoke",
            "POST",
            f"/connections/{s}/groups/999999/access/revoke/",
            {"object": "app:999999"},
            access="missing",
        ),
        Probe("people:invite_revoke", "POST", f"/connections/{s}/invites/999999/revoke/", access="missing"),
        Probe("people:invite_renew", "POST", f"/connections/{s}/invites/999999/renew/", access="missing"),
        # admin operators only
        Probe("connections:connection_add", "GET", "/connections/add/", access="admin"),
        Probe("connections:connection_add", "POST", "/connections/add/", access="admin"),
        Probe("connections:connection_edit", "GET", f"/connections/{s}/edit/", access="admin"),
        Probe("connections:connection_edit", "POST", f"/connections/{s}/edit/", access="admin"),
        Probe("connections:connection_test", "POST", f"/connections/{s}/test/", access="admin"),
        Probe(
            "connections:connection_delete",
            "POST",
            f"/connections/{s}/delete/",
            access="admin",
            send_as_admin=False,
        ),
        Probe("groups:group_create", "GET", f"/connections/{s}/groups/new/", access="admin"),
        Probe("groups:group_create", "POST", f"/connections/{s}/groups/new/", access="admin"),
        Probe("audit:event_export", "GET", "/audit/export/?format=jsonl", access="admin"),
        Probe("audit:verify_start", "POST", "/audit/verify/", access="admin"),
        Probe("transfers:app_import", "GET", f"/connections/{s}/apps/import/", access="admin"),
        Probe("accounts:operator_list", "GET", "/operators/", access="admin"),
        Probe("accounts:operator_invite", "GET", "/operators/invite/", access="admin"),
        # people changes, on an ordinary account and on one that holds admin upstream
        Probe("plans:ticket_set", "POST", "/plans/ticket/", {"ticket": "SEC-1"}, access="people"),
        Probe("plans:offboard_build", "POST", "/plans/offboard/", access="people"),
        Probe("plans:role_build", "POST", "/plans/role/", access="people"),
        Probe(
            "people:user_create",
            "POST",
            f"/connections/{s}/users/new/",
            {
                "email": "x@example.com",
                "first_name": "X",
                "last_name": "Y",
                "role": "admin",
                "user_type": "default",
                "workspace_id": next(iter(sim.state.workspaces), "") if kind == "tooljet" else "",
            },
            access="people",
            # ToolJet: a new user created as workspace admin; Retool users are never created as admin
            admin_only=kind == "tooljet",
            send_as_admin=False,
        ),
    ]
    if (
        kind == "retool"
    ):  # invites and a person's own grants exist on Retool only (elsewhere: 409 for everyone)
        probes += [
            Probe(
                "people:invite_create",
                "POST",
                f"/connections/{s}/invites/new/",
                {"email": "invitee@example.com"},
                access="people",
                send_as_admin=False,
            ),
            Probe(
                "people:user_access_revoke",
                "POST",
                f"/connections/{s}/users/{person.id}/apps/revoke/",
                {"object": "app:999999"},
                access="people",
            ),
        ]
    for target, user in (("", person), ("admin", admin)):
        u = f"/connections/{s}/users/{user.id}"
        as_admin = target == ""  # an admin's change to the protected account would spoil later probes
        common = {"access": "people", "target": target, "send_as_admin": as_admin}
        names = {"first_name": user.first_name or "A", "last_name": user.last_name or "B"}
        if kind == "tooljet":
            ws = next(m for m in user.workspaces if (m.status or "active") == "active").workspace_id
            member_of = {m.workspace_id for m in user.workspaces}
            addable = next(
                (
                    w["id"]
                    for w in sim.state.workspaces.values()
                    if w["status"] == "active" and w["id"] not in member_of
                ),
                None,
            )
            probes += [
                Probe(
                    "people:user_role_change",
                    "POST",
                    f"{u}/role/",
                    {"role": "end-user", "workspace_id": ws},
                    **common,
                ),
                Probe(
                    "people:user_role_change",
                    "POST",
                    f"{u}/role/",
                    {"role": "admin", "workspace_id": ws},
                    access="people",
                    target=target,
                    admin_only=True,
                    send_as_admin=False,
                ),
                Probe("people:user_profile_update", "POST", f"{u}/profile/", names, **common),
                Probe(
                    "people:user_profile_update",
                    "POST",
                    f"{u}/profile/",
                    {**names, "email": "taken.over@example.net"},
                    access="people",
                    target=target,
                    admin_only=True,
                    send_as_admin=False,
                ),
                Probe(
                    "people:user_metadata_update",
                    "POST",
                    f"{u}/metadata/",
                    {"workspace_id": ws, "fingerprint": "stale", "key": "k", "value": "v"},
                    **common,
                ),
                Probe(
                    "people:user_workspace_groups",
                    "POST",
                    f"{u}/workspaces/groups/",
                    {"workspace_id": ws},
                    **common,
                ),
                Probe(
                    "people:user_workspace_remove",
                    "POST",
                    f"{u}/workspaces/remove/",
                    {"workspace_id": ws, "fingerprint": "stale"},
                    **common,
                ),
                Probe(
                    "people:user_status_change",
                    "POST",
                    f"{u}/status/",
                    {"status": "archived", "workspace_id": ws},
                    **common,
                ),
            ]
            if addable:
                probes.append(
                    Probe(
                        "people:user_workspace_add",
                        "POST",
                        f"{u}/workspaces/add/",
                        {"workspace_id": addable, "role": "end-user", "fingerprint": "stale"},
                        **common,
                    )
                )
            group = next(iter(sim.state.custom_groups(ws)))
            g = f"/connections/{s}/groups/{group['id']}"
            probes += [
                Probe("groups:group_detail", "GET", f"{g}/?ws={ws}"),
                Probe(
                    "groups:group_member_add",
                    "POST",
                    f"{g}/members/",
                    {"user_id": user.id, "ws": ws},
                    **common,
                ),
                Probe(
                    "groups:group_member_remove",
                    "POST",
                    f"{g}/members/remove/",
                    {"user_id": user.id, "ws": ws},
                    **common,
                ),
                Probe(
                    "groups:group_member_admin",
                    "POST",
                    f"{g}/members/admin/",
                    {"user_id": user.id, "ws": ws},
                    **common,
                ),
            ]
        else:
            attribute = next(iter(sim.state.attributes.values()), None)
            probes += [
                Probe("people:user_role_change", "POST", f"{u}/role/", {"role": "member"}, **common),
                Probe(
                    "people:user_role_change",
                    "POST",
                    f"{u}/role/",
                    {"role": "admin"},
                    access="people",
                    target=target,
                    admin_only=True,
                    send_as_admin=False,
                ),
                Probe("people:user_profile_update", "POST", f"{u}/profile/", names, **common),
                Probe(
                    "people:user_attribute_update",
                    "POST",
                    f"{u}/attributes/",
                    {"name": attribute["name"] if attribute else "department", "value": "sales"},
                    **common,
                ),
                Probe("people:user_status_change", "POST", f"{u}/status/", {"status": "disabled"}, **common),
            ]
            group = next(g for g in sim.state.groups.values() if g["name"] == "Finance")
            g = f"/connections/{s}/groups/{group['id']}"
            probes += [
                Probe("groups:group_detail", "GET", f"{g}/"),
                Probe("groups:group_member_add", "POST", f"{g}/members/", {"user_id": user.id}, **common),
                Probe(
                    "groups:group_member_admin",
                    "POST",
                    f"{g}/members/admin/",
                    {"user_id": user.id, "is_group_admin": "on"},
                    **common,
                ),
                Probe(
                    "groups:group_member_remove",
                    "POST",
                    f"{g}/members/remove/",
                    {"user_id": user.id},
                    **common,
                ),
            ]
            admin_group = next(g for g in sim.state.groups.values() if g["name"] == "admin")
            if target == "":
                probes.append(
                    Probe(
                        "groups:group_member_add",
                        "POST",
                        f"/connections/{s}/groups/{admin_group['id']}/members/",
                        {"user_id": user.id},
                        access="people",
                        admin_only=True,
                        send_as_admin=False,
                    )
                )
    group_url = probes[-1].url.split("/members/")[0]
    probes += [
        Probe("groups:group_edit", "GET", f"{group_url}/edit/", access="admin"),
        Probe("groups:group_edit", "POST", f"{group_url}/edit/", access="admin"),
        Probe("groups:group_delete", "POST", f"{group_url}/delete/", access="admin", send_as_admin=False),
        # ids that do not exist: refused or not found for everyone, and nothing sent
        *[
            Probe(name, method, url, access="missing")
            for name, method, url in (
                ("transfers:app_detail", "GET", f"/connections/{s}/apps/no-such-app/"),
                ("transfers:app_export", "GET", f"/connections/{s}/apps/no-such-app/export/"),
                ("transfers:app_copy", "POST", f"/connections/{s}/apps/no-such-app/copy/"),
                ("transfers:app_clone", "POST", f"/connections/{s}/apps/no-such-app/clone/"),
                ("transfers:import_confirm", "POST", f"/connections/{s}/apps/import/{MISSING_UUID}/"),
                ("transfers:import_result", "GET", f"/connections/{s}/apps/import/{MISSING_UUID}/done/"),
                ("transfers:bundle_create", "POST", f"/connections/{s}/bundles/"),
                ("transfers:bundle_upload", "POST", f"/connections/{s}/bundles/upload/"),
                ("transfers:bundle_detail", "GET", f"/connections/{s}/bundles/{MISSING_UUID}/"),
                ("transfers:bundle_retry", "POST", f"/connections/{s}/bundles/{MISSING_UUID}/retry/"),
                ("transfers:bundle_download", "GET", f"/connections/{s}/bundles/{MISSING_UUID}/download/"),
                ("audit:event_detail", "GET", "/audit/999999999/"),
                ("plans:plan_detail", "GET", "/plans/999999999/"),
                ("plans:plan_submit", "POST", "/plans/999999999/submit/"),
                ("plans:plan_approve", "POST", "/plans/999999999/approve/"),
                ("plans:plan_reject", "POST", "/plans/999999999/reject/"),
                ("plans:plan_retry", "POST", "/plans/999999999/retry/"),
                ("plans:plan_revert", "POST", "/plans/999999999/revert/"),
                ("accounts:operator_detail", "GET", "/operators/999999999/"),
                ("accounts:operator_role", "POST", "/operators/999999999/role/"),
                ("accounts:operator_scope", "POST", "/operators/999999999/scope/"),
                ("accounts:operator_disable", "POST", "/operators/999999999/disable/"),
                ("accounts:operator_password_reset", "POST", "/operators/999999999/password-reset/"),
            )
        ],
    ]
    return probes


def test_every_url_name_is_classified():
    """A new URL must be added to the matrix (a probe) or to EXEMPT with why."""
    probed = {
        "directory:search", "connections:connection_list", "transfers:fleet", "groups:group_drift",
        "groups:group_drift_csv", "audit:event_list", "audit:verification_status", "plans:plan_list",
        "plans:approval_list", "directory:person", "connections:connection_detail", "directory:user_list",
        "directory:sync_status", "directory:directory_refresh", "people:user_detail", "people:user_create",
        "groups:group_list", "groups:group_user_picker", "transfers:app_list", "connections:connection_add",
        "connections:connection_edit", "connections:connection_test", "connections:connection_delete",
        "groups:group_create", "audit:event_export", "audit:verify_start", "transfers:app_import",
        "accounts:operator_list", "accounts:operator_invite", "plans:ticket_set", "plans:offboard_build",
        "plans:role_build", "people:user_role_change", "people:user_profile_update", "people:user_metadata_update",
        "people:user_workspace_groups", "people:user_workspace_remove", "people:user_status_change",
        "people:user_workspace_add", "groups:group_detail", "groups:group_member_add", "groups:group_member_remove",
        "groups:group_member_admin", "people:user_attribute_update", "groups:group_edit", "groups:group_delete",
        "transfers:app_detail", "transfers:app_export", "transfers:app_copy", "transfers:app_clone",
        "transfers:import_confirm", "transfers:import_result", "transfers:bundle_create", "transfers:bundle_upload",
        "transfers:bundle_detail", "transfers:bundle_retry", "transfers:bundle_download", "audit:event_detail",
        "plans:plan_detail", "plans:plan_submit", "plans:plan_approve", "plans:plan_reject", "plans:plan_retry",
        "plans:plan_revert", "accounts:operator_detail", "accounts:operator_role", "accounts:operator_scope",
        "accounts:operator_disable", "accounts:operator_password_reset", "transfers:fleet_access",
        "transfers:fleet_access_csv", "people:user_apps", "people:invite_list", "plans:csv_template",
        "plans:csv_upload", "plans:selection_build", "plans:copy_access_build", "plans:csv_errors",
        "plans:plan_end_now", "groups:group_access_grant", "groups:group_access_revoke", "people:invite_revoke",
        "people:invite_renew", "people:invite_create", "people:user_access_revoke",
    }  # fmt: skip
    unclassified = _url_names() - probed - set(EXEMPT)
    assert not unclassified, f"classify these URL names in the RBAC matrix: {sorted(unclassified)}"
    assert not (probed | set(EXEMPT)) - _url_names(), "the matrix names URL names that no longer exist"


@pytest.mark.parametrize(("kind", "profile"), [("tooljet", "latest"), ("retool", "enterprise")])
def test_the_rbac_matrix(
    kind, profile, simulator, probed_connection, clients_by_role, htmx_headers, record_property
):
    from apps.directory.services import directory_sync

    sims, connections = {}, {}
    for environment in ("staging", "production"):
        sims[environment] = simulator(kind, profile=profile, users=12)
        connections[environment] = probed_connection(
            sims[environment], slug=f"{kind}-{environment}", environment=environment
        )
        directory_sync(connection=connections[environment])
    staging, production = connections["staging"], connections["production"]
    audit_record(action="user.role", actor=None, connection=staging, target_id="seed")
    probes = _probes(kind, sims["staging"], staging)
    figures = {"tried": 0, "refused": 0, "leaks": 0}
    failures = []

    def writes() -> int:
        return sum(len(sim.writes()) for sim in sims.values())

    def send(role: str, probe: Probe, url: str, expected: int | None) -> None:
        client = clients_by_role[role]
        before = writes()
        if probe.method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, {**probe.data, **R}, headers=htmx_headers)
        status = response.status_code
        figures["tried"] += 1
        where = f"{role} {probe.method} {url} ({probe.name})"
        if status >= 500:
            failures.append(f"{where}: {status}")
        elif expected is None:
            if status in (403, 404):
                failures.append(f"{where}: refused with {status}, expected allowed")
        else:
            figures["refused"] += status in (403, 404)
            if probe.access == "missing":
                # an id that does not exist: whatever the answer (a refusal, not found, a form or redirect back
                # with the error, or that the connection cannot do it), nothing may be sent upstream
                refused_ok = True
            else:
                refused_ok = status in (403, 404) if expected == -1 else status == expected
            if not refused_ok:
                figures["leaks"] += 1
                failures.append(f"{where}: {status}, expected {'403/404' if expected == -1 else expected}")
            if writes() != before:
                figures["leaks"] += 1
                failures.append(f"{where}: refused, yet {writes() - before} request(s) were sent upstream")

    for probe in probes:
        for role in ROLES:
            if role == "admin" and not probe.send_as_admin:
                continue
            send(role, probe, probe.url, _expected(probe, role))
        if f"/{staging.slug}/" in probe.url or f"={staging.slug}" in probe.url:
            other = probe.url.replace(staging.slug, production.slug)
            send("scoped", probe, other, _expected_out_of_scope(probe))
    print(
        f"\nRBAC matrix {kind}: {figures['tried']} requests, {figures['refused']} refused, {figures['leaks']} leaks"
    )
    record_property("rbac_matrix", figures)
    assert not failures, "\n".join(failures)
    assert figures["leaks"] == 0 and figures["refused"] > 100


@pytest.fixture
def clients_by_role(admin_client, helpdesk_client, viewer_client, scoped_client):
    return {
        "admin": admin_client,
        "helpdesk": helpdesk_client,
        "viewer": viewer_client,
        "scoped": scoped_client,
    }
