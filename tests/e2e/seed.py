"""Seed the E2E server's own database (run in a subprocess with the server's environment).

    python -m tests.e2e.seed '{"operators": [...], "connections": [...]}'

Prints a JSON summary. Connections are created, probed (capabilities) and, with ``"sync": true``, indexed —
through the same services the console uses.
"""

from __future__ import annotations

import json
import sys


def main(spec: dict) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import Group

    from apps.accounts.models import User
    from apps.connections.models import Connection
    from apps.connections.services import connection_test
    from apps.directory.services import directory_sync

    out: dict = {"operators": [], "connections": []}
    for op in spec.get("operators", []):
        user, created = User.objects.get_or_create(username=op["username"])
        if created:
            user.set_password(op["password"])
            user.save()
            if op.get("role"):
                user.groups.add(Group.objects.get(name=op["role"]))
        out["operators"].append(user.username)
    for c in spec.get("connections", []):
        connection = Connection(
            name=c["name"],
            slug=c["slug"],
            kind=c["kind"],
            base_url=c["base_url"],
            environment=c.get("environment", "staging"),
            timeout=c.get("timeout", 10.0),
        )
        connection.set_token(c["token"])
        connection.save()
        connection = connection_test(actor=None, connection=connection)
        status = directory_sync(connection=connection).status if c.get("sync") else None
        out["connections"].append({"slug": connection.slug, "ok": connection.last_test_ok, "sync": status})
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
