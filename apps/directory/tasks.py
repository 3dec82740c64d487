"""Background sync of the directory index (django.tasks, django-tasks-db backend).

The periodic refresh is a job of the scheduler (``apps.ops``, ``manage.py scheduler``): every
ADMINUI_DIRECTORY_SYNC_INTERVAL seconds it calls ``sync_queue_all``, one task per connection.
"""

from __future__ import annotations

import logging

from django.tasks import task

from apps.connections.models import Connection
from apps.core.tasks import task_pending

logger = logging.getLogger(__name__)


@task
def sync_connection(connection_id: int) -> str:
    from apps.directory.services import directory_sync

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "gone"
    return directory_sync(connection=connection).status


def sync_queue_all() -> list[str]:
    """Queue one ``sync_connection`` task per connection (the scheduler in ``apps.ops`` calls this every
    ADMINUI_DIRECTORY_SYNC_INTERVAL): one failing connection never stops the others, and a connection whose sync
    is still queued or running is not queued twice. The slugs queued."""
    queued = []
    for connection in Connection.objects.order_by("name"):
        path = f"{__name__}.sync_connection"
        if task_pending(path, status__in=["READY", "RUNNING"], args_kwargs__args__0=connection.pk):
            continue
        sync_connection.enqueue(connection.pk)
        queued.append(connection.slug)
    return queued


@task
def sync_all_connections() -> list[str]:
    """Kept so rows queued before the scheduler existed still run: queues the per-connection syncs, once."""
    return sync_queue_all()
