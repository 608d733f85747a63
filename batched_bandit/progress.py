"""Progress of long runs, drawn by tqdm: a live bar on a terminal or in a notebook, plain lines elsewhere.

On a terminal, tqdm's bar (bandit-steps done, rate, ETA) redraws in place; in a Jupyter notebook
(tqdm.auto) it is a widget, or without ipywidgets the same text bar. When the stream is
not a terminal (a log file, a batch job), the same text is written as a plain line one second in
and then every ``every`` seconds, and once at the end. ``initial`` counts work done by an earlier,
interrupted call, so count, percentage and ETA agree after a resume.
"""

from __future__ import annotations

import sys
import time
import warnings

from tqdm import TqdmWarning, tqdm

with warnings.catch_warnings():  # without ipywidgets, tqdm.auto warns once and falls back to the text bar
    warnings.simplefilter("ignore", TqdmWarning)
    from tqdm.auto import tqdm as auto_tqdm

# in a notebook kernel with ipywidgets, tqdm.auto is the widget bar (it draws to the cell, not a stream)
NOTEBOOK = "tqdm.notebook" in sys.modules and issubclass(auto_tqdm, sys.modules["tqdm.notebook"].tqdm)

UNIT = " bandit-steps"  # tqdm writes "{rate}{unit}/s": "1.5M bandit-steps/s"


class Bar:
    """``update(n)`` adds ``n`` bandit-steps; ``close()`` ends the line. A context manager."""

    def __init__(self, total: int, *, initial: int = 0, desc: str | None = None, stream=None, every: float = 5.0):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.desc = total, initial, desc
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.initial, self.every, self.next_line = initial, every, self.start + 1.0
        self.bar: tqdm | None = None
        if self.tty or (NOTEBOOK and stream is None):
            self.bar = auto_tqdm(
                total=total, initial=initial, desc=desc, unit=UNIT, unit_scale=True, file=self.stream,
                dynamic_ncols=True, mininterval=0.1, smoothing=0.1,
            )  # fmt: skip

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif time.monotonic() >= self.next_line and self.done < self.total:
            self._line()
            self.next_line = time.monotonic() + self.every

    def set_total(self, total: int) -> None:
        """A new total, for work planned in stages (a precision-targeted sweep)."""
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def set_description(self, desc: str) -> None:
        self.desc = desc
        if self.bar is not None:
            self.bar.set_description(desc, refresh=False)

    def _line(self) -> None:
        elapsed = time.monotonic() - self.start
        meter = tqdm.format_meter(
            self.done, self.total, elapsed, prefix=self.desc or "", unit=UNIT, unit_scale=True, ncols=0,
            initial=self.initial,  # the rate and ETA count this call's work only
        )  # fmt: skip
        self.stream.write(meter.strip() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.done > self.initial and time.monotonic() - self.start >= 1.0:
            self._line()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
