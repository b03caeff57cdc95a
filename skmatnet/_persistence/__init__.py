"""The model file format behind :mod:`skmatnet.persistence`, one concern per module.

``codec`` (parameters, fitted attributes and history as JSON), ``archive``
(reading and checking an archive), ``network`` (the network of a saved model
alone, which fine-tuning reads; it needs no estimator class), ``single`` (one
estimator or pipeline) and ``ensembles``. Only ``network`` and what it uses sit
below the estimators; ``single`` and ``ensembles`` use them.
"""
