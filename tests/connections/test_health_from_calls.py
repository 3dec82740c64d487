"""Health is learnt from every real call, not only from "Test": an instance that stops answering shows as
failing, says since when, and its people's rows in search and on the person page are marked possibly stale."""

from __future__ import annotations

from tests.directory.conftest import fleet_connection, synced, tj_user

__all__ = ["fleet_connection", "synced"]


def test_an_instance_that_stops_answering_shows_since_when_and_its_rows_possibly_stale(admin_client, synced):
    sim, connection = synced("tooljet", "latest")
    jose = tj_user(sim, "jose.alvarez@example.com")
    detail = admin_client.get(f"/connections/{connection.slug}/").content.decode()
    assert "Working" in detail and "Not answering" not in detail
    sim.faults.add(kind="drop", times=None)
    admin_client.get(f"/connections/{connection.slug}/users/{jose['id']}/")  # a real call, no answer
    detail = admin_client.get(f"/connections/{connection.slug}/").content.decode()
    assert 'data-testid="not-answering"' in detail and "Not answering</strong> since" in detail
    assert "Working" not in detail and "dot-failing" in detail
    assert 'dot dot-failing" title="failing"' in admin_client.get("/connections/").content.decode()
    assert "possibly stale" in admin_client.get("/", {"q": "jose.alvarez"}).content.decode()
    assert "possibly stale" in admin_client.get("/people/jose.alvarez@example.com/").content.decode()
    sim.faults.clear()
    admin_client.get(f"/connections/{connection.slug}/users/{jose['id']}/")  # answers again
    detail = admin_client.get(f"/connections/{connection.slug}/").content.decode()
    assert "Not answering" not in detail and "Working" in detail
    assert "possibly stale" not in admin_client.get("/people/jose.alvarez@example.com/").content.decode()
