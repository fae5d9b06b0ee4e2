"""Temperature scaling: one number that makes role probabilities mean what they say.

Label Studio shows the scores to annotators and sorts tasks by them, so a 0.8
should be right about 80% of the time. The temperature is fitted on held-out
logits (the dev split) by minimising negative log-likelihood.
"""

from __future__ import annotations

import math

import torch


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 200) -> float:
    """The T > 0 minimising NLL of softmax(logits / T) on (logits, labels)."""
    if logits.numel() == 0:
        return 1.0
    log_t = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=steps)
    loss_fn = torch.nn.CrossEntropyLoss()

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = loss_fn(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimiser.step(closure)
    value = float(log_t.exp().item())
    if not math.isfinite(value):  # the optimiser diverged (tiny or degenerate dev data): leave logits as they are
        return 1.0
    return min(max(value, 0.05), 20.0)
