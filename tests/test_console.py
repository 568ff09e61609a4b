"""The staff console's door: off unless configured, every page behind a login, CSRF on every form,
failed logins limited, and the Twilio webhooks exactly as they were."""
from __future__ import annotations

import json
import re
import stat

import pytest
from click.testing import CliRunner

from conftest import REPO, TOKEN, Call
from ivr import create_app
from ivr.cli import main as cli
from ivr.simulate import signed_post

PASSWORD = "correct horse battery staple"


def add_user(path, name="alice", password=PASSWORD):
    return CliRunner().invoke(cli, ["console", "add-user", "--file", str(path), name],
                              input=f"{password}\n{password}\n")


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "console-users"
    assert add_user(path).exit_code == 0
    return path


def console_app(users_file, **config):
    return create_app({"CONTENT_ROOT": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN, "STATISTICS": False,
                       **({"CONSOLE_USERS": str(users_file)} if users_file else {}), **config}, environ={})


@pytest.fixture
def app(users_file):
    return console_app(users_file)


def csrf_token(page) -> str:
    return re.search(r'(?:name="csrf_token" value|name="csrf-token" content)="([^"]+)"', page.get_data(as_text=True)).group(1)


def log_in(client, name="alice", password=PASSWORD, next_page=""):
    token = csrf_token(client.get("/console/login"))
    return client.post("/console/login", data={"name": name, "password": password, "csrf_token": token,
                                               "next": next_page})


def console_pages(app) -> list[str]:
    """Every page of the console, with example values for its parts (so a new page is covered too)."""
    examples = {"node_id": "main", "code": "es", "filename": "console.css"}
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint not in ("console.login", "console.static"):
            found.append((rule.build({k: examples[k] for k in rule.arguments})[1], rule.methods))
    return found


def test_the_console_is_off_unless_a_users_file_is_configured():
    client = console_app(None).test_client()
    assert client.get("/console/").status_code == 404
    assert client.get("/console/login").status_code == 404


def test_a_missing_users_file_leaves_the_console_off_and_the_line_answering(tmp_path, caplog):
    app = console_app(tmp_path / "nobody")
    assert "the staff console is off" in caplog.text and "ivr console add-user" in caplog.text
    assert app.test_client().get("/console/login").status_code == 404
    assert Call(app.test_client()).start().says()


def test_no_page_opens_without_a_login(app):
    client = app.test_client()
    pages = console_pages(app)
    assert len(pages) >= 9
    for path, methods in pages:
        if "GET" in methods:
            response = client.get(path)
            assert response.status_code == 302 and response.location.startswith("/console/login"), path
            assert "Maine" not in response.get_data(as_text=True)
    token = csrf_token(client.get("/console/login"))
    answer = client.post("/console/phone/step", json={"start": True}, headers={"X-CSRFToken": token})
    assert answer.status_code == 401 and "log in" in answer.get_json()["error"]


def test_log_in_then_out(app):
    client = app.test_client()
    wrong = log_in(client, password="not the password at all")
    assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    assert client.get("/console/").status_code == 302
    right = log_in(client, next_page="/console/languages")
    assert right.status_code == 302 and right.location == "/console/languages"
    page = client.get("/console/")
    assert page.status_code == 200 and "Log out alice" in page.get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/console/").status_code == 302


def test_after_logging_in_the_console_never_sends_anyone_elsewhere(app):
    client = app.test_client()
    assert log_in(client, next_page="https://elsewhere.example/console").location == "/console/"
    assert log_in(client, next_page="//elsewhere.example/console").location == "/console/"


def test_a_form_without_its_csrf_token_is_refused(app):
    client = app.test_client()
    client.get("/console/login")
    refused = client.post("/console/login", data={"name": "alice", "password": PASSWORD})
    assert refused.status_code == 400 and "try again" in refused.get_data(as_text=True)
    assert client.get("/console/").status_code == 302  # not logged in
    log_in(client)
    assert client.post("/console/logout").status_code == 400
    assert client.get("/console/").status_code == 200  # still logged in
    phone = client.post("/console/phone/step", json={"start": True})
    assert phone.status_code == 400 and "try again" in phone.get_json()["error"]


