"""Background work for transfers (django.tasks; ``make run`` starts the django-tasks-db worker)."""

from __future__ import annotations

import logging

from django.tasks import task

from apps.core.context import RequestMeta, request_meta_var

logger = logging.getLogger(__name__)


@task
def bundle_build_task(bundle_id: str, only_failed: bool = False, request_id: str | None = None) -> str:
    """Build (or finish retrying) a bundle; the request id of the page that queued it ties the audit rows together.
    Then tidy up: expired bundle files and day-old staged imports go (``transfers_cleanup``)."""
    from apps.transfers.services.bundles import bundle_build
    from apps.transfers.services.cleanup import transfers_cleanup
    from apps.transfers.storage import StorageProblem

    token = request_meta_var.set(RequestMeta(request_id=request_id or "-"))
    try:
        status = bundle_build(bundle_id=bundle_id, only_failed=only_failed).status
    finally:
        request_meta_var.reset(token)
    try:
        transfers_cleanup()
    except (OSError, StorageProblem):  # a cleanup hiccup must not mark a finished bundle's task as failed
        logger.exception("transfers cleanup after bundle %s failed", bundle_id)
    return status
