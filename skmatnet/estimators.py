"""scikit-learn regressors over the networks of :mod:`skmatnet.nets`, built on skorch.

:class:`MatNetRegressor` adds to :class:`skmatnet._base.MatNetBase` (the
parameters, the training recipe, fitting and its guards, shared with the
classifiers of :mod:`skmatnet.classifiers`) what regression needs: numeric
targets, one output per target column, the MAE loss. The concrete estimators
(``BRNetRegressor``, ...) are made from the registry by
:func:`skmatnet._factory.define_estimators`.
"""

from __future__ import annotations

import torch
from skorch import NeuralNetRegressor

from . import nets
from ._base import MatNetBase
from ._estimator_docs import document_estimator, with_shared_sections
from ._factory import define_estimators
from ._registry import estimator_names
from ._validation import check_target
from .exceptions import CheckpointError, TrainingDivergedError

__all__ = [
    "CheckpointError",
    "MatNetRegressor",
    "TrainingDivergedError",
    *estimator_names("regressor"),
]


class MatNetRegressor(MatNetBase, NeuralNetRegressor):
    """Base class of the skmatnet regressors: a skorch ``NeuralNetRegressor``
    with scikit-learn input validation and a training recipe that converges in minutes.

    The defaults are the *recommended recipe*: AdamW at 4e-3, batch 256, a cosine
    schedule with a 5% warm-up over 100 epochs (or over ``max_time`` seconds),
    half-width networks. On JARVIS formation energy it reaches the papers'
    60-minute error in a few minutes on one CPU thread (``docs/performance.md``).
    ``from_recipe("paper")`` gives the papers' training exactly.
    """

    def __init__(self, module, *, criterion=torch.nn.L1Loss, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        document_estimator(cls, MatNetRegressor.__init__, MatNetBase.__init__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def _check_y(self, y, *, n_samples, name, X_name, reset):
        y = check_target(y, n_samples=n_samples, name=name, X_name=X_name)
        y_is_1d = y.ndim == 1
        y = y.reshape(len(y), -1)
        if reset:
            self.n_outputs_ = y.shape[1]
            self._y_is_1d_ = y_is_1d
        elif y.shape[1] != self.n_outputs_:
            fitted = "y has" if name != "y" else f"{type(self).__name__} was fitted with"
            raise ValueError(
                f"{name} has {y.shape[1]} targets, but {fitted} {self.n_outputs_}"
            )
        return y

    def predict(self, X, return_std=False):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            One network gives no spread: ``True`` raises a ``ValueError``
            pointing to :class:`~skmatnet.MatNetEnsembleRegressor`, which does.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs), float64
            1-D when the model was fitted on a 1-D ``y``.
        """
        if return_std:
            raise ValueError(
                f"{type(self).__name__} is one network and gives no uncertainty; "
                "MatNetEnsembleRegressor(estimator) gives predict(X, return_std=True)"
            )
        predictions = self._network_output(X)
        return predictions.ravel() if self._y_is_1d_ else predictions

    @property
    def predict_proba(self):
        # A regressor has no probabilities; hasattr(model, "predict_proba") is False.
        raise AttributeError(f"{type(self).__name__} is a regressor and has no predict_proba")


MatNetRegressor.__doc__ = with_shared_sections(MatNetRegressor.__doc__)
# ElemNetRegressor, IRNetRegressor, ...: one per network of the registry.
define_estimators("regressor", MatNetRegressor, nets.NETWORKS, globals())
