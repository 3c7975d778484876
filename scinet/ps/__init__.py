"""Projective simulation: from h-values to actions (policy) and, in policy mode, glow targets."""

from scinet.ps.policy import greedy_actions, sample_actions, softmax_policy

__all__ = ["greedy_actions", "sample_actions", "softmax_policy"]
