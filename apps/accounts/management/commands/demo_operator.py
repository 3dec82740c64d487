"""Create the demo operator (admin role) on first run and print its login once."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from apps.accounts.models import User
from apps.accounts.roles import ADMIN


class Command(BaseCommand):
    help = "Create the 'demo' admin operator with a random password, printed once (no-op if it exists)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username: str, **options):
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Operator '{username}' exists already; its password was printed when it was created."
            )
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=username, password=password, first_name="Demo", last_name="Operator"
        )
        user.groups.add(Group.objects.get(name=ADMIN))
        self.stdout.write(
            self.style.SUCCESS(f"Demo operator created — log in as  {username} / {password}  (shown once)")
        )
