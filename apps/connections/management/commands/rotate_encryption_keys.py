from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.connections.services import connections_rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt every connection token with the first key of ADMINUI_ENCRYPTION_KEYS (idempotent)."

    def handle(self, *args, **options):
        rotated, unreadable, empty = connections_rotate_keys()
        self.stdout.write(
            f"re-encrypted {rotated} token(s); {unreadable} unreadable; {empty} without a token"
        )
        if unreadable:
            self.stderr.write(
                "Some tokens could not be read with any configured key: keep the old key in ADMINUI_ENCRYPTION_KEYS "
                "or re-enter those tokens on their connection pages."
            )
