"""Background sync of the directory index (django.tasks, django-tasks-db backend).

Periodic refresh, kept simple: ``sync_all_connections`` syncs every connection and then enqueues itself again
with ``run_after = now + ADMINUI_DIRECTORY_SYNC_INTERVAL`` — unless a later run is already waiting, so calling
``sync_all_connections.enqueue()`` at every worker start never multiplies the chain. ``0`` disables the repeat.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

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


def _next_run_pending() -> bool:
    return task_pending(f"{__name__}.sync_all_connections", status="READY", run_after__gt=timezone.now())


@task
def sync_all_connections() -> dict[str, str]:
    from apps.directory.services import directory_sync

    results = {}
    for connection in Connection.objects.order_by("name"):
        results[connection.slug] = directory_sync(connection=connection).status
    interval = settings.ADMINUI_DIRECTORY_SYNC_INTERVAL
    if interval > 0 and not _next_run_pending():
        sync_all_connections.using(run_after=timezone.now() + timedelta(seconds=interval)).enqueue()
    return results
