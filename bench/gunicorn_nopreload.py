"""The line's gunicorn settings with preloading off: the wrong setup `faults.py reload
--demonstrate-failure` uses, where each new worker reads the content from disk itself."""
from pathlib import Path

_SETTINGS = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
exec(compile(_SETTINGS.read_text(), str(_SETTINGS), "exec"))
preload_app = False
