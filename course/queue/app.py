"""The Celery application of the course's queue: its broker (never a password on a command line)
and the check that a worker answers."""
import os

from course.core import Delivery

TASK = "course.run_submission"  # the one task: a submission's notebook run by a worker
BROKER_VARIABLE = "COURSE_BROKER_URL"


class QueueError(Exception):
    """The queue cannot be used as asked; the message says why and the fix."""


def queue_name():
    """The broker's queue this course's tasks go to: COURSE_QUEUE_NAME, else course-grading
    (two courses, or two tests, on one broker use two names)."""
    return os.environ.get("COURSE_QUEUE_NAME") or "course-grading"


def broker_url(given=None):
    """The broker's URL: `given` (from a command line: refused with a password in it), else
    COURSE_BROKER_URL."""
    from kombu.utils.url import url_to_parts

    if given:
        if url_to_parts(given).password:
            raise QueueError(f"the broker URL {shown(given)} holds a password, and every account "
                             "of this machine can read a command line. Fix: give it in "
                             f"{BROKER_VARIABLE} instead.")
        return given
    if not os.environ.get(BROKER_VARIABLE):
        raise QueueError(f"no broker: {BROKER_VARIABLE} is not set. Fix: set it to the broker's "
                         "URL, e.g. redis+socket:///run/course/redis.sock (docs/grading.md).")
    return os.environ[BROKER_VARIABLE]


def shown(url):
    """The URL as it may be printed: its password masked."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


def make_app(broker, delivery=None):
    """The Celery application on `broker` (a worker registers the task TASK on it)."""
    from celery import Celery

    delivery = delivery or Delivery.from_environment()
    app = Celery("course", broker=broker, backend=broker)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_accept_content=["json"], task_acks_late=True, task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1, task_time_limit=delivery.time_limit,
        task_soft_time_limit=delivery.time_limit - 60,
        # a message not acknowledged after `visibility` s goes back to the queue: looked for
        # every 10 s (kombu's default scans every 100 s)
        broker_transport_options={"visibility_timeout": delivery.visibility,
                                  "unacked_restore_throttle": 1},
        result_backend_transport_options={"visibility_timeout": delivery.visibility},
        result_expires=24 * 3600, task_default_queue=queue_name(),
        worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)
    return app


def check(app, broker):
    """QueueError unless the broker answers and at least one worker of this queue does."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
        answers = app.control.ping(timeout=5)
    except Exception as error:  # kombu and redis raise many kinds
        raise QueueError(f"the broker {shown(broker)} does not answer ({error}). Fix: start it "
                         "(docs/grading.md), or check COURSE_BROKER_URL.") from None
    if not answers:
        raise QueueError(f"no worker answers on {shown(broker)}. Fix: start at least one "
                         "(`python -m course.queue worker --root COPY`, as root) on the queue "
                         f"{queue_name()}.")
