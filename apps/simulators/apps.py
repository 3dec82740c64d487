from __future__ import annotations

from django.apps import AppConfig


class SimulatorsConfig(AppConfig):
    name = "apps.simulators"
    label = "simulators"
    verbose_name = "Vendor simulators"
