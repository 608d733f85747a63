"""Policies: how a bandit chooses its arm and learns from the reward, as pure tensor steps.

Each policy module gives the portable engine (engines/torch_engine.py) its state, ``choose`` (the
arm, from the step's uniform) and ``learn`` (the state after the reward), arm axis first: tensors
are (K, B), per-bandit numbers (B,). The fused engines compute the same steps, operation for
operation; ``reference.py`` holds the textbook loop each one is tested against.

- gradient.py: the softmax policy gradient, the seed's rule (torch.optim's step: optimizers.py).
"""
