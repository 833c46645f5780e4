"""Background work of orders that the task worker (``manage.py db_worker``) runs. The import
of a large file has its task beside the import it runs: ``orders.importers.service``."""

import logging

from django.db import transaction
from django.tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from orders.models import Channel
from orders.platforms.sync import accounts_due, platform_sync
from orders.services import backorders_fill

logger = logging.getLogger(__name__)


@task()
def fill_backorders(pairs: list[list[int]]) -> int:
    """Allocate back-orders that wait for the given [product_id, grade_id] pairs."""
    return backorders_fill(product_grade_pairs=[(product, grade) for product, grade in pairs])


@task()
def sync_platform(channel_id: int, force: bool = False) -> dict[str, str]:
    """One platform sync run of a channel (``orders.platforms.sync.platform_sync``)."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return {}
    return platform_sync(channel, force=force)


def _sync_waiting(channel_id: int) -> bool:
    """A sync task of this channel is queued or running already."""
    for args_kwargs in DBTaskResult.objects.filter(
        task_path=sync_platform.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    ).values_list("args_kwargs", flat=True):
        args = (args_kwargs or {}).get("args") or []
        kwargs = (args_kwargs or {}).get("kwargs") or {}
        if (args[0] if args else kwargs.get("channel_id")) == channel_id:
            return True
    return False


def platform_sync_enqueue(channel: Channel, *, force: bool = False) -> bool:
    """Queue a sync run of ``channel`` unless one is queued or running; True when queued.
    The task is queued once the caller's transaction commits."""
    if _sync_waiting(channel.pk):
        return False
    transaction.on_commit(lambda: sync_platform.enqueue(channel.pk, force))
    return True


def sweep_platform_sync() -> int:
    """The task workers' sweep (``core.leases``): queue a run for each enabled account whose
    last run is ``PLATFORM_SYNC_SECONDS`` old. Returns how many were queued."""
    queued = 0
    for account in accounts_due():
        if platform_sync_enqueue(account.channel):
            queued += 1
    return queued
