"""Naming one setting of a study the way people type it: ``lr=0.03162`` as a table shows it.

A number names the axis value equal to it, or else the one value that rounds to it at the
significant digits typed (0.03162 names 0.031622776601683794; 0.1 names 0.1 even beside 0.12),
typed with at least the digits a table shows of it (``SHOWN``, 3, or all its digits when it has
fewer: 0.1 does not name 0.14). Two values that round alike are ambiguous and refused with both
shown. The digits come from the text (``Typed``, from the command line) or from a float's shortest
repr (the Python API).
"""

from __future__ import annotations

import numbers
from decimal import Decimal, InvalidOperation

from ..random_arms import RandomArms

SHOWN_DIGITS = 6  # "%g": how values are listed, unless they need more digits to be told apart
SHOWN = 3  # the fewest significant digits a table or figure shows of a value ("%.3g")


class Typed(float):
    """A number with the text it was typed as: ``Typed("0.0316")`` is 0.0316 with 3 significant digits."""

    def __new__(cls, text: str):
        number = super().__new__(cls, text)
        number.text = text.strip()
        number.digits = significant_digits(number.text)
        return number


def significant_digits(text: str) -> int | None:
    """ "0.03162" -> 4, "0.10" -> 2, "1e2" -> 1, "300" -> 3; None for inf and nan (they match exactly or not at all)."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return len(number.as_tuple().digits) if number.is_finite() else None


def find_setting(study, selector: dict, name: str = "setting") -> int:
    """The index of the one setting of ``study`` (anything with ``.settings``, a list of dicts) whose
    axes match ``selector`` (axis -> value; numbers as typed, see the module's docstring)."""
    if not isinstance(selector, dict) or not selector:
        raise TypeError(f"{name} must be a dict axis -> value naming one setting, got {selector!r}")
    axes = {k for s in study.settings for k in s}
    unknown = set(selector) - axes
    if unknown:
        raise ValueError(f"{name}: the study has no axis {sorted(unknown)[0]!r}; its axes: {', '.join(sorted(axes))}")
    named = {k: {_key(v) for v in _named_values(study, k, wanted, name)} for k, wanted in selector.items()}
    matches = [i for i, s in enumerate(study.settings) if all(_key(s.get(k)) in named[k] for k in selector)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        values = "; ".join(f"{k} {listed(_present(study, k))}" for k in selector)
        raise ValueError(f"{name}: no setting has {describe(selector)}; values in the study: {values}")
    varying = sorted({k for k in axes if len({_key(study.settings[i].get(k)) for i in matches}) > 1})
    raise ValueError(f"{name}: {len(matches)} settings have {describe(selector)}; also give {', '.join(varying)}")


def _named_values(study, axis: str, wanted, name: str) -> list:
    """The values of ``axis`` that ``wanted`` names: those equal to it, else the one equal to it at the
    digits typed."""
    present = _present(study, axis)
    equal = [v for v in present if _same(v, wanted)]
    if equal:
        return equal
    near = [v for v in present if _same(v, wanted, rounded=True)]
    if len(near) > 1:
        raise ValueError(f"{name}: {axis}={describe_value(wanted)} matches {len(near)} values of the study at the "
                         f"digits given: {listed(near)}; give more digits")  # fmt: skip
    return near


def _same(value, wanted, rounded: bool = False) -> bool:
    """Whether a setting's ``value`` is the ``wanted`` one: equal, or (``rounded``) equal once rounded to
    the significant digits ``wanted`` was typed with."""
    if isinstance(value, RandomArms) or isinstance(wanted, RandomArms):
        return str(value) == str(wanted)
    if isinstance(value, tuple):
        return (isinstance(wanted, (tuple, list)) and len(value) == len(wanted)
                and all(_same(v, w, rounded) for v, w in zip(value, wanted)))  # fmt: skip
    if isinstance(value, bool) or isinstance(wanted, (bool, str)) or value is None:
        return value == wanted
    try:
        value, number = float(value), float(wanted)
    except (TypeError, ValueError):
        return False
    if not rounded:
        return value == number
    digits, needed = _digits(wanted), min(SHOWN, _digits(value))
    return digits is not None and digits >= needed and float(f"{value:.{digits}g}") == number


def _digits(wanted) -> int | None:
    """The significant digits a number was given with: as typed, or its shortest repr (an int's digits)."""
    if isinstance(wanted, Typed):
        return wanted.digits
    if isinstance(wanted, numbers.Integral):
        return significant_digits(str(int(wanted)))
    return significant_digits(repr(float(wanted)))


def _present(study, axis: str) -> list:
    """The distinct values of ``axis`` over the study's settings (None where it does not apply)."""
    return list({_key(s.get(axis)): s.get(axis) for s in study.settings}.values())


def _key(value) -> str:
    return repr(value)


def listed(values) -> str:
    """Values in numeric order (then words, then None), each with the digits that name it alone when
    typed back (0.1234567891 and 0.1234567896 need ten)."""
    ordered = sorted(values, key=_order)
    for digits in range(SHOWN_DIGITS, 18):
        texts = [describe_value(v, digits) for v in ordered]
        # in numeric order a value that rounds alike is a neighbour, or all between it and the text's value would
        if all(_names_only(t, v, ordered[max(0, i - 1) : i + 2]) for i, (t, v) in enumerate(zip(texts, ordered))):
            break
    return ", ".join(texts)


def _names_only(text: str, value, neighbours: list) -> bool:
    if not isinstance(value, (float, tuple)):
        return True
    typed = tuple(map(Typed, text.split(","))) if isinstance(value, tuple) else Typed(text)
    named = [v for v in neighbours if _same(v, typed)] or [v for v in neighbours if _same(v, typed, rounded=True)]
    return named == [value]


def _order(value) -> tuple:
    if isinstance(value, numbers.Real):
        return 0, (float(value),), ""
    if isinstance(value, tuple) and all(isinstance(v, numbers.Real) for v in value):
        return 0, tuple(float(v) for v in value), ""
    return (2, (), "") if value is None else (1, (), str(value))


def describe_value(value, digits: int = SHOWN_DIGITS) -> str:
    if isinstance(value, Typed):
        return value.text
    if isinstance(value, tuple):
        return ",".join(describe_value(v, digits) for v in value)
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def describe(setting: dict) -> str:
    return ", ".join(f"{k}={describe_value(v)}" for k, v in setting.items())
