"""The command line: ``batched-bandit run | sweep | plot | compare | threshold | optimum``. Configuration lives
here and nowhere else.

Bad input exits with status 2 and one line on stderr, never a traceback: argparse's own errors,
and the library's ValueError / TypeError (raised before any work) and OSError (an unwritable or
odd output folder). Warnings print as one line each. Ctrl-C exits with status 130 and SIGTERM
(a batch system's stop, ``kill``) with 143, each after one line; both stop the work the same way,
so an interrupted sweep continues when run again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings

from . import compare, optimum, plot, run, sweep, threshold
from .args import join_negative_values

COMMANDS = {"run": run, "sweep": sweep, "plot": plot, "compare": compare, "threshold": threshold, "optimum": optimum}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be, so that it stops work the same way
    (the C kernels' cancel flags, the store's transactions, the Dask cluster's shutdown)."""


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While the command runs, SIGTERM raises Terminated (once: a second one during the clean-up is ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (the usage is one --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="batched-bandit",
        description="Many independent softmax policy-gradient bandits at once (the seed's experiment, batched).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def exit_code(done: SystemExit) -> int:
    """argparse's exit status as main's: 0 for --help, 2 for a usage error."""
    return done.code if isinstance(done.code, int) else 0 if done.code is None else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(join_negative_values(argv, parser))
    except SystemExit as done:  # --help, or a usage error already printed as one line
        return exit_code(done)
    command = COMMANDS[args.command]
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    subparser = commands.choices[args.command]
    prefix = f"batched-bandit {args.command}"
    with warnings.catch_warnings(), sigterm_as_interrupt():  # warnings as one line each, without the source line
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *_, **__: print(f"{prefix}: warning: {message}", file=sys.stderr)
        try:
            return command.run(args, subparser, argv)
        except SystemExit as done:  # subparser.error(): a usage error, already printed as one line
            return exit_code(done)
        except (ValueError, TypeError) as err:  # bad input, refused before any work
            print(f"{prefix}: error: {err}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # stdout closed early (| head): nothing more to say
            sys.stderr.close()
            return 1
        except OSError as err:  # an output folder that cannot be written
            print(f"{prefix}: error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
            return 2
        except KeyboardInterrupt as stop:
            if sys.stderr.isatty():
                sys.stderr.write("\n")  # off the progress bar's line
            what = "terminated" if isinstance(stop, Terminated) else "interrupted"
            if args.command in ("sweep", "threshold", "optimum") and os.path.isdir(args.out):
                print(f"{what}; finished work is saved in {args.out}; run the same command again to continue",
                      file=sys.stderr)  # fmt: skip
            else:
                print(what, file=sys.stderr)
            return 143 if isinstance(stop, Terminated) else 130
