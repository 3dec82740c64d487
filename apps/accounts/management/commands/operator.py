"""Operator management for scripts: `manage.py operator create|set-role|disable`. Every change is audited with the
system as the actor and the given reason."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.roles import ROLE_ORDER


class Command(BaseCommand):
    help = "Create a local operator, change an operator's role, or disable an operator (audited)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="invite a local operator; prints a one-time password-set link")
        create.add_argument("username")
        create.add_argument("--role", choices=ROLE_ORDER, required=True)
        create.add_argument("--email", default="")
        create.add_argument(
            "--base-url",
            default="",
            help="the console's URL, to print a full link (e.g. https://adminui.example)",
        )
        set_role = sub.add_parser("set-role", help="change an operator's role ('none' removes it)")
        set_role.add_argument("username")
        set_role.add_argument("role", choices=[*ROLE_ORDER, "none"])
        disable = sub.add_parser("disable", help="disable an operator: no more sign-ins, open sessions end")
        disable.add_argument("username")
        for p in (create, set_role, disable):
            p.add_argument("--reason", required=True, help="why: kept in the audit trail")

    def _get(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No operator named {username!r}.") from None

    def handle(self, *args, action: str, username: str, reason: str, **options):
        if action == "create":
            if User.objects.filter(username__iexact=username).exists():
                raise CommandError(f"An operator named {username!r} exists already.")
            user, path = services.operator_create(
                actor=None, username=username, role=options["role"], email=options["email"], reason=reason
            )
            link = f"{options['base_url'].rstrip('/')}{path}"
            self.stdout.write(f"Created {user.username} ({options['role']}). One-time password link: {link}")
        elif action == "set-role":
            role = "" if options["role"] == "none" else options["role"]
            services.operator_set_role(actor=None, user=self._get(username), role=role, reason=reason)
            self.stdout.write(f"{username}'s role is now {role or 'none'}.")
        else:
            services.operator_disable(actor=None, user=self._get(username), reason=reason)
            self.stdout.write(f"{username} is disabled.")
