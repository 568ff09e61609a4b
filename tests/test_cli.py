"""The `ivr` command as staff use it: validate the content, rehearse a call."""
from __future__ import annotations

import shutil

import pytest

from click.testing import CliRunner

from conftest import REPO
from ivr.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_passes_on_good_content(demo_root):
    result = run("validate", "--root", str(demo_root))
    assert result.exit_code == 0
    assert "OK: 9 nodes, 2 destinations, languages: en, es" in result.output


def test_validate_prints_file_line_errors_and_exits_1(tmp_path, demo_root):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    path = root / "menus/line.yaml"
    path.write_text(path.read_text().replace("goto: services}", "goto: servcies}"))
    result = run("validate", "--root", str(root))
    assert result.exit_code == 1
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "servcies" in t)
    assert f"menus/line.yaml:{line} nodes.main.options.2.goto: goes to unknown node 'servcies'" in result.output
    assert "error(s)" in result.output


def test_validate_production_refuses_placeholder_numbers(demo_root):
    result = run("validate", "--root", str(demo_root), "--production")
    assert result.exit_code == 1
    assert "placeholder: fill in the real number" in result.output


def test_simulate_reproduces_a_whole_call(demo_root):
    result = run("simulate", "--root", str(demo_root), "--keys", "-,2,2,1,*,0", "--dial", "busy,completed")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("[en-US Polly.Joanna-Neural] If someone may be overdosing, hang up and call "
                        "9 1 1 now.")
    assert "> caller presses 2" in lines
    assert "[es-US Polly.Lupe-Neural] Servicios." in lines
    assert "[es-US Polly.Lupe-Neural] Hay pruebas gratuitas. Llame a la línea de ayuda al 2 0 7, 5 5 5, 0 1 0 0." in lines
    assert "[dials +12075550100: busy]" in lines and "[dials +12075550101: completed]" in lines
    assert lines[-2] == "[es-US Polly.Lupe-Neural] Gracias por llamar. Cuídese."
    assert lines[-1] == "-- call ended --"
    assert not any(line.startswith("!!") for line in lines)


def test_simulate_caller_hangs_up_when_keys_run_out(demo_root):
    result = run("simulate", "--root", str(demo_root), "--keys", "-,1")
    assert result.output.splitlines()[-2:] == ["(caller hangs up)", "-- call ended --"]


# -- the line's own command (issue 16) ------------------------------------------------------------

def test_help_lists_only_the_lines_commands_and_logs_nothing(caplog):
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "simulate", "transcript", "translations", "audio-script", "directory", "schema"):
        assert f"  {command}" in result.output
    for flask in ("--app", "--debug", "routes", "  run", "shell"):
        assert flask not in result.output
    assert not caplog.records


def test_version_is_the_projects():
    from importlib.metadata import version
    assert CliRunner().invoke(main, ["--version"]).output == f"ivr {version('ivr')}\n"


def test_simulate_takes_a_zip_code_typed_at_the_prompt(demo_root):
    result = CliRunner().invoke(main, ["simulate", "--root", str(REPO)], input="\n1\n8\n1\n04101\nq\n")
    assert result.exit_code == 0, result.output
    assert "> caller presses 04101" in result.output
    assert "Here are the nearest places we know of." in result.output



def test_simulate_shows_a_text_it_never_sends():
    """A simulated call is a rehearsal: the list the caller asks for by text is shown in the
    terminal, and the line's text sender is never asked (it raises if it is)."""
    result = run("simulate", "--root", str(REPO), "--keys", "-,1,8,1,04330,1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    shown = lines.index("[text message the caller would get]")
    assert lines[shown + 1].startswith("    The places you asked about")
    assert "[en-US Polly.Joanna-Neural] We sent the list by text message." in lines[shown:]

def test_simulate_rehearses_a_holiday_at_3_am(demo_root):
    result = run("simulate", "--root", str(demo_root), "--keys", "-,1,0", "--dial", "busy",
                 "--at", "2026-12-25 03:00")
    assert "That line is closed right now." in result.output  # Christmas night: the helpline is closed
    assert "[dials +12075550101: busy]" in result.output


@pytest.mark.parametrize("value,hint", [("no_answer", "did you mean no-answer?"), ("maybe", "use completed")])
def test_simulate_checks_dial_outcomes(demo_root, value, hint):
    result = CliRunner().invoke(main, ["simulate", "--root", str(demo_root), "--keys", "1", "--dial", value])
    assert result.exit_code == 2 and hint in result.output


def test_simulate_accepts_outcomes_in_any_case_and_says_when_they_run_out(demo_root):
    result = run("simulate", "--root", str(demo_root), "--keys", "-,1,0", "--dial", "Busy")
    assert "[dials +12075550100: busy]" in result.output
    assert result.output.splitlines()[-1] == "!! --dial has no outcome left for this transfer: add one"


def test_broken_content_is_one_plain_message_never_a_traceback(tmp_path, demo_root):
    root = tmp_path / "line"
    shutil.copytree(demo_root, root)
    path = root / "menus/line.yaml"
    path.write_text(path.read_text().replace("goto: services}", "goto: servcies}"))
    for command in (["simulate", "--keys", "1"], ["transcript", "en"], ["audio-script", "en"]):
        result = CliRunner().invoke(main, [*command, "--root", str(root)])
        assert result.exit_code == 1 and "Traceback" not in result.output, command
        assert "goes to unknown node 'servcies'" in result.output


def test_audio_script_into_a_missing_folder_says_so(tmp_path):
    result = CliRunner().invoke(main, ["audio-script", "so", "-o", str(tmp_path / "missing" / "x.csv")])
    assert result.exit_code == 1 and "No such file or directory" in result.output


def test_validate_and_audio_script_agree_on_what_somali_must_record():
    validate = CliRunner().invoke(main, ["validate"]).output
    script = CliRunner().invoke(main, ["audio-script", "so"]).output
    rows = len(script.splitlines()) - 1
    assert f"{rows} of {rows} recordings are not in locales/so/audio/" in validate
