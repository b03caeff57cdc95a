"""The chemical elements known to skmatnet and the ElemNet input order.

``ELEMENTS`` is the single source of truth for the column order of every
element-fraction vector in the package: the 86 elements H..Pu of the periodic
table without the noble gases He, Ne, Ar and the short-lived Po, At, Rn, Fr,
Ra, in the order used by ElemNet, IRNet and BRNet (Jha et al., Sci. Rep. 2018).
"""

from __future__ import annotations

__all__ = ["ELEMENTS", "ELEMENT_INDEX", "N_ELEMENTS", "PERIODIC_TABLE"]

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
