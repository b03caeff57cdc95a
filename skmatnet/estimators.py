"""scikit-learn regressors over the networks of :mod:`skmatnet.nets`, built on skorch.

:class:`MatNetRegressor` adds to :class:`skmatnet._base.MatNetBase` (the
parameters, the training recipe, fitting and its guards, shared with the
classifiers of :mod:`skmatnet.classifiers`) what regression needs: numeric
targets, one output per target column, the MAE loss. Each concrete estimator
only names its network.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from skorch import NeuralNetRegressor

from . import nets
from ._base import MatNetBase
from ._estimator_docs import document_estimator, with_shared_sections
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


class ElemNetRegressor(MatNetRegressor):
    """ElemNet (Jha et al., Sci. Rep. 2018): a 17-layer fully connected network.

    4,631,361 parameters at ``width=1.0`` with 86 inputs. Paper recipe
    (``from_recipe("paper")``): Adam 1e-4, batch 32, early stopping patience
    200. Network settings go in ``module__*`` (see :class:`skmatnet.nets.ElemNet`).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmatnet import ElementFractionTransformer, ElemNetRegressor
    >>> model = make_pipeline(ElementFractionTransformer(), ElemNetRegressor(max_time=120))
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        widths=(16, 16, 8, 4), dropout=(0.2, 0.1))

    def __init__(self, module=nets.ElemNet, **kwargs):
        super().__init__(module, **kwargs)


class IRNetRegressor(MatNetRegressor):
    """IRNet (Jha et al., KDD 2019): ElemNet's layers with BatchNorm and residual shortcuts.

    ``module__depth`` picks 17 (default, 5,433,697 parameters at ``width=1.0``),
    24 or 48 layers; ``module__variant="concat"`` gives Tatis et al.'s
    concatenating form. Paper recipe: Adam 1e-4, batch 32, patience 200. See
    :class:`skmatnet.nets.IRNet`.
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        widths=(16, 16, 8, 4))

    def __init__(self, module=nets.IRNet, **kwargs):
        super().__init__(module, **kwargs)


class BRNetRegressor(MatNetRegressor):
    """BRNet (Gupta et al., SDM 2022): branched residual network, the best of the papers.

    Two branches read the raw input and merge by addition; 4,548,385
    parameters at ``width=1.0`` (1,227,665 at the default 0.5). Paper recipe:
    Adam 1e-4, batch 32, patience 100, at most 3000 epochs. See
    :class:`skmatnet.nets.BRNet`.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmatnet import ElementFractionTransformer, BRNetRegressor
    >>> model = make_pipeline(ElementFractionTransformer(), BRNetRegressor(max_time=150))
    >>> paper = make_pipeline(ElementFractionTransformer(), BRNetRegressor.from_recipe("paper"))
    """

    _test_module_params: ClassVar[dict] = dict(
        stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2))

    def __init__(self, module=nets.BRNet, **kwargs):
        super().__init__(module, **kwargs)


class BNetRegressor(MatNetRegressor):
    """BNet (Gupta et al., SDM 2022): BRNet without its residual shortcuts.

    3,670,849 parameters at ``width=1.0``; paper recipe as
    :class:`BRNetRegressor`'s. See :class:`skmatnet.nets.BNet`.
    """

    _test_module_params: ClassVar[dict] = dict(
        stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2))

    def __init__(self, module=nets.BNet, **kwargs):
        super().__init__(module, **kwargs)


class FCMnRRegressor(MatNetRegressor):
    """FCMnR (Tatis et al., IEEE Big Data 2021): fully connected merge-and-run network.

    See :class:`skmatnet.nets.FCMnR` for the block structure and
    ``module__stream_width``. Paper recipe: Adam 1e-4, batch 32, patience 200.
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        n_blocks=2, stream_width=8, stem_widths=(16, 16), entry_widths=(8, 4),
        block_widths=(16, 16), head_widths=(8, 4),
    )

    def __init__(self, module=nets.FCMnR, **kwargs):
        super().__init__(module, **kwargs)


class FCUNetRegressor(MatNetRegressor):
    """FCUNet (Tatis et al., IEEE Big Data 2021): fully connected U-Net with concatenating skips.

    See :class:`skmatnet.nets.FCUNet`. Paper recipe: Adam 1e-4, batch 32,
    patience 200.
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        encoder_widths=((16, 16), (8,), (4,)), decoder_widths=((8,), (8, 4)))

    def __init__(self, module=nets.FCUNet, **kwargs):
        super().__init__(module, **kwargs)


MatNetRegressor.__doc__ = with_shared_sections(MatNetRegressor.__doc__)
