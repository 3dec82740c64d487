"""Looking at queued background work (django.tasks with the django-tasks-db backend)."""

from __future__ import annotations

from typing import Any


def task_pending(task_path: str, **filters: Any) -> bool:
    """Whether a task row for ``task_path`` matching ``filters`` exists; False with another backend (no way to
    look, so callers go ahead)."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return False
    return DBTaskResult.objects.filter(task_path=task_path, **filters).exists()
