"""The process runtime every mode shares: worker and predictor roles, channels, supervision, statistics.

A :mod:`~scinet.sampling.sampler` plays *players* (batches of worlds driven by a network's h-values) either in
this process (serial) or in worker and predictor processes (async); policy mode adds learners that consume its
experiences, selection data only collects them. Import from the modules themselves: this package file stays
empty so that reading a config does not load torch.
"""
