"""Walk the audit hash chain: `OK <count> <head-hash>`, or the first broken sequence and what is wrong."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import audit_checkpoint, audit_verify, cli_actor


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit status 1 when it is broken."

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="Also append an audit.checkpoint event carrying the verified head (an anchor to copy elsewhere).",
        )
        parser.add_argument(
            "--actor", help="Operator username recorded on the checkpoint (default: cli:<os user>)."
        )

    def handle(self, *args, checkpoint: bool = False, actor: str | None = None, **options):
        result = audit_verify()
        self.stdout.write(result.line)
        if not result.ok:
            raise CommandError(f"audit chain verification failed at sequence {result.broken_sequence}")
        if checkpoint:
            event = audit_checkpoint(actor=cli_actor(actor))
            self.stdout.write(f"checkpoint #{event.sequence} {event.hash}")
