"""scikit-learn classifiers over the networks of :mod:`skmatnet.nets`, built on skorch.

:class:`MatNetClassifier` adds to :class:`skmatnet._base.MatNetBase` (the
parameters, the training recipe, fitting and its guards, shared with the
regressors) what classification needs: labels of any type encoded to
``classes_``, one network output per class, cross-entropy with optional class
weights, a validation split stratified on the labels, and
``predict_proba`` / ``decision_function``, with a temperature fitted on the
validation rows so that the probabilities are as sure as the network is right.
The concrete classifiers (``BRNetClassifier``, ...) are made from the registry,
as the regressors are.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import softmax
from sklearn.metrics import check_scoring
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import BatchScoring, EpochScoring
from skorch.callbacks.scoring import convert_sklearn_metric_function
from skorch.dataset import ValidSplit
from skorch.utils import is_skorch_dataset

from . import nets
from ._base import MatNetBase
from ._estimator_docs import document_estimator, with_shared_sections
from ._factory import define_estimators
from ._registry import estimator_names
from ._validation import check_labels
from .callbacks import TemperatureScaling

__all__ = ["MatNetClassifier", *estimator_names("classifier")]


def _plain(label):
    """A label as Python prints it (``'metal'``, not ``np.str_('metal')``)."""
    return label.item() if isinstance(label, np.generic) else label


def _compares_labels_with_positions(callback, net) -> bool:
    """Whether a skorch scorer would compare the labels ``predict`` returns for plain rows
    (``EpochScoring`` without caching) or a batch tensor (``BatchScoring``) with the class
    positions skorch's data hold: a scorer of ``predict`` (accuracy, f1, the estimator's
    ``score``); scorers of probabilities or scores, and custom functions, are left alone."""
    if isinstance(callback, EpochScoring):
        if (callback.use_caching if net.use_caching == "auto" else net.use_caching):
            return False  # predict is called on skorch's dataset: it returns positions
    elif not isinstance(callback, BatchScoring):
        return False
    if callback.scoring is None:
        return True  # the estimator's score: accuracy of predict
    try:
        scorer = check_scoring(net, convert_sklearn_metric_function(callback.scoring))
    except (TypeError, ValueError):
        return False
    return getattr(scorer, "_response_method", None) == "predict"


class MatNetClassifier(MatNetBase, NeuralNetClassifier):
    """Base class of the skmatnet classifiers: a skorch ``NeuralNetClassifier``
    with scikit-learn input validation and the regressors' training recipe.

    The network gets one output per class (two for a binary task) and is
    trained with cross-entropy; ``predict_proba`` is the softmax of those
    outputs divided by ``temperature_``, fitted on the validation rows
    (``temperature_scaling``). Labels may be strings, integers or booleans.
    Everything else (the recommended recipe, ``from_recipe("paper")``, early
    stopping on the validation loss, ``max_time``, checkpoints, Ctrl-C, the
    device) is the regressors'.
    """

    _task = "classification"
    # A tiny classifier must move its class scores far in 20 short epochs (scikit-learn's
    # class-weight check): at 3e-3 IRNet and FCUNet fall short.
    _test_lr = 1e-2
    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's declaration
        **MatNetBase._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "classes": ["array-like", None],
        "temperature_scaling": ["boolean"],
    }
    #: The papers' classifiers returned the softmax of their outputs as it was.
    _paper_settings = {"temperature_scaling": False}  # noqa: RUF012 - read only

    def __init__(self, module, *, criterion=torch.nn.CrossEntropyLoss, class_weight=None,
                 classes=None, temperature_scaling=True, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)
        self.class_weight = class_weight
        self.classes = classes
        self.temperature_scaling = temperature_scaling

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        document_estimator(cls, MatNetClassifier.__init__, MatNetBase.__init__, "classifier")

    @property
    def _default_callbacks(self):
        # skorch's classifier adds a validation-accuracy scorer that predicts the
        # validation set once more every epoch; the loss (log-loss) is what is monitored.
        return NeuralNet._default_callbacks.fget(self)

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        if self.temperature_scaling and self._has_validation():
            # Last: after early stopping and weight averaging, which choose the weights it fits.
            callbacks.append(("temperature_scaling", TemperatureScaling()))
        return callbacks

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        tags.target_tags.single_output = True
        return tags

    # -- labels

    @property
    def classes_(self):
        try:
            return self._label_encoder_.classes_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} is not fitted yet and has no classes_"
            ) from None

    def partial_fit(self, X, y, classes=None, X_val=None, y_val=None, **fit_params):
        """Continue training for ``max_epochs`` more epochs (initialising if needed).

        Parameters
        ----------
        X, y, X_val, y_val
            As in :meth:`fit`.
        classes : array-like or None
            Every label the model will see, for the first call when its ``y`` lacks
            some (as scikit-learn's incremental classifiers take it); later calls
            must not change it. ``None``: the ``classes`` parameter, else the labels
            of the first ``y``.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        if classes is not None and getattr(self, "initialized_", False) and not np.array_equal(
                np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={list(classes)!r} differs from the classes of the "
                             f"fitted model, {[_plain(c) for c in self.classes_]}")
        self._partial_fit_classes = classes
        try:
            return super().partial_fit(X, y, X_val=X_val, y_val=y_val, **fit_params)
        finally:
            del self._partial_fit_classes

    def _check_y(self, y, *, n_samples, name, X_name, reset):
        labels = check_labels(y, n_samples=n_samples, name=name, X_name=X_name)
        if reset:
            declared = getattr(self, "_partial_fit_classes", None)
            declared = self.classes if declared is None else declared
            known = labels if declared is None else np.asarray(declared)
            encoder = LabelEncoder().fit(known)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{name} has one class only ({_plain(encoder.classes_[0])!r}); a classifier "
                    "needs at least two"
                )
            self._label_encoder_ = encoder
            self.n_outputs_ = len(encoder.classes_)
            self._class_weights_ = self._weights_of(labels)
        return self._encode(labels, name)

    def _encode(self, labels: np.ndarray, name: str) -> np.ndarray:
        """Label positions in ``classes_``; a label the model does not know is named."""
        classes = self.classes_
        unknown = ~np.isin(labels, classes)  # labels of another type never match
        if unknown.any():
            rows = np.flatnonzero(unknown)
            shown = ", ".join(f"row {r}: {_plain(labels[r])!r}" for r in rows[:5])
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            raise ValueError(
                f"{name} has labels the model was not fitted with ({shown}{more}); its "
                f"classes are {[_plain(c) for c in classes]}. Pass classes=[...] to declare "
                "every label."
            )
        return self._label_encoder_.transform(labels).astype(np.int64)

    def _weights_of(self, labels: np.ndarray):
        """Per-class loss weights, in ``classes_`` order, from ``class_weight``."""
        if self.class_weight is None:
            return None
        classes = self.classes_
        if self.class_weight == "balanced":
            present = np.unique(labels)
            weights = np.ones(len(classes))
            weights[np.searchsorted(classes, present)] = compute_class_weight(
                "balanced", classes=present, y=labels)
            return weights
        unknown = [label for label in self.class_weight if label not in set(classes)]
        if unknown:
            raise ValueError(
                f"class_weight names labels that y does not hold: {unknown}; the classes are "
                f"{[_plain(c) for c in classes]}"
            )
        return np.array([float(self.class_weight.get(c, 1.0)) for c in classes])

    def initialize_criterion(self):
        weights = getattr(self, "_class_weights_", None)
        kwargs = self.get_params_for("criterion")
        if weights is not None and "weight" not in kwargs:
            kwargs["weight"] = torch.as_tensor(weights, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # The validation loss of each epoch is that of the plain softmax; a temperature is
        # fitted at the end of training (TemperatureScaling), where there are validation rows.
        self.temperature_ = 1.0
        classes = self.classes_
        if classes.dtype.kind in "biuf" and np.array_equal(classes, np.arange(len(classes))):
            return  # the labels are their positions
        for name, callback in self.callbacks_:
            if _compares_labels_with_positions(callback, self):
                raise ValueError(
                    f"callback {name!r} would compare the classes skorch holds as positions "
                    f"in classes_ (0 to {len(classes) - 1}) with the labels predict returns "
                    f"({', '.join(repr(_plain(c)) for c in classes[:3])}"
                    f"{', ...' if len(classes) > 3 else ''}): score with EpochScoring and "
                    "use_caching=True (its default), which predicts positions on skorch's data"
                )

    def get_split_datasets(self, X, y=None, **fit_params):
        fit = getattr(self, "_fit_", None)
        if fit is None or fit.validation is not None \
                or self._setting("validation_fraction") is None or not self._can_stratify(y):
            return super().get_split_datasets(X, y, **fit_params)
        # The held-out part keeps the class shares of the training labels.
        seed = getattr(self, "_split_seed_", self.random_state)
        split = ValidSplit(self._setting("validation_fraction"), stratified=True,
                           random_state=seed)
        return split(self.get_dataset(X, y), y)

    def _can_stratify(self, y) -> bool:
        # A stratified split needs two rows of every class and one validation row per class.
        counts = np.bincount(np.asarray(y), minlength=self.n_outputs_)
        n_val = int(np.ceil(self._setting("validation_fraction") * len(y)))
        return counts.min() >= 2 and n_val >= len(counts) and len(y) - n_val >= len(counts)

    # -- prediction

    def decision_function(self, X):
        """The network's class scores (logits) for ``X``, before the temperature that
        :meth:`predict_proba` divides them by (which changes no row's order).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows, featurized as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (the score of
        ``classes_[1]`` minus that of ``classes_[0]``), else (n_samples, n_classes)
        """
        scores = self._network_output(X)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def _scaled_scores(self, X) -> np.ndarray:
        """The network's class scores for ``X`` divided by the fitted temperature."""
        scores = self._network_output(X)
        # a model file from before temperatures has none: its probabilities are unscaled
        return scores / getattr(self, "temperature_", 1.0)

    def predict_proba(self, X):
        """Class probabilities for ``X``: the softmax of the network's outputs divided by
        ``temperature_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows, featurized as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
            Columns follow ``classes_``; each row sums to 1.
        """
        return softmax(self._scaled_scores(X), axis=1)

    def predict_log_proba(self, X):
        """Logarithms of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows, featurized as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
            Columns follow ``classes_``.
        """
        scores = self._scaled_scores(X)
        return scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class of each row of ``X``, as a label of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows, featurized as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels of ``classes_``; for a skorch ``Dataset`` of a fit (or a ``Subset`` of
            one), which holds classes as their positions in ``classes_``, the positions, as
            skorch's own classifiers predict them (what its ``EpochScoring`` compares).
        """
        scores = self._network_output(X)  # first: an unfitted model raises NotFittedError
        positions = np.argmax(scores, axis=1)
        if is_skorch_dataset(X):
            # skorch's datasets hold the classes as positions in classes_ (the loss's
            # targets), and its scoring callbacks compare those with what this returns.
            return positions
        return self.classes_[positions]


MatNetClassifier.__doc__ = with_shared_sections(MatNetClassifier.__doc__, "classifier")
# ElemNetClassifier, IRNetClassifier, ...: one per network of the registry.
define_estimators("classifier", MatNetClassifier, nets.NETWORKS, globals())
