"""scikit-learn regressors over the networks of :mod:`skmatnet.nets`, built on skorch.

:class:`MatNetRegressor` adds to :class:`skmatnet._base.MatNetBase` (the
parameters, the training recipe, fitting and its guards, shared with the
classifiers of :mod:`skmatnet.classifiers`) what regression needs: numeric
targets, one output per target column, the MAE loss. The concrete estimators
(``BRNetRegressor``, ...) are made from the registry by
:func:`skmatnet._factory.define_estimators`.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from . import nets
from ._base import MatNetBase
from ._estimator_docs import document_estimator, with_shared_sections
from ._factory import define_estimators
from ._registry import estimator_names
from ._validation import check_target
from .exceptions import CheckpointError, TargetScaleWarning, TrainingDivergedError

__all__ = [
    "CheckpointError",
    "MatNetRegressor",
    "TrainingDivergedError",
    *estimator_names("regressor"),
]


class MatNetRegressor(MatNetBase, NeuralNetRegressor):
    """Base class of the skmatnet regressors: a skorch ``NeuralNetRegressor``
    with scikit-learn input validation and a training recipe that converges in minutes.

    The defaults are the *recommended recipe*: AdamW, a cosine schedule with a 5%
    warm-up over 100 epochs and at least 2,000 steps (or over ``max_time``
    seconds), half-width networks, and a batch size and peak rate chosen from
    the training rows (256 and 4e-3 at about 16,000 rows; 16 and 1e-3 at a few
    hundred; ``effective_params_`` records them, ``docs/defaults.md`` the
    rules). On JARVIS formation energy it reaches the papers' 60-minute error
    in a few minutes on one CPU thread (``docs/performance.md``).
    ``from_recipe("paper")`` gives the papers' training exactly.

    Targets are learnt in standard units (``standardize_target``): the network
    is trained on ``(y - target_mean_) / target_scale_`` and ``predict`` undoes
    it, so a property in meV, K or MPa trains as one in eV would, and a fit on
    ``c * y + d`` predicts ``c`` times the fit on ``y``, plus ``d``. The losses
    in ``history_`` are in the units of ``y``.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's declaration
        **MatNetBase._parameter_constraints,
        "standardize_target": ["boolean"],
    }
    #: The papers trained on raw targets.
    _paper_settings = {"standardize_target": False}  # noqa: RUF012 - read only

    def __init__(self, module, *, criterion=torch.nn.L1Loss, standardize_target=True, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)
        self.standardize_target = standardize_target

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

    # -- targets in standard units

    def _fit_target_encoding(self, y) -> None:
        """Set ``target_mean_`` and ``target_scale_`` for a fit that starts a training run.

        A fine-tuned network that keeps its pretrained output layer keeps the
        scale it was trained in (where its source had none: the identity).
        """
        inherited = self.__dict__.pop("_inherited_target_encoding", None)
        if inherited is not None:
            mean, scale = inherited
            _warn_if_in_other_units(y, mean, scale)
        elif self.standardize_target:
            mean, scale = _column_mean_and_scale(y)
        else:
            mean, scale = np.zeros(y.shape[1]), np.ones(y.shape[1])
        self.target_mean_ = np.asarray(mean, dtype=np.float64)
        self.target_scale_ = np.asarray(scale, dtype=np.float64)

    def _target_encoding(self):
        """``(mean, scale)`` of the targets, or ``None`` where the network learns raw ones."""
        mean, scale = getattr(self, "target_mean_", None), getattr(self, "target_scale_", None)
        if mean is None or (not mean.any() and (scale == 1).all()):
            return None
        return mean, scale

    def _encode_tensor(self, values: torch.Tensor) -> torch.Tensor:
        """Targets in the units of ``y`` as standard units: computed in float64 and rounded
        once to their dtype."""
        mean, scale = self._target_encoding()
        # (Apple's MPS has no float64: there the encoding is computed in float32)
        wide = values if values.device.type == "mps" else values.to(torch.float64)
        return ((wide - torch.as_tensor(mean, dtype=wide.dtype, device=values.device))
                / torch.as_tensor(scale, dtype=wide.dtype, device=values.device)).to(values.dtype)

    def _decode_tensor(self, values: torch.Tensor) -> torch.Tensor:
        mean, scale = self._target_encoding()
        return (values * torch.as_tensor(scale, dtype=values.dtype, device=values.device)
                + torch.as_tensor(mean, dtype=values.dtype, device=values.device))

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The loss the network learns from: its outputs against targets in standard units.

        skorch's datasets, batches and callbacks hold the targets in the units of ``y``
        (so its scoring callbacks compare them with :meth:`predict`); they are
        standardised here.

        Parameters
        ----------
        y_pred : torch.Tensor
            The network's outputs for a batch (in standard units).
        y_true : torch.Tensor or array-like
            The batch's targets, in the units of ``y``.
        X : optional
            The batch's inputs (unused; skorch passes them).
        training : bool, default=False
            Whether the loss is for a training step (unused; skorch passes it).

        Returns
        -------
        torch.Tensor
            The criterion's loss.
        """
        if self._target_encoding() is not None:
            y_true = self._encode_tensor(to_tensor(y_true, device=self.device))
        return super().get_loss(y_pred, y_true, X=X, training=training)

    def _recorded_loss(self, y_pred, y_true):
        # The loss of the decoded outputs against the targets, in the units of y.
        if self._target_encoding() is None:
            return super()._recorded_loss(y_pred, y_true)
        y_true = to_tensor(y_true, device=y_pred.device)
        with torch.no_grad():
            # MatNetBase's and skorch's get_loss: the criterion on values as given
            return super().get_loss(self._decode_tensor(y_pred), y_true, training=False).detach()

    def _in_target_units(self, step: dict, batch) -> dict:
        if self._target_encoding() is None:
            return step
        _, y_true = unpack_data(batch)
        return {**step, "loss": self._recorded_loss(step["y_pred"], y_true)}

    def train_step_single(self, batch, **fit_params):
        # The gradient comes from the loss in standard units; the record is in y's units.
        return self._in_target_units(super().train_step_single(batch, **fit_params), batch)

    def validation_step(self, batch, **fit_params):
        return self._in_target_units(super().validation_step(batch, **fit_params), batch)

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
        encoding = self._target_encoding()
        if encoding is not None:
            predictions = predictions * encoding[1] + encoding[0]
        return predictions.ravel() if self._y_is_1d_ else predictions

    @property
    def predict_proba(self):
        # A regressor has no probabilities; hasattr(model, "predict_proba") is False.
        raise AttributeError(f"{type(self).__name__} is a regressor and has no predict_proba")


def _column_mean_and_scale(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation of ``y`` in float64; a constant column
    gets scale 1 (its network then learns differences from the mean)."""
    y = np.asarray(y, dtype=np.float64)
    mean, scale = y.mean(axis=0), y.std(axis=0)
    scale[~(scale > 0) | ~np.isfinite(scale)] = 1.0
    return mean, scale


