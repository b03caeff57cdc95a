"""The network registry: one entry per network, and everything that derives from it."""

from __future__ import annotations

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
