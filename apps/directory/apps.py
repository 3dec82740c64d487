from __future__ import annotations

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "apps.directory"
    label = "directory"

    def ready(self) -> None:
        from apps.connections.signals import connection_tested
        from apps.directory import receivers

        connection_tested.connect(receivers.index_after_test, dispatch_uid="directory.index_after_test")
