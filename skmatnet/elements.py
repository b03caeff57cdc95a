"""The chemical elements known to skmatnet and the ElemNet input order.

``ELEMENTS`` is the single source of truth for the column order of every
element-fraction vector in the package: the 86 elements H..Pu of the periodic
table without the noble gases He, Ne, Ar and the short-lived Po, At, Rn, Fr,
Ra, in the order used by ElemNet, IRNet and BRNet (Jha et al., Sci. Rep. 2018).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ELEMENTS", "ELEMENT_INDEX", "ELEMENT_PROPERTIES", "N_ELEMENTS", "PERIODIC_TABLE",
           "PROPERTY_NAMES", "element_descriptors"]

#: All 118 element symbols in order of atomic number, used to tell a real
#: element outside the ElemNet set (e.g. ``He``) from a typo (e.g. ``Xx``).
PERIODIC_TABLE: tuple[str, ...] = tuple(
    """
    H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se
    Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy
    Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf
    Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og
    """.split()
)

_EXCLUDED = frozenset({"He", "Ne", "Ar", "Po", "At", "Rn", "Fr", "Ra"})

#: The 86 elements of the ElemNet input vector, in ElemNet column order.
ELEMENTS: tuple[str, ...] = tuple(
    s for s in PERIODIC_TABLE[: PERIODIC_TABLE.index("Pu") + 1] if s not in _EXCLUDED
)

#: Column index of each symbol in :data:`ELEMENTS`.
ELEMENT_INDEX: dict[str, int] = {symbol: i for i, symbol in enumerate(ELEMENTS)}

N_ELEMENTS: int = len(ELEMENTS)

assert N_ELEMENTS == 86

#: Names and units of the columns of :data:`ELEMENT_PROPERTIES`.
PROPERTY_NAMES: tuple[str, ...] = (
    "block", "atomic number", "period", "group", "electronegativity (Pauling)", "atomic radius (Å)",
    "Mendeleev number", "melting point (K)", "first ionization energy (eV)",
    "electron affinity (eV)", "molar volume (cm³/mol)",
)

# One row per element of ELEMENTS, in PROPERTY_NAMES order. The values are those of
# pymatgen's periodic table (pymatgen 2026.10.16, ``pymatgen.core.Element``; the atomic
# radius of Kr and Xe, which it lacks, is its calculated radius); tests/test_input_init.py
# checks every value against the installed pymatgen.
_PROPERTY_TABLE = """
    H  s 1 1 1 2.2 0.25 103 14.01 13.5984 0.754195 11.42
    Li s 3 2 1 0.98 1.45 12 453.69 5.39171 0.618049 13.02
    Be s 4 2 2 1.57 1.05 77 1560 9.3227 -0.52 4.85
    B  p 5 2 13 2.04 0.85 86 2349 8.29802 0.279723 4.39
    C  p 6 2 14 2.55 0.7 95 3800 11.2603 1.26212 5.29
    N  p 7 2 15 3.04 0.65 100 63.05 14.5341 -0.07 13.54
    O  p 8 2 16 3.44 0.6 101 54.8 13.6181 1.46111 17.36
    F  p 9 2 17 3.98 0.5 102 53.53 17.4228 3.40119 11.2
    Na s 11 3 1 0.93 1.8 11 370.87 5.13908 0.547926 23.78
    Mg s 12 3 2 1.31 1.5 73 923 7.64624 -0.42 14
    Al p 13 3 13 1.61 1.25 80 933.47 5.98577 0.432835 10
    Si p 14 3 14 1.9 1.1 85 1687 8.15168 1.38952 12.06
    P  p 15 3 15 2.19 1 90 317.3 10.4867 0.746609 17.02
    S  p 16 3 16 2.58 1 94 388.36 10.36 2.0771 15.53
    Cl p 17 3 17 3.16 1 99 171.6 12.9676 3.61273 17.39
    K  s 19 4 1 0.82 2.2 10 336.53 4.34066 0.501459 45.94
    Ca s 20 4 2 1 1.8 16 1115 6.11316 0.024551 26.2
    Sc d 21 4 3 1.36 1.6 19 1814 6.56149 0.17938 15
    Ti d 22 4 4 1.54 1.4 51 1941 6.82812 0.075545 10.64
    V  d 23 4 5 1.63 1.35 54 2183 6.74619 0.527662 8.32
    Cr d 24 4 6 1.66 1.4 57 2180 6.76651 0.675928 7.23
    Mn d 25 4 7 1.55 1.4 60 1519 7.43404 -0.52 7.35
    Fe d 26 4 8 1.83 1.4 61 1811 7.90247 0.153236 7.09
    Co d 27 4 9 1.88 1.35 64 1768 7.88101 0.662255 6.67
    Ni d 28 4 10 1.91 1.35 67 1728 7.63988 1.15716 6.59
    Cu d 29 4 11 1.9 1.35 72 1357.77 7.72638 1.23578 7.11
    Zn d 30 4 12 1.65 1.35 76 692.68 9.3942 -0.62 9.16
    Ga p 31 4 13 1.81 1.3 81 302.91 5.9993 0.301166 11.8
    Ge p 32 4 14 2.01 1.25 84 1211.4 7.89944 1.23268 13.63
    As p 33 4 15 2.18 1.15 89 1090 9.78855 0.804486 12.95
    Se p 34 4 16 2.55 1.15 93 494 9.75239 2.0206 16.42
    Br p 35 4 17 2.96 1.15 98 265.8 11.8138 3.36359 19.78
    Kr p 36 4 18 3 0.88 4 115.79 13.9996 -1.02 27.99
    Rb s 37 5 1 0.82 2.35 9 312.46 4.17713 0.485916 55.76
    Sr s 38 5 2 0.95 2 15 1050 5.69487 0.052066 33.94
    Y  d 39 5 3 1.22 1.8 25 1799 6.21726 0.311292 19.88
    Zr d 40 5 4 1.33 1.55 49 2128 6.63413 0.433289 14.02
    Nb d 41 5 5 1.6 1.45 53 2750 6.75885 0.917407 10.83
    Mo d 42 5 6 2.16 1.45 56 2896 7.09243 0.747238 9.38
    Tc d 43 5 7 1.9 1.35 59 2430 7.11938 0.552 8.63
    Ru d 44 5 8 2.2 1.3 62 2607 7.3605 1.04627 8.17
    Rh d 45 5 9 2.28 1.35 65 2237 7.4589 1.14289 8.28
    Pd d 46 5 10 2.2 1.4 69 1828.05 8.33684 0.562141 8.56
    Ag d 47 5 11 1.93 1.6 71 1234.93 7.57623 1.30447 10.27
    Cd d 48 5 12 1.69 1.55 75 594.22 8.99382 -0.72 13
    In p 49 5 13 1.78 1.55 79 429.75 5.78636 0.383926 15.76
    Sn p 50 5 14 1.96 1.45 83 505.08 7.34392 1.11207 16.29
    Sb p 51 5 15 2.05 1.45 88 903.78 8.60839 1.0474 18.19
    Te p 52 5 16 2.1 1.4 92 722.66 9.00981 1.97088 20.46
    I  p 53 5 17 2.66 1.4 97 386.85 10.4513 3.05905 25.72
    Xe p 54 5 18 2.6 1.08 5 161.4 12.1298 -0.82 35.92
    Cs s 55 6 1 0.79 2.6 8 301.59 3.89391 0.471598 70.94
    Ba s 56 6 2 0.89 2.15 14 1000 5.21166 0.144626 38.16
    La f 57 6 3 1.1 1.95 33 1193 5.5769 0.557546 22.39
    Ce f 58 6 3 1.12 1.85 32 1068 5.5386 0.60016 20.69
    Pr f 59 6 3 1.13 1.85 31 1208 5.4702 0.109235 20.8
    Nd f 60 6 3 1.14 1.85 30 1297 5.525 0.0974933 20.59
    Pm f 61 6 3 1.13 1.85 29 1373 5.58187 0.129 20.23
    Sm f 62 6 3 1.17 1.85 28 1345 5.64371 0.162 19.98
    Eu f 63 6 3 1.2 1.85 18 1099 5.67038 0.11613 28.97
    Gd f 64 6 3 1.2 1.8 27 1585 6.1498 0.2123 19.9
    Tb f 65 6 3 1.1 1.75 26 1629 5.8638 0.131318 19.3
    Dy f 66 6 3 1.22 1.75 24 1680 5.93905 0.0153 19.01
    Ho f 67 6 3 1.23 1.75 23 1734 6.0215 0.338 18.74
    Er f 68 6 3 1.24 1.75 22 1802 6.1077 0.312 18.46
    Tm f 69 6 3 1.25 1.75 21 1818 6.18431 1.02922 19.1
    Yb f 70 6 3 1.1 1.75 17 1097 6.25416 -0.02 24.84
    Lu d 71 6 3 1.27 1.75 20 1925 5.42587 0.23887 17.78
    Hf d 72 6 4 1.3 1.55 50 2506 6.82507 0.17807 13.44
    Ta d 73 6 5 1.5 1.45 52 3290 7.54957 0.328859 10.85
    W  d 74 6 6 2.36 1.35 55 3695 7.86403 0.816501 9.47
    Re d 75 6 7 1.9 1.35 58 3459 7.83352 0.0603966 8.86
    Os d 76 6 8 2.2 1.3 63 3306 8.43823 1.07766 8.42
    Ir d 77 6 9 2.2 1.35 66 2739 8.96702 1.56406 8.52
    Pt d 78 6 10 2.28 1.35 68 2041.4 8.95883 2.12511 9.09
    Au d 79 6 11 2.54 1.35 70 1337.33 9.22555 2.30861 10.21
    Hg d 80 6 12 2 1.5 74 234.32 10.4375 -0.52 14.09
    Tl p 81 6 13 1.62 1.9 78 577 6.10829 0.320053 17.22
    Pb p 82 6 14 2.33 1.8 82 600.61 7.41668 0.356721 18.26
    Bi p 83 6 15 2.02 1.6 87 544.4 7.28552 0.942362 21.31
    Ac f 89 7 3 1.1 1.95 48 1323 5.38023 0.35 22.55
    Th f 90 7 3 1.3 1.8 47 2115 6.3067 0.607696 19.8
    Pa f 91 7 3 1.5 1.8 46 1841 5.89 0.55 15.18
    U  f 92 7 3 1.38 1.75 45 1405.3 6.19405 0.314979 12.49
    Np f 93 7 3 1.36 1.75 44 910 6.26554 0.48 11.59
    Pu f 94 7 3 1.28 1.75 43 912.5 6.02576 -0.5 12.29
"""

#: Element symbol -> its properties, in :data:`PROPERTY_NAMES` order (block as s, p, d, f).
ELEMENT_PROPERTIES: dict[str, tuple] = {
    symbol: (block, *(float(v) for v in values))
    for symbol, block, *values in (line.split() for line in _PROPERTY_TABLE.strip().splitlines())
}

assert tuple(ELEMENT_PROPERTIES) == ELEMENTS


def element_descriptors() -> np.ndarray:
    """The properties of the 86 elements as standardised numbers, one row per element.

    The numeric properties of :data:`ELEMENT_PROPERTIES` plus the block one-hot encoded
    (s, p, d, f), each column scaled to mean 0 and standard deviation 1 over the 86
    elements; rows in :data:`ELEMENTS` order. Chemically similar elements get similar
    rows: the networks start their input layers from them (``input_init="elements"``).

    Returns
    -------
    numpy.ndarray of shape (86, 14), float64
    """
    rows = ELEMENT_PROPERTIES.values()
    blocks = np.array([[float(props[0] == block) for block in "spdf"] for props in rows])
    numeric = np.array([props[1:] for props in rows], dtype=float)
    table = np.hstack([numeric, blocks])
    return (table - table.mean(axis=0)) / table.std(axis=0)
