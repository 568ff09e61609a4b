"""gunicorn settings for the line; `gunicorn app:app` reads this file from the working directory."""

# Load the content once in the master, then fork: workers share its memory, start at once, and a
# worker restarted while a content file is broken still has the last good flow.
preload_app = True
workers = 2
# On SIGTERM or SIGHUP a worker finishes the request in hand before it exits.
graceful_timeout = 30

