"""Retool simulator responses validate against the seed OpenAPI document (retool.md §11, drifts 1, 5 and 6)."""

from __future__ import annotations

import httpx
import pytest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from apps.simulators import start_simulator
from tests.contract.retool_spec import SPEC_HOST, retool_openapi

TOKEN = "retool-test-token"


@pytest.fixture(scope="module")
def openapi():
    return retool_openapi()


@pytest.fixture(scope="module")
def sim():
    with start_simulator("retool", token=TOKEN, users=12, seed=6) as running:
        yield running


def check(openapi, client: httpx.Client, method: str, path: str, **kw) -> httpx.Response:
    response = client.request(method, path, **kw)
    request = response.request
    builder = EnvironBuilder(
        method=method,
        base_url=SPEC_HOST,
        path="/api/v2" + request.url.path.split("/api/v2")[1],
        query_string=request.url.query.decode(),
        data=request.content or None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    wz_request = WerkzeugOpenAPIRequest(Request(builder.get_environ()))
    wz_response = WerkzeugOpenAPIResponse(
        Response(
            response.content, status=response.status_code, content_type=response.headers.get("content-type")
        )
    )
    openapi.validate_response(wz_request, wz_response)
    return response


def test_it_validates_console_responses(openapi, sim):
    c = httpx.Client(base_url=sim.url + "/api/v2", headers={"Authorization": f"Bearer {TOKEN}"})
    users = check(openapi, c, "GET", "/users").json()["data"]
    check(openapi, c, "GET", "/users", params={"limit": 2})
    check(openapi, c, "GET", f"/users/{users[0]['id']}", params={"includeGroups": "true"})
    user = check(
        openapi,
        c,
        "POST",
        "/users",
        json={
            "email": "oa@example.com",
            "first_name": "O",
            "last_name": "A",
            "metadata": {"department": "sales"},
        },
    ).json()["data"]
    check(
        openapi,
        c,
        "PATCH",
        f"/users/{user['id']}",
        json={"operations": [{"op": "replace", "path": "/first_name", "value": "Open"}]},
    )
    check(
        openapi, c, "POST", f"/users/{user['id']}/user_attributes", json={"name": "department", "value": "x"}
    )
    check(openapi, c, "GET", "/user_attributes")
    check(
        openapi,
        c,
        "POST",
        "/user_attributes",
        json={"name": "region", "label": "Region", "dataType": "string"},
    )
    groups = check(openapi, c, "GET", "/groups").json()["data"]
    check(openapi, c, "GET", f"/groups/{groups[0]['id']}")
    group = check(openapi, c, "POST", "/groups", json={"name": "Spec group"}).json()["data"]
    check(
        openapi,
        c,
        "POST",
        f"/groups/{group['id']}/members",
        json={"members": [{"id": user["id"], "is_group_admin": False}]},
    )
    check(openapi, c, "PUT", f"/groups/{group['id']}", json={"name": "Spec group 2", "members": []})
    apps = check(openapi, c, "GET", "/apps").json()["data"]
    check(openapi, c, "GET", "/apps", params={"limit": 2, "name_contains": "a"})
    check(openapi, c, "GET", f"/apps/{apps[0]['id']}")
    check(openapi, c, "POST", "/apps/cloneApp", json={"app_id": apps[0]["id"], "new_app_name": "Clone"})
    check(openapi, c, "GET", "/spaces")
    check(openapi, c, "DELETE", f"/users/{user['id']}")
