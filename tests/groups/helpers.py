"""Shared set-up for the group tests (not a test module): simulators with probed connections, and direct
access to simulator state for seeding and for changing things between page load and save."""

from __future__ import annotations

import re

from apps.audit.models import AuditEvent


def tooljet(simulator, probed_connection, *, profile: str = "latest", **kw):
    sim = simulator("tooljet", profile=profile, **kw)
    return sim, probed_connection(sim)


def retool(simulator, probed_connection, *, profile: str = "enterprise", **kw):
    sim = simulator("retool", profile=profile, **kw)
    return sim, probed_connection(sim)


def ws_id(sim, name: str = "Acme Production") -> str:
    return next(w["id"] for w in sim.state.workspaces.values() if w["name"] == name)


def tj_group(sim, name: str, ws: str | None = None) -> dict:
    ws = ws or ws_id(sim)
    return next(g for g in sim.state.custom_groups(ws) if g["name"] == name)


def rt_group(sim, name: str) -> dict:
    return next(g for g in sim.state.groups.values() if g["name"] == name)


def tj_user(sim, email: str) -> dict:
    return sim.state.users[sim.state.emails[email]]


def audit_rows(action: str):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def reason(**data) -> dict:
    return {"reason": "ticketed change", "ticket": "HELP-1", **data}


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)
