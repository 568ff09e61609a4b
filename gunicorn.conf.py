"""gunicorn settings for the line; `gunicorn app:app` reads this file from the working directory.

Process-wide set-up lives here, in gunicorn's hooks, not in the app factory (see ivr/runtime.py).
"""
from ivr import runtime

# Load the content once in the master, then fork: workers share its memory, start at once, and a
# worker restarted while a content file is broken still has the last good flow.
preload_app = True
workers = 2
# On SIGTERM or SIGHUP a worker finishes the request in hand before it exits.
graceful_timeout = 30
# The line's own log lines (never a caller's number) beside gunicorn's.
logconfig_dict = runtime.LOGGING


def when_ready(server):
    """In the master, once the preloaded app is built: freeze it for the workers to share."""
    runtime.freeze_loaded()


def post_fork(server, worker):
    """In each worker: its own content watcher, if the line reloads its content."""
    runtime.start_worker(worker.app.wsgi())
