"""The element-informed start of the input layers (``input_init="elements"``).

The property table against pymatgen, the layers that read the input in every
network, what the start does to their weights (chemically similar elements
start alike), and which fits use it: the defaults, not the papers' recipe, a
user's own module, inputs of another width or a fine-tuned start.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skmatnet import BRNetRegressor, ElemNetClassifier, IRNetRegressor, load_model, save_model
from skmatnet.elements import (
    ELEMENT_INDEX,
    ELEMENT_PROPERTIES,
    ELEMENTS,
    PROPERTY_NAMES,
    element_descriptors,
)
from skmatnet.nets import NETWORKS, element_informed_init_, input_layers

pymatgen_core = pytest.importorskip("pymatgen.core", reason="pymatgen is the oracle of the table")

#: The property of each numeric column, as pymatgen's Element has it.
_PYMATGEN = {
    "atomic number": lambda e: e.Z,
    "period": lambda e: e.row,
    "group": lambda e: e.group,
    "electronegativity (Pauling)": lambda e: e.X,
    "atomic radius (Å)": lambda e: (e.atomic_radius if e.atomic_radius is not None
                                    else e.atomic_radius_calculated),
    "Mendeleev number": lambda e: e.mendeleev_no,
    "melting point (K)": lambda e: e.melting_point,
    "first ionization energy (eV)": lambda e: e.ionization_energy,
    "electron affinity (eV)": lambda e: e.electron_affinity,
    "molar volume (cm³/mol)": lambda e: e.molar_volume,
}


def test_every_property_is_pymatgens():
    assert tuple(ELEMENT_PROPERTIES) == ELEMENTS
    assert PROPERTY_NAMES[1:] == tuple(_PYMATGEN)
    for symbol, (block, *values) in ELEMENT_PROPERTIES.items():
        element = pymatgen_core.Element(symbol)
        assert block == element.block, symbol
        for name, value in zip(PROPERTY_NAMES[1:], values, strict=True):
            expected = float(_PYMATGEN[name](element))
            assert math.isclose(value, expected, rel_tol=1e-5), (symbol, name, value, expected)


def test_descriptors_are_standardised_and_put_neighbours_close():
    d = element_descriptors()
    assert d.shape == (86, 14) and np.isfinite(d).all()
    np.testing.assert_allclose(d.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.std(axis=0), 1, atol=1e-12)

    def distance(a, b):
        return np.linalg.norm(d[ELEMENT_INDEX[a]] - d[ELEMENT_INDEX[b]])

    assert distance("Na", "K") < distance("Na", "Cl")
    assert distance("Fe", "Co") < distance("Fe", "O")
    assert distance("La", "Ce") < distance("La", "C")


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_the_input_layers_of_every_network(name):
    network = NETWORKS[name](n_features=86, n_outputs=1, width_multiplier=0.25)
    found = input_layers(network, 86)
    reading_86 = [m for m in network.modules()
                  if isinstance(m, torch.nn.Linear) and m.in_features == 86]
    # every layer of 86 inputs reads the fractions, and only those do
    assert found and {id(m) for m in found} == {id(m) for m in reading_86}
    network.train()
    input_layers(network, 86)
    assert network.training  # the search leaves the mode as it was


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_the_start_makes_similar_elements_start_alike(name):
    torch.manual_seed(0)
    network = NETWORKS[name](n_features=86, n_outputs=1, width_multiplier=1.0)
    before = [(m.weight.std().item(), m.bias.clone()) for m in input_layers(network, 86)]
    element_informed_init_(network, torch.from_numpy(element_descriptors()))
    for layer, (glorot_spread, bias) in zip(input_layers(network, 86), before, strict=True):
        weight = layer.weight.detach().numpy()
        assert weight.std() == pytest.approx(glorot_spread, rel=1e-4)  # the same spread
        torch.testing.assert_close(layer.bias, bias)
        corr = np.corrcoef(weight.T)
        i = ELEMENT_INDEX
        assert corr[i["Na"], i["K"]] > 0.5 > corr[i["Na"], i["Cl"]]
        assert corr[i["Fe"], i["Co"]] > corr[i["Fe"], i["F"]] + 0.2


def test_the_share_of_the_properties():
    descriptors = torch.from_numpy(element_descriptors())
    torch.manual_seed(0)
    network = NETWORKS["elemnet"](n_features=86, n_outputs=1, width_multiplier=1.0)
    glorot = input_layers(network, 86)[0].weight.detach().clone()
    element_informed_init_(network, descriptors, share=0.0)
    torch.testing.assert_close(input_layers(network, 86)[0].weight.detach(), glorot)
    element_informed_init_(network, descriptors, share=1.0)
    alone = np.corrcoef(input_layers(network, 86)[0].weight.detach().numpy().T)
    # from the properties alone, neighbours start almost alike; the default's random part
    # keeps them apart (a small substitution still moves every unit)
    assert alone[ELEMENT_INDEX["Fe"], ELEMENT_INDEX["Co"]] > 0.9
    for share in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="share"):
            element_informed_init_(network, descriptors, share=share)


def _first_layer(model) -> np.ndarray:
    return input_layers(model.module_, 86)[0].weight.detach().numpy().copy()


def _neighbour_correlation(weight: np.ndarray) -> float:
    return float(np.corrcoef(weight[:, ELEMENT_INDEX["Na"]], weight[:, ELEMENT_INDEX["K"]])[0, 1])


# -- which fits use it: the estimators' part; the cheap test settings (no data to learn)


def _fractions(n: int = 64, n_features: int = 86, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features)).astype(np.float32) * (rng.random((n, n_features)) < 0.05)
    X[:, 0] += 0.1
    return X / X.sum(axis=1, keepdims=True), rng.random(n).astype(np.float32)


def _started(model, X, y):
    """``model`` after a fit at a rate of zero: its weights are where training started."""
    return model.set_params(lr=1e-12, max_epochs=1, optimizer=torch.optim.SGD,
                            device="cpu").fit(X, y)


def test_the_defaults_start_from_the_elements_and_the_paper_recipe_does_not():
    X, y = _fractions()
    assert BRNetRegressor().get_params()["input_init"] == "elements"
    default = _started(BRNetRegressor(random_state=0), X, y)
    paper = _started(BRNetRegressor.from_recipe("paper", random_state=0), X, y)
    assert paper.input_init == "glorot"
    assert _neighbour_correlation(_first_layer(default)) > 0.5
    assert abs(_neighbour_correlation(_first_layer(paper))) < 0.25
    explicit = _started(BRNetRegressor(random_state=0, input_init="glorot"), X, y)
    assert abs(_neighbour_correlation(_first_layer(explicit))) < 0.25
    # seeded like the rest of the initialisation; a clone starts the same way
    again = _started(clone(BRNetRegressor(random_state=0)), X, y)
    np.testing.assert_array_equal(_first_layer(again), _first_layer(default))
    classifier = _started(ElemNetClassifier(random_state=0), X, y > 0.5)
    assert _neighbour_correlation(_first_layer(classifier)) > 0.5


def test_other_inputs_and_given_modules_start_as_before():
    X, y = _fractions(n_features=20)
    net = _started(IRNetRegressor(random_state=0), X, y)  # 20 columns: not fractions
    weight = input_layers(net.module_, 20)[0].weight.detach()
    bound = math.sqrt(6 / (weight.shape[0] + weight.shape[1]))
    assert weight.abs().max() <= bound  # Glorot-uniform

    module = NETWORKS["brnet"](n_features=86, n_outputs=1, width_multiplier=0.25)
    before = input_layers(module, 86)[0].weight.detach().clone()
    X, y = _fractions()
    given = BRNetRegressor(module=module, random_state=0)
    given.set_params(lr=1e-12, max_epochs=1, optimizer=torch.optim.SGD, device="cpu")
    given.fit(X, y)
    torch.testing.assert_close(input_layers(given.module_, 86)[0].weight.detach(), before)


def test_fine_tuning_keeps_the_pretrained_weights(tmp_path):
    X, y = _fractions()
    source = _started(BRNetRegressor(random_state=1, input_init="glorot"), X, y)
    tuned = _started(BRNetRegressor(random_state=0, init_from=source), X, y)
    np.testing.assert_allclose(_first_layer(tuned), _first_layer(source), atol=1e-6)
    # a saved model loads with its own weights, whatever its input_init
    path = tmp_path / "net.skmatnet"
    save_model(tuned, path)
    loaded = load_model(path)
    assert loaded.input_init == "elements"
    np.testing.assert_array_equal(_first_layer(loaded), _first_layer(tuned))
