"""Reloading the content while the line serves: a broken change never replaces the last good flow."""
from __future__ import annotations

import gc
import logging
import shutil
import threading
import time

from conftest import TOKEN, Call
from ivr import create_app, runtime


def wait_until(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_broken_reload_keeps_the_last_good_flow_and_logs_file_line(tmp_path, demo_root, caplog):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    app = create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN})
    state = app.extensions["ivr"]
    path = root / "menus/line.yaml"
    path.write_text(path.read_text().replace("goto: services}", "goto: servcies}"))
    with caplog.at_level(logging.ERROR):
        assert state.reload() is False
    assert "menus/line.yaml:" in caplog.text and "unknown node 'servcies'" in caplog.text
    call = Call(app.test_client())
    assert call.choose_language("1").says()[0] == "Main menu."  # still the last good flow
    path.write_text(path.read_text().replace("goto: servcies}", "goto: services}")
                    .replace('number: "+12075550100"', 'number: "+12075550102"'))
    assert state.reload() is True
    call.choose_language("1")
    assert call.press("0").find("Dial/Number").text == "+12075550102"


def test_the_watcher_reloads_a_saved_change(tmp_path, demo_root):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    app = create_app({"CONTENT_ROOT": str(root), "TWILIO_AUTH_TOKEN": TOKEN, "RELOAD_SECONDS": 0.1})
    watcher = runtime.start_worker(app)  # what gunicorn's post_fork hook does in each worker
    try:
        call = Call(app.test_client())
        assert call.choose_language("2").says()[0] == "Menú principal."
        po = root / "locales/es/LC_MESSAGES/messages.po"
        po.write_text(po.read_text().replace('msgstr "Menú principal."', 'msgstr "Menú de inicio."'))
        assert wait_until(lambda: call.choose_language("2").says()[0] == "Menú de inicio.")
    finally:
        watcher.stop()


def test_create_app_starts_no_thread_and_changes_nothing_process_wide(demo_root):
    """A test, or a second app in one process, inherits no watcher, frozen heap or log handler."""
    threads, frozen = threading.active_count(), gc.get_freeze_count()
    handlers = list(logging.getLogger().handlers)
    create_app({"CONTENT_ROOT": str(demo_root), "TWILIO_AUTH_TOKEN": TOKEN, "RELOAD_SECONDS": 0.1})
    assert threading.active_count() == threads
    assert gc.get_freeze_count() == frozen
    assert logging.getLogger().handlers == handlers
