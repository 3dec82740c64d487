from __future__ import annotations

app_name = "transfers"
urlpatterns: list = []
