"""The README's ten-line example runs and prints what the README shows (issue 19: nothing checked
that its examples still run). The fused CPU engine's numbers are the same on every CPU (its own
exp, no contraction: tests/test_seed_path.py), but means over bandits are sums whose order torch
may choose by CPU: the text is compared whole, each number to the last digit the README shows."""

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
    number = r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?"
    assert re.split(number, done.stdout) == re.split(number, shown)  # the words, spacing and layout
    for got, want in zip(re.findall(number, done.stdout), re.findall(number, shown)):
        digits = len(want.split("e")[0].split(".")[1]) if "." in want else 0
        scale = 10 ** int(want.split("e")[1]) if "e" in want else 1
        assert abs(float(got.replace(",", "")) - float(want.replace(",", ""))) <= 10**-digits * scale, (got, want)
