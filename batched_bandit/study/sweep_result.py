"""What ``sweep`` returns: the exported tables and this call's timings, with a text summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
            rest = {k: v for k, v in setting.items() if k not in ("temperature", "lr")}
            if rest != problem:
                problem = rest
                lines += [
                    ", ".join(f"{k} {_show(v)}" for k, v in rest.items()),
                    f"  {'T':>9} {'lr':>9} {'eta':>9} {'n':>9}  {'success':>7}  {'95% CI':^15}  "
                    f"{'P(best)':>7}  {'reward':>8}  {'regret':>9}  {'locked wrong':>12}",
                ]
            lines.append(
                f"  {row['temperature']:>9.4g} {row['lr']:>9.4g} {row['eta']:>9.3g} {row['n']:>9,}  "
                f"{row['success_rate']:>7.4f}  {row['ci_low']:.4f}..{row['ci_high']:.4f}  "
                f"{row['mean_final_p_best']:>7.4f}  {row['mean_reward']:>8.4g}  {row['mean_regret']:>9.4g}  "
                f"{row['locked_wrong']:>12.4f}"
            )
        lines.append(
            f"{len(self.rows)} settings; results in {self.out} (reward: mean per step; regret: "
            "cumulative; every metric with its 95% interval in results.csv)"
        )
        return "\n".join(lines)


def _show(value) -> str:
    return f"({', '.join(f'{a:g}' for a in value)})" if isinstance(value, tuple) else str(value)
