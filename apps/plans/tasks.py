"""Background work of change plans (django.tasks, django-tasks-db backend).

``plan_apply_task`` applies one approved plan. ``plans_expire_task`` (or the plain function
``apps.plans.services.plans_expire``) is for the scheduler: it expires approval requests nobody answered and reverts
time-boxed plans whose access ended.
"""

from __future__ import annotations

from django.tasks import task

from apps.plans.services import plan_apply, plans_expire


@task
def plan_apply_task(plan_id: int, resume: bool = False) -> str:
    return plan_apply(plan_id=plan_id, resume=resume)


@task
def plans_expire_task() -> list[int]:
    return plans_expire()