#: A fine-tune's targets this many of the kept output layer's standard units away (mean), this
#: many times wider or its square narrower are another property or unit: a units slip (eV and
#: meV, 1000x; eV and kJ/mol, 96x) lands far beyond it, the same property from another
#: database well within (the bundled MP formation-energy model's units on JARVIS's: mean 0.48,
#: spread 0.94; OQMD band gaps' on JARVIS's: 0.73 and 2.0).
_OTHER_UNITS = 10.0


def _warn_if_in_other_units(y, mean, scale) -> None:
    """Warn where ``y`` does not look like targets in the kept output layer's units."""
    values = np.asarray(y, dtype=np.float64)
    y_mean, y_spread = values.mean(axis=0), values.std(axis=0)
    # in the kept layer's standard units
    centre, spread = (y_mean - mean) / scale, y_spread / scale
    far = (np.abs(centre) > _OTHER_UNITS) | (spread > _OTHER_UNITS) | (
        (spread > 0) & (spread < 1 / _OTHER_UNITS**2))
    if not far.any():
        return
    column = int(np.argmax(far))
    which = f"column {column} of y" if values.shape[1] > 1 else "y"
    warnings.warn(
        f"init_from's output layer was kept and predicts in its source's units (mean "
        f"{mean[column]:.4g}, spread {scale[column]:.4g}), but {which} has mean "
        f"{y_mean[column]:.4g} and spread {y_spread[column]:.4g}: for another property or "
        f"unit, fine-tune with reset_output=True (skmatnet train --reset-output), which "
        f"learns the new targets' own scale",
        TargetScaleWarning, stacklevel=2)


MatNetRegressor.__doc__ = with_shared_sections(MatNetRegressor.__doc__)
# ElemNetRegressor, IRNetRegressor, ...: one per network of the registry.
define_estimators("regressor", MatNetRegressor, nets.NETWORKS, globals())
