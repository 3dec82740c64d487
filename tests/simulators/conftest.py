from __future__ import annotations

import httpx
import pytest

TJ_TOKEN = "tj-test-token"
RT_TOKEN = "retool-test-token"


class TJ:
    """A started ToolJet simulator plus an authenticated httpx client and seed lookups."""

    def __init__(self, sim):
        self.sim = sim
        self.state = sim.app.state
        self.http = httpx.Client(base_url=sim.url, headers={"Authorization": f"Basic {TJ_TOKEN}"}, timeout=10)
        by_name = {w["name"]: w["id"] for w in self.state.workspaces.values()}
        self.ws = by_name["Acme Production"]
        self.ws_b = by_name["Acme Staging"]
        self.ws_empty = by_name["Research Lab"]

    def get(self, path, **kw):
        return self.http.get("/api/ext" + path, **kw)

    def post(self, path, **kw):
        return self.http.post("/api/ext" + path, **kw)

    def put(self, path, **kw):
        return self.http.put("/api/ext" + path, **kw)

    def patch(self, path, **kw):
        return self.http.patch("/api/ext" + path, **kw)

    def delete(self, path, **kw):
        return self.http.delete("/api/ext" + path, **kw)

    def group_id(self, ws, name):
        return next(g["id"] for g in self.state.custom_groups(ws) if g["name"] == name)

    def user_id(self, email):
        return self.state.emails[email]

    def create(self, email="new.person@example.com", **extra):
        body = {"name": "New Person", "email": email, "workspaces": [{"id": self.ws}], **extra}
        response = self.post("/users", json=body)
        assert response.status_code == 201, response.text
        return response.json()


class RT:
    def __init__(self, sim):
        self.sim = sim
        self.state = sim.app.state
        self.http = httpx.Client(
            base_url=sim.url + "/api/v2", headers={"Authorization": f"Bearer {RT_TOKEN}"}, timeout=10
        )

    def __getattr__(self, name):
        return getattr(self.http, name)

    def group_id(self, name):
        return next(g["id"] for g in self.state.groups.values() if g["name"] == name)

    def new_user(self, email="test.user@example.com", **extra):
        body = {"email": email, "first_name": "Test", "last_name": "User", **extra}
        response = self.http.post("/users", json=body)
        assert response.status_code == 200, response.text
        return response.json()["data"]


@pytest.fixture
def tj(simulator):
    client = TJ(simulator("tooljet", token=TJ_TOKEN, profile="latest", users=12, seed=3))
    yield client
    client.http.close()


@pytest.fixture
def rt(simulator):
    client = RT(simulator("retool", token=RT_TOKEN, profile="enterprise", users=8, seed=3))
    yield client
    client.http.close()
