"""The Celery app; without REDIS_URL tasks run eagerly in-process (settings.CELERY_TASK_ALWAYS_EAGER).

Worker: `celery -A gateway worker`; beat (schedule: CELERY_BEAT_SCHEDULE in settings) runs
as `celery -A gateway beat`, or embedded with `worker -B` when there is one worker.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")

app = Celery("switchyard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
