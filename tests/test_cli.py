"""The `ivr` command as staff use it: validate the content, rehearse a call."""
from __future__ import annotations

import shutil

from click.testing import CliRunner

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
