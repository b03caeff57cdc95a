"""A classifier's temperature: one number that makes its probabilities as sure as it is right."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp
from skorch.callbacks import Callback
from skorch.utils import data_from_dataset

__all__ = ["TemperatureScaling", "fit_temperature"]

#: The temperatures searched. Above 1 a network's probabilities soften; below 1 they sharpen,
#: which a few dozen validation rows that the network happens to get all right would push to
#: certainty, so the search stops at 0.5.
TEMPERATURE_BOUNDS = (0.5, 20.0)


def fit_temperature(scores, labels, bounds=TEMPERATURE_BOUNDS) -> float:
    """The temperature ``T`` whose ``softmax(scores / T)`` has the lowest log-loss on ``labels``.

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes)
        The network's class scores (logits).
    labels : array-like of shape (n_samples,)
        Each row's class, as a position in the columns of ``scores``.
    bounds : tuple of float, default=TEMPERATURE_BOUNDS
        The smallest and largest temperature searched.

    Returns
    -------
    float
        ``T``; 1.0 where the scores are not all finite or there are no rows.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[4.0, -4.0], [-4.0, 4.0], [4.0, -4.0], [-4.0, 4.0]])
    >>> fit_temperature(scores, np.array([0, 1, 1, 0])) > 10  # sure and half wrong: soften
    True
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0 or not np.isfinite(scores).all():
        return 1.0
    chosen = scores[np.arange(len(labels)), labels]

    def log_loss(log_t):
        t = np.exp(log_t)
        return float(np.mean(logsumexp(scores / t, axis=1) - chosen / t))

    # searched in log T: a softening by 2 and a sharpening by 2 are as far from no change
    found = minimize_scalar(log_loss, bounds=np.log(bounds), method="bounded",
                            options={"xatol": 1e-4})
    return float(np.exp(found.x))


class TemperatureScaling(Callback):
    """Fit the temperature of a classifier's probabilities on its validation rows.

    At the end of training, after early stopping and weight averaging have
    chosen the weights, one temperature ``T`` is fitted to the validation rows
    (:func:`fit_temperature`) and set as the net's ``temperature_``;
    ``predict_proba`` then returns ``softmax(scores / T)``. Dividing every class
    score by one positive number keeps each row's order of the classes, so the
    predicted classes and the ranking (ROC-AUC) stay as they are; only how sure
    the probabilities are changes. A network that overfits a few hundred rows
    is sure of wrong answers, and its log-loss shows it (``docs/defaults.md``,
    Classification). The temperature is recorded in the history's last row as
    ``temperature``. Without validation rows it is 1.
    """

    def initialize(self):
        self.dataset_valid_ = None
        return self

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.dataset_valid_ = dataset_valid

    def on_train_end(self, net, **kwargs):
        dataset, self.dataset_valid_ = self.dataset_valid_, None  # not into pickles
        temperature = 1.0
        if dataset is not None:
            # the scores as predict_proba computes them (device, precision), and the classes
            # as the dataset holds them: positions in classes_
            scores = net._network_output(dataset)
            labels = np.asarray(data_from_dataset(dataset)[1])
            temperature = fit_temperature(scores, labels)
        net.temperature_ = temperature
        if len(net.history):
            net.history.record("temperature", temperature)
