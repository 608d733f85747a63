"""Command-line parsing shared by the subcommands: numbers, lists, sweep axes, the rule's options.

Conventions (docs/guide/cli.md, docs/guide/studies.md "Axes"): a list is comma-separated and may start with a negative
number (``--arms -0.5,0``); a single-valued option given twice is an error; counts accept
integer-valued numbers (``1e4``, ``100.0``) as the Python API does; a sweep axis is a list or a
range ``start:stop:num``, log-spaced when written ``start:stop:num:log``.
"""

from __future__ import annotations

import argparse
import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np

from ..checks import check_count

NEGATIVE = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)  # a value, not an option


class Once(argparse.Action):
    """Store a value; the same option given twice is an error (not a silent last-one-wins)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen: set[str] = getattr(namespace, "_given", set())
        if self.dest in seen:
            parser.error(f"{option_string} given twice; give it once")
        namespace._given = seen | {self.dest}
        setattr(namespace, self.dest, values)


def join_negative_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``--opt -0.5,0`` -> ``--opt=-0.5,0`` for options that take a value (argparse would read
    "-0.5,0" as an option: it only recognises plain negative numbers)."""
    takes_value = {
        flag
        for action in _all_actions(parser)
        if action.nargs != 0 and action.option_strings
        for flag in action.option_strings
    }
    out, i = [], 0
    while i < len(argv):
        token = argv[i]
        if token in takes_value and i + 1 < len(argv) and NEGATIVE.match(argv[i + 1]):
            out.append(f"{token}={argv[i + 1]}")
            i += 2
        else:
            out.append(token)
            i += 1
    return out


def _all_actions(parser: argparse.ArgumentParser):
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return value


def count(name: str):
    """An argparse type for the API argument ``name``: an integer >= 1, integer-valued floats
    accepted (the API's rule and message)."""

    def parse(text: str) -> int:
        try:  # as a decimal: 12345678901234567891 and 1e20 stay exact (a float would round them)
            exact = Decimal(text.strip())
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 1, got {text!r}") from None
        whole = exact.is_finite() and exact.adjusted() <= 100 and exact == exact.to_integral_value()
        try:
            return check_count(name, int(exact) if whole else float(exact))
        except (ValueError, TypeError, OverflowError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return parse


def number_list(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def number_pair(name: str):
    def parse(text: str) -> tuple[float, float]:
        values = number_list(text)
        if len(values) != 2:
            raise argparse.ArgumentTypeError(f"{name}: expected two comma-separated numbers, got {text!r}")
        return values[0], values[1]

    return parse


def parse_axis(option: str, text: str, *, integer: bool = False) -> list:
    """A sweep axis: "0.1,1,10", or a range "start:stop:num" (linear) or "start:stop:num:log"
    (geometric), its values rounded to 12 digits. Counts (``integer``) are rounded in ranges and must
    be whole in lists."""
    parts = text.split(":")
    try:
        if len(parts) == 1:
            values = [float(x) for x in text.split(",")]
        elif len(parts) in (3, 4) and (len(parts) == 3 or parts[3] in ("log", "lin")):
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            log = len(parts) == 4 and parts[3] == "log"
            values = None
        else:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{option}: expected comma-separated numbers (0.1,1,10) or a range start:stop:num, log-spaced as "
            f"start:stop:num:log (0.01:100:25:log), got {text!r}"
        ) from None
    if values is None:
        from ..study.axes import MAX_SETTINGS

        if num < 1:
            raise ValueError(f"{option}: a range needs num >= 1, got {text!r}")
        if num > MAX_SETTINGS:  # refused before the values are made (num = 10**9 would fill the memory)
            raise ValueError(f"{option}: a range of {num:,} values; a study holds at most {MAX_SETTINGS:,} settings")
        if log and (start <= 0 or stop <= 0):
            raise ValueError(f"{option} {text}: a log range needs start and stop > 0")
        values = (np.geomspace if log else np.linspace)(start, stop, num).tolist()
        if math.isfinite(start) and math.isfinite(stop):  # else the axis's check refuses the values
            values = _round_range(values, start, stop, log)
            if len(set(values)) < len(values):
                raise ValueError(f"{option}: the range {text} gives repeated values {values}")
    if not integer:
        return values
    if not np.isfinite(values).all():
        raise ValueError(f"{option}: values must be whole numbers, got {text!r}")
    if len(parts) > 1:  # a range of counts is rounded (100:10000:5:log -> 100, 316, 1000, ...)
        rounded = [round(v) for v in values]
        if len(set(rounded)) < len(rounded):
            raise ValueError(f"{option}: the range {text} rounds to repeated whole numbers {rounded}")
        return rounded
    if any(v != round(v) for v in values):
        raise ValueError(f"{option}: values must be whole numbers, got {text!r}")
    return [round(v) for v in values]


def _round_range(values: list[float], start: float, stop: float, log: bool) -> list[float]:
    """A range's values as people would type them: the ends exactly as given, the others rounded to 12
    significant digits (0.12499999999999999 -> 0.125: a table's 0.125 must find it); a linear range's
    at 12 digits of its larger end, so that its crossing of zero is 0, not 5.6e-17."""
    if log:
        rounded = [float(f"{v:.12g}") for v in values]
    else:
        scale = max(abs(start), abs(stop))
        places = 11 - math.floor(math.log10(scale)) if scale > 0 else 0
        rounded = [round(v, places) + 0.0 for v in values]  # + 0.0: -0.0 -> 0.0
    rounded[0] = start
    if len(rounded) > 1:
        rounded[-1] = stop
    return rounded
