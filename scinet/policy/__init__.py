"""Policy mode: training one DPS agent with glow, serially or with GA3C-style learner processes.

Import from the modules themselves (``scinet.policy.training.train_policy``, ``scinet.policy.config``): this
package file stays empty so that reading a config does not load torch and the whole runtime.
"""
