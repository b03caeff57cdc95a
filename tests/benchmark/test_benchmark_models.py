"""The benchmark's models (skmatnet.benchmark.models): names, parameter counts, papers."""

from __future__ import annotations

import pytest
from bench_settings import DATASET
from shared_data import needs_data

from skmatnet.benchmark import (
    DEFAULT_MODELS,
    MODEL_NAMES,
    BenchmarkError,
    count_model_parameters,
    parse_models,
    published_result,
)

pytestmark = needs_data


def test_model_selection_names():
    assert parse_models(None) == list(DEFAULT_MODELS)
    assert parse_models("brnet, automl") == ["automl", "brnet"]  # run order
    assert parse_models(["all"]) == list(MODEL_NAMES)
    with pytest.raises(BenchmarkError, match="unknown model"):
        parse_models(["brnet", "xgb"])


def test_published_numbers():
    assert published_result(DATASET, "brnet", "brnet").mae == 0.070
    assert published_result(DATASET, "automl", "brnet").mae == 0.129
    assert published_result(DATASET, "elemnet", "brnet").train_time_s == 2036
    assert published_result(DATASET, "brnet-ensemble", "brnet").mae == 0.070
    assert published_result(DATASET, "brnet", "tatis") is None
    assert published_result("oqmd_formation_enthalpy", "fcmnr", "tatis").mae == 0.0511


def test_parameter_counts_of_classic_models(jarvis):
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = jarvis.X[:300], jarvis.y[:300]
    ridge = Ridge().fit(X, y)
    assert count_model_parameters(ridge) == 87
    assert count_model_parameters(make_pipeline(StandardScaler(), Ridge()).fit(X, y)) \
        == 87 + 3 * 86 + 1  # + mean_, var_, scale_ and n_samples_seen_
    knn = KNeighborsRegressor().fit(X, y)
    assert count_model_parameters(knn) == 300 * 86 + 300
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    assert count_model_parameters(forest) == sum(t.tree_.node_count for t in forest.estimators_)
