"""python manage.py transfers_cleanup: remove expired bundle files and staged imports older than a day.

Safe to run from cron at any time; every bundle task also runs it when it finishes."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.transfers.services.cleanup import transfers_cleanup


class Command(BaseCommand):
    help = "Remove the files of expired bundles and staged imports older than a day."

    def handle(self, *args, **options):
        result = transfers_cleanup()
        self.stdout.write(
            f"Removed files of {result.bundles} expired bundle(s), {result.staged} staged import(s) "
            f"and {result.orphans} orphaned staging file(s)."
        )