def test_failed_logins_are_limited_by_name_and_by_address(app):
    client = app.test_client()
    for _ in range(5):
        assert log_in(client, password="a wrong guess, again").status_code == 401
    locked = log_in(client)  # the right password, too late
    assert locked.status_code == 429 and "Too many failed logins" in locked.get_data(as_text=True)
    other = app.test_client()
    assert log_in(other, name="bob").status_code == 429  # the same address tried too often
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert log_in(elsewhere).status_code == 429  # and so did the name



def test_failed_logins_under_endless_names_use_bounded_memory():
    """A flood of failed logins under made-up names holds at most max_keys entries (the oldest
    dropped first), and the address that floods stays locked out."""
    from ivr.console.auth import LoginThrottle
    now = [0.0]
    throttle = LoginThrottle(limit=5, window=900, clock=lambda: now[0], max_keys=100)
    for _ in range(5):
        throttle.failed("alice", "192.0.2.1")
    for n in range(1_000):
        now[0] += 0.01
        throttle.failed(f"guess{n}", "198.51.100.9")
    assert len(throttle._failures) <= 100
    assert throttle.wait("alice", "203.0.113.5") == 0  # the oldest were dropped to stay bounded
    assert throttle.wait("guess999", "203.0.113.5") == 0 and throttle.wait("x", "198.51.100.9") > 0

def test_a_removed_user_or_a_new_password_ends_the_sessions(app, users_file):
    client = app.test_client()
    log_in(client)
    assert add_user(users_file, password="another long passphrase").exit_code == 0
    assert client.get("/console/").status_code == 302
    log_in(client, password="another long passphrase")
    assert client.get("/console/").status_code == 200
    assert CliRunner().invoke(cli, ["console", "remove-user", "--file", str(users_file), "alice"]).exit_code == 0
    assert client.get("/console/").status_code == 302


def test_every_worker_and_host_reading_the_file_shares_the_sessions(users_file):
    first, second = console_app(users_file).test_client(), console_app(users_file).test_client()
    log_in(first)
    cookie = first.get_cookie("ivr_console", path="/console")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Strict"
    second.set_cookie(cookie.key, cookie.value, path="/console")
    assert second.get("/console/").status_code == 200


def test_pages_are_kept_out_of_caches_and_frames(app):
    client = app.test_client()
    log_in(client)
    headers = client.get("/console/flow").headers
    assert headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_the_webhooks_and_their_signature_check_are_unchanged(app, users_file):
    plain = console_app(None).test_client()
    with_console = app.test_client()
    for client in (plain, with_console):
        assert client.post("/voice", data={"CallSid": "CA1"}).status_code == 403  # unsigned
        forged = client.post("/voice", data={"CallSid": "CA1"}, headers={"X-Twilio-Signature": "A" * 27 + "="})
        assert forged.status_code == 403
    fields = {"CallSid": "CA" + "1" * 32, "From": "+12075550111", "To": "+12075550123"}
    answers = [signed_post(c, TOKEN, "/voice/input/main?lang=es", {**fields, "Digits": "2"}) for c in (plain, with_console)]
    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].data == answers[1].data  # the same TwiML, and no CSRF token asked of Twilio
    assert "Set-Cookie" not in answers[1].headers


def test_add_user_writes_hashes_and_a_secret_never_a_password(users_file):
    data = json.loads(users_file.read_text())
    assert len(data["secret"]) == 64 and data["users"]["alice"].startswith("scrypt:")
    assert PASSWORD not in users_file.read_text()
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o640
    users_file.chmod(0o600)
    assert add_user(users_file, "bob").exit_code == 0
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600  # an existing file keeps its mode
    listed = CliRunner().invoke(cli, ["console", "users", "--file", str(users_file)])
    assert listed.output.split() == ["alice", "bob"]
    assert json.loads(users_file.read_text())["secret"] == data["secret"]


def test_add_user_refuses_short_passwords_and_odd_names(tmp_path):
    short = add_user(tmp_path / "users", password="short")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    odd = add_user(tmp_path / "users", name="alice smith")
    assert odd.exit_code == 1 and "cannot be a login name" in odd.output
    assert not (tmp_path / "users").exists()
    nowhere = CliRunner().invoke(cli, ["console", "users"], env={"IVR_CONSOLE_USERS": ""})
    assert nowhere.exit_code == 2 and "IVR_CONSOLE_USERS" in nowhere.output
