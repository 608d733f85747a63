"""The README's ten-line example runs and prints what the README shows (issue 19: nothing checked
that its examples still run). The fused CPU engine's numbers are the same on every CPU (its own
exp, no contraction: tests/test_seed_path.py), so the text is compared whole."""

import re
import subprocess
import sys
from pathlib import Path

from conftest import need

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_ten_line_example_prints_what_the_readme_shows():
    need("cpu")
    section = README.read_text().split("## In ten lines", 1)[1]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.S)[:2]
    assert "run_batch" in code and len(code.strip().splitlines()) <= 10
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == shown
