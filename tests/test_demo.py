from __future__ import annotations

import subprocess

from conftest import INTCFG, cli_env


def test_demo_runs_end_to_end(tmp_path) -> None:
    proc = subprocess.run([INTCFG, "demo"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Demo complete." in proc.stdout
    assert "INTCFG-E106 userName is 101 characters long; at most 100 allowed" in proc.stdout
    assert list(tmp_path.iterdir()) == []  # nothing left behind in the working directory
