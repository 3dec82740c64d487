"""Stream the audit trail (optionally filtered) to stdout as JSON Lines or CSV; the export is itself audited."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.audit.exports import FORMATS, stream
from apps.audit.forms import AuditFilterForm
from apps.audit.selectors import event_search
from apps.audit.services import audit_export_start, cli_actor


class Command(BaseCommand):
    help = "Export the audit trail to stdout (jsonl or csv), with the same filters as /audit/."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        for name in ("q", "connection", "actor", "action", "target", "outcome", "since", "until"):
            parser.add_argument(f"--{name}", default="")
        parser.add_argument(
            "--as",
            dest="operator",
            help="Operator username to record (must be an admin); default cli:<os user>.",
        )

    def handle(self, *args, **options):
        names = ("q", "connection", "actor", "action", "target", "outcome", "since", "until")
        form = AuditFilterForm({name: options[name] for name in names})
        if not form.is_valid():
            raise CommandError(f"invalid filters: {form.errors.as_text()}")
        filters = form.filters()
        export_format = options["format"]
        events, _ = audit_export_start(
            actor=cli_actor(options.get("operator")),
            qs=event_search(filters=filters),
            export_format=export_format,
            filters=filters,
        )
        for chunk in stream(events, export_format):
            self.stdout.write(chunk, ending="")
