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
# The access log without query strings or referers: with the number set to GET, Twilio's fields
# (From, Caller, FromZip...) and a caller's ZIP code travel in the query.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


def when_ready(server):
    """In the master, once the preloaded app is built and the sockets bound: refuse to serve the
    unprotected development mode beyond this machine, and freeze the app for the workers to share."""
    problem = runtime.unsafe_binding(server.app.wsgi(), [listener.sock.getsockname() for listener in server.LISTENERS])
    if problem:
        server.log.error(problem)
        server.halt(problem, exit_status=1)
    runtime.freeze_loaded()


def post_fork(server, worker):
    """In each worker: its statistics writer, and its content watcher if the line reloads."""
    runtime.start_worker(worker.app.wsgi())


def worker_exit(server, worker):
    """A worker stopping (SIGTERM, SIGHUP, max requests) stores the counts it still holds."""
    runtime.stop_worker(worker.app.wsgi())
