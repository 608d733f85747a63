"""``batched-bandit compare DIR --a AXIS=VALUE ... --b AXIS=VALUE ...``: paired comparisons."""

from __future__ import annotations

import argparse
import math

from ..metrics import METRICS
from .args import Once


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "compare",
        help="is setting A better than setting B? (paired: McNemar's exact test, or a paired t test)",
        description="Compare two settings of a study on their common bandits (the settings share their random "
        "numbers, so bandits pair up). Success: the difference of the success rates with its 95% interval and "
        "McNemar's exact test on the per-bandit verdicts. Any other metric: the mean paired difference with its 95% "
        "interval, the paired t test and Wilcoxon's signed-rank test as a check. Repeat --a/--b for several pairs: "
        "Holm's correction applies.",
    )
    parser.add_argument("folder", help="a study folder (from batched-bandit sweep)")
    parser.add_argument("--a", nargs="+", action="append", required=True, metavar="AXIS=VALUE",
                        help="setting A, e.g. --a temperature=0.1 lr=0.01; repeat for more pairs")  # fmt: skip
    parser.add_argument("--b", nargs="+", action="append", required=True, metavar="AXIS=VALUE",
                        help="setting B, as --a")  # fmt: skip
    parser.add_argument("--metric", action=Once, default="success", choices=list(METRICS), metavar="METRIC",
                        help=f"the metric compared: {', '.join(METRICS)} (default success)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the comparisons as JSON")
    return parser


def selector(words: list[str], option: str) -> dict:
    """["temperature=0.1", "arms=0,0.5", "optimizer=adam"] -> {"temperature": 0.1, "arms": (0.0, 0.5), ...}."""
    out: dict[str, object] = {}
    given: dict[str, str] = {}
    for word in words:
        key, sep, text = word.partition("=")
        if not sep or not key:
            raise ValueError(f"{option}: expected AXIS=VALUE, got {word!r}")
        axis = key.replace("-", "_")
        if axis in given:  # one setting has one value per axis: the last one must not silently win
            raise ValueError(f"{option}: the axis {axis} is given twice ({given[axis]} and {word}); give it once")
        given[axis] = word
        out[axis] = value(text)
    return out


def value(text: str):
    """A selector's value: a bool, a number or a vector of numbers keeping the digits typed (0.03162 names
    the 0.0316227766... a table shows so), or a word."""
    from ..study.selector import Typed

    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        numbers = [Typed(x) for x in text.split(",")]
    except ValueError:
        return text  # a choice (optimizer=adam) or a random problem (normal:10:4:1)
    return numbers[0] if len(numbers) == 1 else tuple(numbers)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    import json

    from ..study import compare

    if len(args.a) != len(args.b):
        parser.error(f"give as many --b as --a ({len(args.a)} --a, {len(args.b)} --b)")
    pairs = [(selector(a, "--a"), selector(b, "--b")) for a, b in zip(args.a, args.b)]
    results = compare(args.folder, pairs=pairs, metric=args.metric)
    if args.json:
        records = [{**r.__dict__, "a": _jsonable(r.a), "b": _jsonable(r.b)} for r in results]
        print(json.dumps([{k: _defined(v) for k, v in r.items()} for r in records], indent=2))
    else:
        print("\n".join(r.summary() for r in results))
    return 0


def _jsonable(setting: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v if isinstance(v, (int, float, str, bool)) else str(v)
            for k, v in setting.items()}  # fmt: skip


def _defined(value):
    """NaN (an interval or t test of one pair) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return [_defined(v) for v in value] if isinstance(value, tuple) else value
