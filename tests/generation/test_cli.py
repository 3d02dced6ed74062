"""`python -m generation`: help, generate, info, one-line errors with exit status 1."""

import subprocess
import sys
from pathlib import Path

import pytest

from generation.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "generation", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("generate", "info"):
        assert command in out


def test_generate_streams_to_stdout_and_usage_to_stderr(tiny_model_dir, capsys):
    rc = main(
        [
            "generate",
            "--prompt",
            "hi",
            "--model",
            str(tiny_model_dir),
            "--max-new-tokens",
            "6",
            "--seed",
            "1",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0
    assert captured.out.endswith("\n")
    assert "completion_tokens=6" in captured.err or "finish=eos" in captured.err


def test_info_on_a_directory(tiny_model_dir, capsys):
    assert main(["info", "--model", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "parameters:" in out and "dtype:" in out and "load_seconds:" in out


def _assert_one_line_error(proc):
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_model_is_one_line_error(tmp_path):
    proc = run_cli("generate", "--prompt", "x", "--model", str(tmp_path / "missing.gguf"))
    _assert_one_line_error(proc)
    assert "missing.gguf" in proc.stderr


def test_corrupt_gguf_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf at all")
    proc = run_cli("info", "--model", str(bad))
    _assert_one_line_error(proc)


def test_bad_parameter_is_one_line_error(capsys, tiny_model_dir):
    assert (
        main(["generate", "--prompt", "x", "--model", str(tiny_model_dir), "--temperature", "-1"])
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: temperature must be between 0.0 and 2.0, not -1.0"]


@pytest.mark.real_model
def test_info_on_the_default_model(default_model_dir, capsys):
    assert main(["info", "--model", str(default_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "134,515,008" in out
