"""Every request the Retool client sends validates against the seed OpenAPI document (retool.md §11, drifts 5/6)."""

from __future__ import annotations

import httpx
import pytest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from apps.providers.base import ConnectionConfig
from apps.providers.retool import RetoolProvider
from tests.contract.retool_spec import SPEC_HOST, retool_openapi

TOKEN = "rt-test-token"


@pytest.fixture(scope="module")
def openapi():
    return retool_openapi()


class Capture(httpx.BaseTransport):
    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request):
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)


def to_werkzeug(request: httpx.Request) -> WerkzeugOpenAPIRequest:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    builder = EnvironBuilder(
        method=request.method,
        base_url=SPEC_HOST,
        path=request.url.path,
        query_string=request.url.query.decode(),
        data=request.content or None,
        headers=headers,
    )
    return WerkzeugOpenAPIRequest(Request(builder.get_environ()))


def exercise(p: RetoolProvider) -> None:
    p.probe()
    users = list(p.iter_users())
    list(p.iter_users(email=users[0].email))
    p.get_user(users[0].id)
    user = p.create_user(
        email="spec.check@example.com", first_name="Spec", last_name="Check", metadata={"a": "b"}
    )
    p.update_user_profile(user.id, first_name="Specced", last_name="Checked", user_type="default")
    p.set_user_status(user.id, "disabled")
    attribute = p.list_user_attributes()[0]
    p.set_user_attribute(user.id, attribute.name, "x")
    p.set_user_attribute(user.id, attribute.name, None)
    p.delete_user_attribute(user.id, attribute.name)
    group = p.create_group("Spec group", permissions={"universal_app_access": "use", "theme_access": True})
    p.add_group_members(group.id, [users[1].id])
    p.set_group_admin(group.id, users[1].id, True)
    p.update_group(group.id, name="Spec group 2", permissions={"user_list_access": True})
    p.remove_group_member(group.id, users[1].id)
    p.change_role(user.id, "admin")
    p.change_role(user.id, "member")
    p.delete_group(group.id)
    apps = list(p.iter_apps(name_contains="a"))
    p.get_app(apps[0].id)
    p.clone_app(apps[0].id, "Spec clone")
    folders = p.list_folders("app")
    folder = p.create_folder("Spec folder", parent_id=folders[0].id)
    p.rename_folder(folder.id, "Spec folder 2")
    p.get_folder(folder.id)
    p.folder_names()
    for subject_kind, subject_id in (
        ("group", group_id := p.list_groups().items[-1].id),
        ("user", users[1].id),
    ):
        p.grant_access(
            subject_kind=subject_kind,
            subject_id=subject_id,
            object_kind="folder",
            object_id=folder.id,
            level="edit",
        )
        p.grant_access(
            subject_kind=subject_kind,
            subject_id=subject_id,
            object_kind="app",
            object_id=apps[0].id,
            level="use",
        )
        p.list_access(
            subject_kind=subject_kind, subject_id=subject_id, object_kind="app", include_inherited=True
        )
        p.revoke_access(
            subject_kind=subject_kind, subject_id=subject_id, object_kind="app", object_id=apps[0].id
        )
    p.access_list("folder", folder.id)
    p.access_list("app", apps[0].id)
    p.delete_folder(folder.id)
    invite = p.create_invite("spec.invitee@example.com", group_ids=[group_id], metadata={"department": "x"})
    p.list_invites()
    p.get_invite(invite.id)
    p.set_invite_attribute(invite.id, attribute.name, "y")
    p.delete_invite_attribute(invite.id, attribute.name)
    p.delete_invite(invite.id)


def test_it_sends_only_requests_the_spec_accepts(simulator, openapi):
    sim = simulator("retool", token=TOKEN, profile="enterprise", users=12, seed=2)
    capture = Capture()
    config = ConnectionConfig(kind="retool", base_url=sim.url, token=TOKEN, key="openapi")
    exercise(RetoolProvider(config, transport=capture))
    checked = 0
    failures = []
    for request in capture.requests:
        if not request.url.path.startswith("/api/v2/"):
            continue  # /api/checkHealth is outside the v2 document
        try:
            openapi.validate_request(to_werkzeug(request))
        except Exception as exc:  # noqa: BLE001 - collect them all
            failures.append(f"{request.method} {request.url.path}: {exc!r} {getattr(exc, '__cause__', '')!r}")
        checked += 1
    assert failures == []
    assert checked >= 45


def test_it_catches_an_invalid_request(openapi):
    bad = httpx.Request(
        "PATCH", f"{SPEC_HOST}/api/v2/users/user_0123456789abcdef0123456789abcdef", json=[{"op": "x"}]
    )
    bad.headers["Authorization"] = "Bearer x"
    with pytest.raises(Exception):  # noqa: B017
        openapi.validate_request(to_werkzeug(bad))


def test_it_validates_request_bodies_after_neutralising(openapi):
    bad = httpx.Request(
        "POST", f"{SPEC_HOST}/api/v2/users", json={"email": "a@example.com", "first_name": "A"}
    )
    bad.headers["Authorization"] = "Bearer x"
    with pytest.raises(Exception):  # noqa: B017
        openapi.validate_request(to_werkzeug(bad))
