"""A validation set routed through a pipeline (scikit-learn's metadata routing, sklearn >= 1.6).

With routing on, ``Pipeline(..., transform_input=["X_val"])`` featurizes ``X_val`` before the
net sees it: the fit equals the one of the manual ``net__X_val=featurized`` path.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.pipeline import Pipeline
from small_estimators import small

from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset

COLUMNS = ["epoch", "train_loss", "valid_loss"]


@pytest.fixture(scope="module")
def rows(data_dir):
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    return formulas[:200], y[:200], formulas[200:260], y[200:260]


def pipeline(net, **kwargs):
    return Pipeline([("ef", ElementFractionTransformer()), ("net", net)], **kwargs)


def small_net():
    return small(BRNetRegressor, max_epochs=3)


def test_routed_validation_set_is_featurized_as_the_manual_one(rows):
    f_train, y_train, f_val, y_val = rows
    manual = pipeline(small_net())
    manual.fit(f_train, y_train, net__X_val=manual[0].transform(f_val), net__y_val=y_val)

    with sklearn.config_context(enable_metadata_routing=True):
        net = small_net().set_fit_request(X_val=True, y_val=True)
        routed = pipeline(net, transform_input=["X_val"])
        routed.fit(f_train, y_train, X_val=f_val, y_val=y_val)

    assert not sklearn.get_config()["enable_metadata_routing"]
    assert net.n_epochs_ == 3 and net.best_epoch_ is not None
    assert net.history[:, COLUMNS] == manual[-1].history[:, COLUMNS]
    assert net.best_epoch_ == manual[-1].best_epoch_
    np.testing.assert_array_equal(routed.predict(f_val), manual.predict(f_val))


def test_routing_without_a_fit_request_is_an_error(rows):
    f_train, y_train, f_val, y_val = rows
    with sklearn.config_context(enable_metadata_routing=True):
        model = pipeline(small_net(), transform_input=["X_val"])
        with pytest.raises(UnsetMetadataPassedError, match="X_val"):
            model.fit(f_train, y_train, X_val=f_val, y_val=y_val)


def test_without_transform_input_the_net_gets_the_formulas(rows):
    # transform_input is what featurizes X_val: without it the net is given strings.
    f_train, y_train, f_val, y_val = rows
    with sklearn.config_context(enable_metadata_routing=True):
        model = pipeline(small_net().set_fit_request(X_val=True, y_val=True))
        with pytest.raises(ValueError, match="X_val"):
            model.fit(f_train, y_train, X_val=f_val, y_val=y_val)


def test_the_routed_and_the_manual_forms_do_not_mix(rows):
    f_train, y_train, f_val, y_val = rows
    with sklearn.config_context(enable_metadata_routing=True):
        model = pipeline(small_net().set_fit_request(X_val=True, y_val=True))
        with pytest.raises(TypeError, match="net__X_val"):
            model.fit(f_train, y_train, net__X_val=model[0].transform(f_val), net__y_val=y_val)
    model = pipeline(small_net(), transform_input=["X_val"])
    with pytest.raises(ValueError, match="metadata routing"):
        model.fit(f_train, y_train, X_val=f_val, y_val=y_val)
