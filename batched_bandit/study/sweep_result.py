"""What ``sweep`` returns: the exported tables and this call's timings, with a text summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..schema import DEFAULTS, OPTIONS, POLICY_PARAMETER
from .setting import Setting


@dataclass(frozen=True)
class SweepResult:
    """What ``sweep`` returns: the exported tables (including work of earlier calls) and this call's timings."""

    out: Path
    settings: list[Setting]
    rows: list[dict]  # results.csv, one dict per setting
    curves: list[dict]  # curves.csv, one dict per (setting, curve point: an episode's end, or every record_every steps)
    tasks_computed: int  # tasks run by this call; the others were committed before
    tasks_total: int
    wall_time_s: float
    engine_time_s: float  # inside the engines (summed over workers with Dask)

    def summary(self) -> str:
        """A table: one block per problem and rule, one line per setting."""
        lines, problem = [], None
        for row, setting in zip(self.rows, self.settings):
            own = _own_axes(setting)
            rest = {k: v for k, v in setting.items() if k not in own}
            if rest != problem:
                problem = rest
                names = ("T", "lr", "eta") if "lr" in own else (*(OPTIONS[k].short for k in own), "", "", "")[:3]
                lines += [
                    ", ".join(f"{k} {_show(v)}" for k, v in rest.items()),
                    "  " + " ".join(f"{name:>9}" for name in names) + f" {'n':>9}  {'success':>7}  {'95% CI':^15}  "
                    f"{'P(best)':>7}  {'reward':>8}  {'regret':>9}  {'locked wrong':>12}",
                ]
            values = [row["temperature"], row["lr"], row["eta"]] if "lr" in own else [row[k] for k in own]
            lines.append(
                "  "
                + " ".join([*(f"{v:>9.4g}" for v in values), *[" " * 9] * (3 - len(values))])
                + f" {row['n']:>9,}  "
                f"{row['success_rate']:>7.4f}  {row['ci_low']:.4f}..{row['ci_high']:.4f}  "
                f"{row['mean_final_p_best']:>7.4f}  {row['mean_reward']:>8.4g}  {row['mean_regret']:>9.4g}  "
                f"{row['locked_wrong']:>12.4f}"
            )
        lines.append(
            f"{len(self.rows)} settings; results in {self.out} (reward: mean per step; regret: "
            "cumulative; every metric with its 95% interval in results.csv)"
        )
        return "\n".join(lines)


def _own_axes(setting: Setting) -> tuple[str, ...]:
    """The axes a line of the summary shows: T and lr for the gradient policy, else the policy's
    own parameter (none for Thompson sampling)."""
    policy = setting.get("policy", DEFAULTS["policy"])
    if policy == "gradient":
        return ("temperature", "lr")
    return tuple(k for k in (POLICY_PARAMETER.get(policy),) if k is not None and k in setting)


def _show(value) -> str:
    return f"({', '.join(f'{a:g}' for a in value)})" if isinstance(value, tuple) else str(value)
