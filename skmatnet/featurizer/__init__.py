"""Chemical formulas to the 86-element fraction vector of ElemNet, IRNet and BRNet.

Two parsers share one grammar. :func:`parse_formula` is a small recursive-descent
parser that accepts every supported notation and explains every rejection. The
vectorized tokenizer in :func:`_fast_fractions` handles the overwhelmingly common
plain form (``Fe2O3``, ``Co12Mn5Nd2``, ``Li0.5CoO2``) for many formulas at once
with numpy; anything it is not certain about goes to :func:`parse_formula`, so
both give the same vector and only the reference parser ever raises.
"""

from __future__ import annotations

# One module per concern: the reference parser, the vectorized fast path, and the public
# featurization built on both. This package only re-exports.
# _fast_fractions is private but imported by the tests that hold it to the reference parser.
from ._fast import _fast_fractions as _fast_fractions
from ._parser import FormulaError, parse_formula
from ._transform import ElementFractionTransformer, element_fractions

__all__ = [
    "ElementFractionTransformer",
    "FormulaError",
    "element_fractions",
    "parse_formula",
]

# A pickle (``joblib.dump`` of a fitted pipeline) records where a class lives: the public path,
# so files written today still load if the private modules behind it are rearranged.
for _public in (ElementFractionTransformer, FormulaError):
    _public.__module__ = __name__
del _public
