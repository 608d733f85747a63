"""The options' command-line flags, derived from schema.py: the same flags in every command.

Two modes. ``value`` (run, threshold): one value per option — a number, a comma list of numbers
per arm, a choice, ``--nesterov`` alone or ``--nesterov true|false``. ``axis`` (sweep): each
option is a study axis — a comma list or a range ``start:stop:num[:log]`` of numbers, a comma
list of choices or of true/false, a repeated flag for several arm vectors or (win, loss) pairs.
``--betas B1,B2`` is torch.optim's spelling of ``--beta1 B1 --beta2 B2`` in both modes.
"""

from __future__ import annotations

import argparse

from ..schema import ALIASES, HORIZON, OPTIONS, Option, where
from .args import Once, count, number, number_list, number_pair, parse_axis

RANDOM = "or random problems normal:K:MEAN:SD, uniform:K:LOW:HIGH, gaps:K:LOW:HIGH[:BEST]"
AXIS = "comma list, or range start:stop:num (start:stop:num:log for log spacing)"
GROUPS = {"horizon": "the horizon", "problem": "the problem (one reward model; default: the seed's arms 0.2,0,-0.2,-1)",
          "rule": "the learning rule (torch.optim's options and defaults)"}  # fmt: skip


def group_of(option: Option) -> str:
    if option.name in HORIZON:
        return "horizon"
    return "problem" if option.kind in ("arms", "pair") or "model" in option.applies else "rule"


def help_text(option: Option, mode: str) -> str:
    """What the flag is, its range, its default, and where it applies."""
    text = option.help
    if option.kind not in ("arms",):
        text += f"; {option.range_text()}" if option.kind in ("real", "count") else ""
        text += f" (default {option.default_text()})"
    if option.applies:
        text += f" [with {where(option.name)}]"
    if mode == "axis":
        if option.kind in ("real", "weights", "count"):
            text += f"; {AXIS}"
        elif option.kind == "choice":
            text += "; a comma list"
        elif option.kind == "bool":
            text += "; a comma list of true, false"
        else:
            text += "; repeat the flag for several"
    if option.kind == "arms":
        text += f"; comma-separated, {RANDOM}" if mode == "axis" else "; comma-separated, one per arm"
    return text.replace("%", "%%")


def add_option_flags(parser: argparse.ArgumentParser, mode: str, *, skip: tuple[str, ...] = ()) -> None:
    """Add a flag for every option of schema.py but ``skip`` (mode "value" or "axis")."""
    groups = {name: parser.add_argument_group(title) for name, title in GROUPS.items()}
    models = groups["problem"].add_mutually_exclusive_group() if mode == "value" else groups["problem"]
    for option in OPTIONS.values():
        if option.name in skip:
            continue
        target = models if option.kind == "arms" else groups[group_of(option)]
        target.add_argument(option.flag, dest=option.name, help=help_text(option, mode), **_parsing(option, mode))
    alias_parts = ALIASES["betas"]
    if not any(p in skip for p in alias_parts):
        groups["rule"].add_argument(
            "--betas", type=number_pair("--betas"), action=Once, metavar="BETA1,BETA2",
            help="Adam's betas, torch.optim's spelling of --beta1 BETA1 --beta2 BETA2",
        )  # fmt: skip


def _parsing(option: Option, mode: str) -> dict:
    """argparse's type, action and metavar for an option's flag."""
    kind = option.kind
    if kind == "bool":
        return dict(nargs="?", const="true", action=Once, metavar="true|false")
    if kind == "choice":
        if mode == "value":
            return dict(choices=option.choices, action=Once)
        return dict(action=Once, metavar="LIST")
    if kind == "arms":
        return dict(action="append" if mode == "axis" else Once, metavar="VALUES")
    if kind == "pair":
        return dict(type=number_pair(option.flag), action="append" if mode == "axis" else Once, metavar="WIN,LOSS")
    if mode == "axis":
        return dict(action=Once, metavar="AXIS")
    if kind == "count":
        return dict(type=count(option.name), action=Once)
    if kind == "weights":
        return dict(type=number_list, action=Once, metavar="W")
    return dict(type=number, action=Once)


def given_options(args: argparse.Namespace, *, skip: tuple[str, ...] = ()) -> dict:
    """The options the command line gave, as run_batch's keywords (mode "value")."""
    out = {}
    for option in OPTIONS.values():
        value = getattr(args, option.name, None)
        if value is None or option.name in skip:
            continue
        if option.kind == "bool":
            value = _bool(option.flag, value)
        elif option.kind == "arms":
            value = vector(option.flag, value)
        elif option.kind == "weights":
            value = value[0] if len(value) == 1 else value
        out[option.name] = value
    return _with_betas(args, out)


def given_axes(args: argparse.Namespace, log: tuple[str, ...] = ()) -> dict:
    """The axes the command line gave (mode "axis"), values parsed; ``log``: axes whose ranges are
    log-spaced (named by axis or by flag)."""
    out = {}
    for option in OPTIONS.values():
        text = getattr(args, option.name, None)
        if text is None:
            continue
        if option.kind in ("real", "weights", "count"):
            if option.name in log or option.flag.lstrip("-") in log:
                text = text if text.endswith(":log") or ":" not in text else f"{text}:log"
            out[option.name] = parse_axis(option.flag, text, integer=option.kind == "count")
        elif option.kind == "choice":
            out[option.name] = text.split(",")
        elif option.kind == "bool":
            out[option.name] = [_bool(option.flag, v) for v in text.split(",")]
        elif option.kind == "arms":
            out[option.name] = [vector(option.flag, v) for v in text]
        else:
            out[option.name] = text
    return _with_betas(args, out)


def numeric_axes() -> dict[str, str]:
    """Axis name -> flag name (without dashes) of the options that take ranges: for ``--log``."""
    return {o.name: o.flag.lstrip("-") for o in OPTIONS.values() if o.kind in ("real", "weights", "count")}


def _with_betas(args: argparse.Namespace, out: dict) -> dict:
    betas = getattr(args, "betas", None)
    if betas is not None:
        parts = ALIASES["betas"]
        if any(p in out for p in parts):
            raise ValueError("give --betas B1,B2 or --beta1/--beta2, not both")
        out.update(zip(parts, betas))
    return out


def _bool(flag: str, text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{flag}: expected true or false, got {text!r}")
    return text.lower() == "true"


def vector(flag: str, text: str):
    """An arm vector "0.2,0,-0.2" -> [floats], or a random problem "normal:10:0:1" -> RandomArms."""
    from ..random_arms import DISTRIBUTIONS, RandomArms

    if text.split(":")[0] in DISTRIBUTIONS:
        return RandomArms.parse(text)
    try:
        return number_list(text)
    except argparse.ArgumentTypeError as err:
        raise ValueError(f"{flag}: {err}, {RANDOM}") from None
