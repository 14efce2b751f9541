from __future__ import annotations

import subprocess

from conftest import INTCFG, cli_env


def test_demo_runs_the_whole_loop(tmp_path) -> None:
    proc = subprocess.run([INTCFG, "demo"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=600)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert out.rstrip().endswith("Demo complete.")
    assert "title=INTCFG-E106::userName is 101 characters long; at most 100 allowed" in out
    assert "9 credentials tested: 9 valid, 0 failed" in out
    assert "Plan: 20 to create, 0 to update, 0 to delete, 0 unchanged" in out
    assert (
        '  ~ update   sis/riverside-usd/ETranscriptVendor/parchment  (drift: changed in the live system outside git)\n'
        '      userName: "registrar.office@riverside-usd.example.org" -> "registrar@riverside-usd.example.org"\n'
    ) in out
    assert out.count("Intcfg-Result: success") == 2
    assert "demo-" not in out.replace("intcfg-demo-", "")  # no demo secret value is ever shown
    assert list(tmp_path.iterdir()) == []  # nothing left behind in the working directory
