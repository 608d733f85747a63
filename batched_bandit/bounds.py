"""How far the learning rule can move the weights: bounds that keep a run finite, per optimizer.

Refused before any work (options.check_numerics): settings whose weights could overflow the dtype
over the whole run (|w / T| <= (|w0| + n_steps |dw|) / T < SAFE_LOGIT), whose squared gradients
could overflow (Adam, RMSprop), and SGD with weight decay outside its stable region. ``run`` also
checks each chunk's weights after the fact (the safety net behind these bounds).
"""

from __future__ import annotations

import math

import torch

from .checks import dtype_name, rowwise
from .optimizers import step_bound

SAFE_LOGIT = {torch.float32: 1e37, torch.float64: 1e300}  # bound on |w / T| (max: 3.4e38, 1.8e308)


def sgd_decay_limit(rule, hyper) -> torch.Tensor:
    """The largest stable lr x (1 - dampening) x weight_decay of SGD (B,): the weight-decay term
    alone is a linear recurrence; plain 2, heavy ball 2 (1 + m), Nesterov 2 (1 + m) / (1 + 2m)."""
    m = hyper.momentum if rule.momentum else torch.zeros_like(hyper.momentum)
    if rule.nesterov:
        return 2 * (1 + m) / (1 + 2 * m)
    return 2 * (1 + m)


def check_run_bound(rule, hyper, temperature, init_weights, advantage, n_steps: int, dtype) -> None:
    """Refuse settings whose numbers could overflow before any work: the weights (|w / T| <=
    (|w0| + n_steps |dw|) / T must stay below SAFE_LOGIT[dtype]), the squared gradients of Adam and
    RMSprop, and SGD's weight decay outside its stable region. Errors say what range works."""
    name = dtype_name(dtype)
    if rule.optimizer == "sgd" and rule.weight_decay:
        damped = torch.where(hyper.momentum > 0, 1 - hyper.dampening, 1.0) if rule.momentum else 1.0
        decay_limit = sgd_decay_limit(rule, hyper)
        unstable = ~(hyper.lr * damped * hyper.weight_decay < decay_limit)
        if bool(unstable.any()):
            i = int(unstable.nonzero()[0])
            raise ValueError(
                f"weight_decay {hyper.weight_decay[i].item():.3g} with lr {hyper.lr[i].item():.3g}: SGD diverges "
                f"when lr * weight_decay >= {float(decay_limit[i]):.3g} (this momentum); weight_decay must be smaller"
            )
    a, b = step_bound(rule, hyper, advantage)
    w0 = rowwise(lambda w: w.abs().amax(dim=1), init_weights, n_bandits=init_weights.shape[0])
    w_max = w0 + n_steps * (a + b / temperature)
    logit = w_max / temperature
    bad = ~(logit < SAFE_LOGIT[dtype]) & torch.isfinite(a) & torch.isfinite(b)
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        limit = SAFE_LOGIT[dtype]
        c1, c2 = float(w0[i] + n_steps * a[i]), float(n_steps * b[i])  # limit T^2 - c1 T - c2 = 0
        t_min = (c1 + math.sqrt(c1 * c1 + 4 * limit * c2)) / (2 * limit)
        raise ValueError(
            f"temperature {temperature[i].item():.3g} is too small for lr {hyper.lr[i].item():.3g} over {n_steps:,} "
            f"steps: the weights could overflow {name} (|w / T| up to {float(logit[i]):.3g}); "
            f"temperature must be >= {t_min:.3g} here (the policy is already greedy long before)"
        )
    if rule.optimizer != "sgd":  # g * g must stay finite: |g| <= A / T + weight_decay |w|
        g_max = advantage / temperature + (hyper.weight_decay * w_max if rule.weight_decay else 0.0)
        limit = math.sqrt(SAFE_LOGIT[dtype])
        bad = ~(g_max < limit)
        if bool(bad.any()):
            i = int(bad.nonzero()[0])
            raise ValueError(
                f"{rule.optimizer} at temperature {temperature[i].item():.3g}"
                + (f", weight_decay {hyper.weight_decay[i].item():.3g}" if rule.weight_decay else "")
                + f": the squared gradient (up to ({float(g_max[i]):.3g})^2) would overflow {name}; temperature "
                f"must be >= {float(advantage[i]) / limit:.3g} (and weight_decay x |w| below {limit:.3g})"
            )
