"""The network registry: one entry per network, and everything that derives from it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import skmatnet
from skmatnet import nets
from skmatnet._registry import ESTIMATOR_KINDS, NETWORK_SPECS, estimator_names, get_spec


def test_names_are_unique_and_lower_case():
    names = [spec.name for spec in NETWORK_SPECS]
    assert len(set(names)) == len(names)
    assert all(name == name.lower() for name in names)
    assert get_spec("BRNet").name == "brnet"
    with pytest.raises(ValueError, match=r"name must be one of .*'brnet'"):
        get_spec("resnet")


@pytest.mark.parametrize("spec", NETWORK_SPECS, ids=lambda s: s.name)
def test_entry_points_at_real_classes(spec):
    module = nets.NETWORKS[spec.name]
    assert module.__name__ == spec.module_class and module.__module__ == spec.module_path
    for kind, name in spec.estimators().items():
        assert kind in ESTIMATOR_KINDS
        estimator = getattr(skmatnet, name)
        assert name in skmatnet.__all__
        assert estimator().get_params()["module"] is module  # the estimator wraps this network


@pytest.mark.parametrize("spec", [s for s in NETWORK_SPECS if s.n_parameters],
                         ids=lambda s: s.name)
def test_published_parameter_counts(spec):
    assert nets.count_parameters(nets.NETWORKS[spec.name]()) == spec.n_parameters


def test_derived_lists_follow_the_registry():
    from skmatnet import persistence
    from skmatnet.benchmark import DEFAULT_MODELS, MODEL_NAMES
    from skmatnet.benchmark.models import NETWORK_ESTIMATORS

    assert tuple(nets.NETWORKS) == tuple(spec.name for spec in NETWORK_SPECS)
    assert {f"skmatnet.{name}" for name in estimator_names()} == set(persistence._ESTIMATORS)
    assert MODEL_NAMES[2:] == tuple(NETWORK_ESTIMATORS) == tuple(nets.NETWORKS)
    assert set(DEFAULT_MODELS[2:]) == {s.name for s in NETWORK_SPECS if s.in_default_benchmark}


def test_command_line_help_lists_every_network(capsys):
    from skmatnet.cli import main

    with pytest.raises(SystemExit):
        main(["benchmark", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for spec in NETWORK_SPECS:
        assert spec.name in text


def test_registry_and_benchmark_configuration_import_without_torch():
    code = ("import sys, skmatnet._registry, skmatnet.benchmark.models; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


#: A network defined outside skmatnet, made an estimator by a registry entry alone.
FAKE_NETWORK = '''
from torch import nn


class TinyNet(nn.Module):
    def __init__(self, n_features=86, n_outputs=1, *, hidden=8, width_multiplier=1.0):
        super().__init__()
        self.hidden = nn.Linear(n_features, max(1, int(hidden * width_multiplier)))
        self.output = nn.Linear(self.hidden.out_features, n_outputs)

    def forward(self, x):
        return self.output(self.hidden(x).relu())
'''

FAKE_SCRIPT = '''
import pickle, sys
import numpy as np
from sklearn.base import clone
from skmatnet import _registry

spec = _registry.NetworkSpec(
    "tinynet", "tinynet:TinyNet", regressor="TinyNetRegressor", classifier="TinyNetClassifier",
    n_parameters=None, paper="A. Test, 2024", summary="two layers", paper_patience=7,
    recipe_overrides={"paper": {"batch_size": 16}}, tiny_params={"hidden": 4})
_registry.NETWORK_SPECS = (*_registry.NETWORK_SPECS, spec)

import skmatnet
from skmatnet import classifiers, estimators, nets
from skmatnet.featurizer import ElementFractionTransformer

frame = skmatnet.load_dataset("jarvis_formation_energy").iloc[:120]
X = ElementFractionTransformer().fit_transform(frame["formula"])
y = frame["target"].to_numpy()
assert nets.get_network("tinynet").__name__ == "TinyNet"
for cls, target in ((estimators.TinyNetRegressor, y),
                    (classifiers.TinyNetClassifier, np.where(y < -1, "low", "high"))):
    assert "A. Test, 2024" in cls.__doc__ and cls().get_params()["module"].__name__ == "TinyNet"
    assert cls._get_test_params()["module__hidden"] == 4
    paper = cls.from_recipe("paper")
    assert paper.patience == 7 and paper.batch_size == 16 and paper.lr == 1e-4
    model = cls(**{**cls._get_test_params(), "max_epochs": 3}).fit(X, target)
    assert model.module_.hidden.out_features == 4
    predicted = model.predict(X[:5])
    assert predicted.shape == (5,)
    again = pickle.loads(pickle.dumps(model))
    assert type(again) is cls and np.array_equal(again.predict(X[:5]), predicted)
    assert type(clone(model)) is cls
print("ok")
'''


def test_a_network_needs_only_its_registry_entry(tmp_path, data_dir):
    # In a fresh interpreter: the entry is added before skmatnet builds its estimators.
    (tmp_path / "tinynet.py").write_text(FAKE_NETWORK)
    env = {**os.environ, "SKMATNET_DATA": str(data_dir),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", FAKE_SCRIPT], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


@pytest.mark.parametrize("spec", NETWORK_SPECS, ids=lambda s: s.name)
def test_estimator_classes_are_made_from_the_entry(spec):
    from skmatnet._registry import ESTIMATOR_MODULES

    for kind, name in spec.estimators().items():
        cls = getattr(skmatnet, name)
        assert (cls.__module__, cls.__qualname__) == (f"skmatnet.{ESTIMATOR_MODULES[kind]}", name)
        assert cls._test_module_params == dict(spec.tiny_params)
        assert cls.from_recipe("paper").patience == spec.paper_patience
        assert spec.paper in cls.__doc__ and "Examples\n" in cls.__doc__
