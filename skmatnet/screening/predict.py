"""Turning a fitted model into a chunk predictor: fractions or formulas in, columns out."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..elements import N_ELEMENTS
from .space import CandidateChunk


def _final_estimator(model: Any) -> Any:
    return model.steps[-1][1] if hasattr(model, "steps") else model


#: Prediction batch of networks on a CPU while screening: 10-15% faster than the estimators'
#: 4096 (chosen for GPUs) for the published BRNet on one thread (benchmarks/screening_speed.py).
CPU_BATCH_SIZE = 1024


def _networks(estimator: Any) -> list:
    """The skmatnet networks inside ``estimator`` (itself, a pipeline's last step, or the
    members of an ensemble), whose prediction batch :class:`_Predictor` may set."""
    from .._base import MatNetBase

    estimator = _final_estimator(estimator)
    if isinstance(estimator, MatNetBase):
        return [estimator]
    return [net for member in getattr(estimator, "estimators_", ()) for net in _networks(member)]


@contextlib.contextmanager
def _prediction_batch(networks: list, batch_size: int | None) -> Iterator[None]:
    """Predict with ``batch_size`` rows per batch, then give the networks theirs back."""
    if batch_size is None or not networks:
        yield
        return
    saved = [net.iterator_valid__batch_size for net in networks]
    try:
        for net in networks:
            net.set_params(iterator_valid__batch_size=int(batch_size))
        yield
    finally:
        for net, size in zip(networks, saved, strict=True):
            net.set_params(iterator_valid__batch_size=size)


def _gives_std(estimator: Any) -> bool:
    """Whether ``predict(X, return_std=True)`` works: ensembles, Gaussian processes,
    Bayesian ridge. A single network has the argument only to say it gives no std."""
    from ..estimators import MatNetRegressor

    if isinstance(estimator, MatNetRegressor):
        return False
    return "return_std" in inspect.signature(estimator.predict).parameters


def _starts_with_featurizer(model: Any) -> bool:
    from sklearn.pipeline import Pipeline

    from ..featurizer import ElementFractionTransformer

    return isinstance(model, Pipeline) and isinstance(model.steps[0][1],
                                                      ElementFractionTransformer)


#: What a screen may rank by besides the model's own output column.
RANK_BY = ("prediction", "e_above_hull", "probability_below_hull", "lower_confidence_bound",
           "expected_improvement")


@dataclass(frozen=True)
class _Scoring:
    """Columns computed from a chunk's predictions: the energy above the hull of
    ``hull`` (a :class:`~.hull.HullReference`), and what to rank by."""

    hull: Any = None
    rank_by: str | None = None
    kappa: float = 1.0

    def columns(self, gives_std: bool) -> list[str]:
        if self.hull is None:
            return []
        extra = ["e_above_hull"] + (["probability_below_hull"] if gives_std else [])
        if self.rank_by in ("lower_confidence_bound", "expected_improvement"):
            extra.append(self.rank_by)
        return extra

    def __call__(self, chunk: CandidateChunk, outputs: dict[str, np.ndarray]) -> None:
        from .acquisition import _acquisition_scores
        from .hull import probability_below_hull

        if self.hull is None:
            return
        e = outputs["prediction"] - self.hull.chunk_hull_energy(chunk.systems, chunk.patterns)
        outputs["e_above_hull"] = e
        if "std" in outputs:
            std = outputs["std"]
            outputs["probability_below_hull"] = probability_below_hull(e, std)
            if self.rank_by in ("lower_confidence_bound", "expected_improvement"):
                outputs[self.rank_by] = _acquisition_scores(self.rank_by, e, std, self.kappa)


def _check_scoring(predictor: _Predictor, references: Any, rank_by: str | None,
                   kappa: float) -> _Scoring:
    """Check ``rank_by`` against the model and references; load the references."""
    from .hull import HullReference

    if rank_by is not None and rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_BY)}, got {rank_by!r}")
    if not np.isfinite(float(kappa)):
        raise ValueError(f"kappa must be a finite number, got {kappa!r}")
    if rank_by not in (None, "prediction") and references is None:
        raise ValueError(f"rank_by={rank_by!r} needs references: the known compounds whose "
                         "convex hull the energies are measured against")
    if references is None:
        return _Scoring()
    if predictor.classes is not None:
        raise ValueError("references (the energy above the hull) need a regressor of the "
                         "formation energy per atom, not a classifier")
    if rank_by in ("probability_below_hull", "lower_confidence_bound",
                   "expected_improvement") and not predictor.return_std:
        raise ValueError(f"rank_by={rank_by!r} needs the standard deviation of an ensemble "
                         "(MatNetEnsembleRegressor; return_std not False)")
    hull = references if isinstance(references, HullReference) else HullReference(references)
    return _Scoring(hull=hull, rank_by=rank_by, kappa=float(kappa))


class _Predictor:
    """How to ask ``model`` about a chunk: fractions or formulas in, columns out."""

    def __init__(self, model: Any, return_std: bool | str = "auto",
                 batch_size: int | None = None, scoring: _Scoring | None = None):
        from sklearn.pipeline import Pipeline

        if not hasattr(model, "predict"):
            raise TypeError(f"the model must have a predict method, got {type(model).__name__}")
        self.from_fractions = True
        head = model
        if isinstance(model, Pipeline):
            if _starts_with_featurizer(model):
                # The fractions are built directly: skip the featurizer.
                head = model[1:] if len(model.steps) > 1 else None
            elif getattr(model, "n_features_in_", N_ELEMENTS) != N_ELEMENTS:
                self.from_fractions = False
        elif _starts_with_featurizer(getattr(model, "estimators_", [None])[0]):
            # An ensemble of formula pipelines (skmatnet train --ensemble): each member
            # featurizes, so it is given the formulas.
            self.from_fractions = False
        elif getattr(model, "n_features_in_", N_ELEMENTS) != N_ELEMENTS:
            raise ValueError(
                f"the model takes {model.n_features_in_} features, not the 86 element "
                "fractions: give a model trained on element fractions, or a pipeline that "
                "starts with ElementFractionTransformer"
            )
        if head is None:
            raise ValueError("the pipeline has only the featurizer: it predicts nothing")
        self.model = head if self.from_fractions else model
        final = _final_estimator(model)
        self.classes = getattr(final, "classes_", None) if hasattr(final, "predict_proba") \
            else None
        supports_std = _gives_std(final)
        if return_std is True and not supports_std:
            raise ValueError(f"{type(final).__name__} gives no standard deviation "
                             "(return_std); an ensemble does (MatNetEnsembleRegressor)")
        self.return_std = supports_std if return_std == "auto" else bool(return_std)
        if self.classes is not None:
            self.value_column = f"probability_{self.classes[-1]}"
        else:
            self.value_column = "prediction"
        self.scoring = scoring or _Scoring()
        if self.scoring.rank_by is not None:
            self.value_column = self.scoring.rank_by
        self.networks = _networks(model)
        if batch_size is None and self.networks and all(
                str(getattr(net, "device", "cpu")).startswith("cpu") for net in self.networks):
            batch_size = CPU_BATCH_SIZE
        self.batch_size = batch_size

    def __call__(self, chunk: CandidateChunk) -> dict[str, np.ndarray]:
        X = chunk.fractions() if self.from_fractions else np.asarray(chunk.formulas(),
                                                                     dtype=object)
        with _prediction_batch(self.networks, self.batch_size):
            outputs = self._outputs(X)
        self.scoring(chunk, outputs)
        return outputs

    def _outputs(self, X: Any) -> dict[str, np.ndarray]:
        if self.classes is not None:
            proba = np.asarray(self.model.predict_proba(X))
            return {self.value_column: proba[:, -1].astype(np.float64),
                    "label": np.asarray(self.classes)[proba.argmax(axis=1)]}
        if self.return_std:
            mean, std = self.model.predict(X, return_std=True)
            return {"prediction": np.asarray(mean, dtype=np.float64).reshape(len(X), -1)[:, 0],
                    "std": np.asarray(std, dtype=np.float64).reshape(len(X), -1)[:, 0]}
        values = np.asarray(self.model.predict(X), dtype=np.float64).reshape(len(X), -1)
        return {"prediction": values[:, 0]}


def _output_columns(predictor: _Predictor) -> list[str]:
    if predictor.classes is not None:
        return [predictor.value_column, "label"]
    return (["prediction", "std"] if predictor.return_std else ["prediction"]) + \
        predictor.scoring.columns(predictor.return_std)
