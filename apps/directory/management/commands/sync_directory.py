"""python manage.py sync_directory [--connection SLUG]: refresh the directory index now, in the foreground."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.connections.models import Connection
from apps.directory.services import directory_sync


class Command(BaseCommand):
    help = "Refresh the directory index of one connection (--connection SLUG) or of all of them."

    def add_arguments(self, parser):
        parser.add_argument("--connection", metavar="SLUG", help="only this connection")

    def handle(self, *args, connection=None, **options):
        connections = Connection.objects.order_by("name")
        if connection:
            connections = connections.filter(slug=connection)
            if not connections.exists():
                raise CommandError(f"No connection with slug {connection!r}.")
        failed = 0
        for conn in connections:
            sync = directory_sync(connection=conn)
            if sync.status == "ok":
                self.stdout.write(f"{conn.slug}: {sync.count} users")
            else:
                failed += 1
                self.stderr.write(f"{conn.slug}: failed — {sync.message}")
        if failed:
            raise CommandError(f"{failed} connection(s) failed to sync.")
