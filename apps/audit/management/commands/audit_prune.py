"""Remove audit rows older than a date, after writing a checkpoint that keeps the chain verifiable."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import audit_prune, cli_actor


class Command(BaseCommand):
    help = "Delete audit events created before --before (UTC), writing an audit.prune checkpoint first."

    def add_arguments(self, parser):
        parser.add_argument(
            "--before", required=True, type=date.fromisoformat, help="YYYY-MM-DD (UTC midnight)."
        )
        parser.add_argument("--actor", required=True, help="Username of the admin operator doing the prune.")
        parser.add_argument("--dry-run", action="store_true", help="Only report what would be removed.")

    def handle(self, *args, before: date, actor: str, dry_run: bool = False, **options):
        try:
            operator = cli_actor(actor)
        except ObjectDoesNotExist as exc:
            raise CommandError(f"no operator named {actor!r}") from exc
        try:
            result = audit_prune(actor=operator, before=before, dry_run=dry_run)
        except PermissionDenied as exc:
            raise CommandError(f"{actor} may not prune the audit trail (admins only)") from exc
        if not result.removed and not (dry_run and result.last_sequence):
            self.stdout.write(f"nothing to prune before {before.isoformat()}")
        elif dry_run:
            self.stdout.write(
                f"would remove sequences {result.first_sequence}–{result.last_sequence} "
                f"(last hash {result.last_hash})"
            )
        else:
            self.stdout.write(
                f"removed {result.removed} events (sequences {result.first_sequence}–{result.last_sequence}, "
                f"last hash {result.last_hash}); checkpoint #{result.checkpoint.sequence}"
            )
