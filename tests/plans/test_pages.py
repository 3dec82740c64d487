from __future__ import annotations

from django.test import override_settings

from apps.plans.checks import approval_rules_check

from .conftest import JOSE


def test_it_offers_the_plan_builders_on_the_person_page(admin_client, viewer_client, fleet):
    fleet()
    html = admin_client.get(f"/people/{JOSE}/").content.decode()
    assert "Offboard everywhere" in html and "Change role everywhere" in html
    assert 'action="/plans/offboard/"' in html
    assert "Offboard everywhere" not in viewer_client.get(f"/people/{JOSE}/").content.decode()


def test_it_keeps_the_working_on_ticket_for_the_session(admin_client):
    response = admin_client.post("/plans/ticket/", {"ticket": "HD-1234", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/plans/"
    assert admin_client.session["plans_ticket"] == "HD-1234"
    assert 'value="HD-1234"' in admin_client.get("/plans/").content.decode()
    admin_client.post("/plans/ticket/", {"ticket": ""})
    assert "plans_ticket" not in admin_client.session


def test_it_refuses_a_person_on_no_instance(admin_client, fleet, htmx_headers):
    fleet()
    response = admin_client.post("/plans/offboard/", {"email": "nobody@example.com"}, headers=htmx_headers)
    assert response.status_code == 400 and "on no indexed instance" in response.content.decode()
    assert response["HX-Retarget"] == "#alerts"


def test_it_rejects_get_on_builders(admin_client):
    assert admin_client.get("/plans/offboard/").status_code == 405


def test_it_checks_the_approval_rules_setting():
    assert approval_rules_check(None) == []
    with override_settings(ADMINUI_PLAN_APPROVAL_RULES=["grant_admin", "production_offboardng"]):
        errors = approval_rules_check(None)
    assert [e.id for e in errors] == ["plans.E001"] and "production_offboardng" in errors[0].msg
