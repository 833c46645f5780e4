"""``manage.py db_worker``: django-tasks-db's worker, leased.

The library's worker claims a task by marking its row RUNNING; were the worker killed, the row
would stay RUNNING for ever and nobody would run the task again. This command (it replaces the
library's: ``core`` comes before ``django_tasks_db`` in ``INSTALLED_APPS``) runs the same
worker, with the same options, inside a lease (``core.leases``):

* it holds ``worker:<worker id>`` for its whole life, renewed by a heartbeat thread: the tasks
  it runs are leased through it, and ``/health/`` counts it as a live worker;
* when it starts it sweeps once (tasks of workers that are gone are queued again, stale leases
  dropped, stopped imports resumed, orders left waiting allocated), and then again every
  ``LEASE_SWEEP_SECONDS`` from a thread beside the task it runs (not in ``--batch`` mode,
  which sweeps once and exits when the queue is empty).

The worker id defaults to ``host:pid:token`` so that a task row says where it ran.
"""

import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker as library

from core import leases


class Worker(library.Worker):
    def run(self) -> None:
        name = leases.worker_lease_name(self.worker_id)
        with leases.hold(name, kind=leases.WORKER, renew=True):
            try:
                leases.sweep()
            except Exception:
                library.logger.exception("The start-up sweep failed; the worker goes on")
            sweeper = None
            if not self.batch:
                sweeper = leases.Sweeper()
                sweeper.start()
            try:
                super().run()
            finally:
                if sweeper is not None:
                    sweeper.stop()


class Command(library.Command):
    help = (
        "Run a database background worker that holds a lease with a heartbeat and sweeps up "
        "work whose worker is gone (see core/leases.py)."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=leases.holder_id())

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        # The library's handle(), with this module's Worker.
        self.configure_logging(verbosity)
        if reload and batch:
            library.logger.warning(
                "Warning: --reload and --batch cannot be specified together. Disabling autoreload."
            )
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
