"""The exports' columns and what each means (meta.json keeps the meanings beside the numbers).

Every metric of metrics.py has its columns here, named there: in ``results.csv`` its mean over
bandits over the whole run with a 95% interval (Wilson for the success rate, normal for the
means), in ``curves.csv`` its mean at each point of the curves with its band. A curve's point is an
episode's end, or, in a study with ``record_every``, a point every that many steps; reward and
optimal action are then rates within the interval since the previous point, regret is cumulative,
P(best) and the success rate are as at the point.
"""

from __future__ import annotations

from ..metrics import METRICS, METRICS_LIST
from .derived import DERIVED

SETTING_HELP = {
    "setting": "index of the setting in the grid (and row order)",
    "temperature": "softmax temperature T", "lr": "learning rate",
    "arms": "threshold values (lowest best) or a distribution",
    "win_prob": "P(win) per arm or a distribution", "means": "mean reward per arm or a distribution",
    "n_episodes": "episodes", "steps_per_episode": "steps per episode",
}  # fmt: skip
# a metric over the whole run, per bandit, as results.csv averages it
OVER_THE_RUN = {
    "success": "bandits whose last episode's top arm is the best arm (the seed's verdict), over n",
    "p_best": "mean over bandits of P(best arm) after the last step",
    "regret": "mean over bandits of the pseudo-regret of the whole run (sum over steps of mu* - mu[arm pulled])",
    "reward": "mean over bandits of the reward per step over the whole run",
    "optimal_action": "mean over bandits of the fraction of their pulls on a best arm over the whole run",
}
# a metric at a curve's point, as curves.csv averages it
AT_A_POINT = {
    "success": "fraction of bandits whose top arm so far in the point's episode is the best arm",
    "p_best": "mean over bandits of P(best arm) at the point",
    "regret": "mean over bandits of the pseudo-regret up to the point (cumulative)",
    "reward": "mean over bandits of the reward per step within the interval ending at the point",
    "optimal_action": "mean over bandits of the fraction of pulls on a best arm within the interval ending at the "
    "point",
}

ESTIMATE = {"success": "success rate", "p_best": "mean P(best arm)", "regret": "mean regret",
            "reward": "mean reward per step", "optimal_action": "mean fraction of pulls on a best arm"}  # fmt: skip


def interval_columns(name: str, what: str, curve: bool = False) -> dict[str, str]:
    """The two columns of a metric's 95% interval and what they mean."""
    m = METRICS[name]
    low, high = ("success_ci_low", "success_ci_high") if curve and name == "success" else m.ci
    kind = "Wilson" if m.kind == "proportion" else "normal"
    return {low: f"95% {kind} interval of the {what}, low end", high: f"95% {kind} interval of the {what}, high end"}


RESULT_COLUMNS = {
    "n_arms": "K",
    **DERIVED,
    "lr_over_T2": "lr / T² (kept for one release: see eta)",
    "n": "bandits (streams 0..n-1; with a precision target, as many as the setting needed)",
    "successes": "bandits whose last episode's top arm is the best arm (the seed's verdict)",
    "success_rate": "successes / n",
    **interval_columns("success", "success rate"),
    "ci_half_width": "(ci_high - ci_low) / 2",
    "mean_final_p_best": OVER_THE_RUN["p_best"],
    **interval_columns("p_best", "mean final P(best arm)"),
    "sd_final_p_best": "standard deviation over bandits of P(best arm) after the last step",
    "locked_best": "fraction of bandits whose policy has max prob > 0.99 on the best arm",
    "locked_wrong": "fraction of bandits whose policy has max prob > 0.99 on a wrong arm",
    "undecided": "fraction of bandits whose policy has max prob <= 0.99",
    **{k: v for name in ("regret", "reward", "optimal_action") for k, v in
       {METRICS[name].column: OVER_THE_RUN[name], **interval_columns(name, ESTIMATE[name])}.items()},
    "mean_reward_last_episode": "mean reward per step in the last episode, over bandits (kept for one release: "
    "see mean_reward)",
}  # fmt: skip
CURVE_COLUMNS = {
    "episode": "episode, 1-based: the episode whose end is the point (with record_every: the one it falls in)",
    "step": "steps done at the point: the episode's end, or every record_every steps (meta.json's spec)",
    "successes": "bandits whose top arm so far in the point's episode is the best arm",
    **{k: v for m in METRICS_LIST for k, v in {
        m.curve: AT_A_POINT[m.name], **interval_columns(m.name, f"{ESTIMATE[m.name]} at the point", curve=True),
        **({"mean_field_p_best": "P(best arm) of the expected-update (mean-field) trajectory at the point (SGD, "
                                 "fixed problems)"} if m.name == "p_best" else {}),
    }.items()},
}  # fmt: skip
