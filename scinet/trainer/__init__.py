"""Policy mode: the asynchronous GA3C-style trainer (workers, predictors, trainers) and serial mode.

Import from the modules themselves (``scinet.trainer.run.train_policy``, ``scinet.trainer.config``): this
package file stays empty so that reading a config does not load torch and the whole trainer.
"""
