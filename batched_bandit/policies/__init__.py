"""Policies: how a bandit chooses its arm and learns from the reward, as pure tensor steps.

Each policy module gives the portable engine (engines/torch_engine.py) the same functions, arm axis
first — tensors (K, B), per-bandit numbers (B,):

- ``Params.of(hyper, dtype, seed, bandit_ids)``: the batch's numbers in the run's dtype;
- ``init(rule, batch, dtype)``: the state at step 0;
- ``choose(rule, params, state, u, words, t)``: the arm of step t from the step's uniform ``u``
  and its policy words (rng.policy_uniforms; None for the gradient policy);
- ``learn(rule, params, state, choice, reward, t)``: the state after the step's reward;
- ``p_best(rule, params, state, best_arm, t)``: P(the next step, t, pulls the best arm).

The fused engines compute the same steps, operation for operation; ``reference.py`` holds the
textbook loop each one is tested against.

- gradient.py: the softmax policy gradient, the seed's rule (torch.optim's step: optimizers.py);
- value.py: ε-greedy, greedy with (optimistic) initial values, UCB (Sutton & Barto, ch. 2);
- thompson.py: Thompson sampling (Beta posteriors, or normal ones for Gaussian rewards).
"""

from . import gradient, thompson, value

MODULES = {"gradient": gradient, "epsilon_greedy": value, "greedy": value, "ucb": value, "thompson": thompson}
