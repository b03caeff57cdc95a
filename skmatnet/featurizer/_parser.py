"""The reference formula parser: every notation, and a reason for every rejection.

:func:`parse_formula` and the amount checks shared with ``{element: amount}`` input.
The vectorized fast path (:mod:`._fast`) defers to it for anything but plain formulas.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..elements import ELEMENT_INDEX, PERIODIC_TABLE

_KNOWN_SYMBOLS = frozenset(PERIODIC_TABLE)
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = frozenset(_OPENERS.values())
# Deepest group nesting accepted: real formulas nest two or three levels, and the
# recursive parser must stay far from Python's recursion limit.
_MAX_DEPTH = 32


class FormulaError(ValueError):
    """Raised when formulas cannot be turned into element fractions.

    Parameters
    ----------
    message : str
        The error message.
    problems : list of tuple (int, object, str) or None, default=None
        Every rejected row as ``(row, value, reason)``; ``None``: none listed.

    Attributes
    ----------
    problems : list of tuple (int, object, str)
        Every rejected row as ``(row, value, reason)``, in row order.
    """

    def __init__(self, message: str, problems: list[tuple[int, Any, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []



def _is_digit(char: str) -> bool:
    # ASCII only: str.isdigit() also accepts e.g. "²" or Arabic-Indic digits.
    return "0" <= char <= "9"


class _Parser:
    """Recursive descent over ``item* ; item := (Symbol | (items) | [items]) amount?``.

    The arithmetic follows pymatgen's ``Composition`` so that the amounts are
    bit-identical to it: a group's multiplier is applied to each amount in the
    group (``a*k + b*k``, not ``(a + b)*k``) before repeated elements are summed,
    in the order they are written.
    """

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0

    def fail(self, reason: str) -> None:
        raise ValueError(reason)

    def skip_space(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> dict[str, float]:
        terms = self.sequence(closer=None)
        if self.pos < len(self.text):
            self.fail(f"unexpected {self.text[self.pos]!r} at position {self.pos}")
        return _combine(terms, 1.0)

    def sequence(self, closer: str | None) -> list[tuple[str, float]]:
        """The ``(symbol, amount)`` terms up to ``closer``, a group being its summed amounts."""
        terms: list[tuple[str, float]] = []
        while True:
            char = self.peek()
            if char == "" or char in _CLOSERS:
                if char != (closer or ""):
                    if closer is None:
                        self.fail(f"unmatched {char!r} at position {self.pos}")
                    expected = f"{closer!r}" if closer else "end of formula"
                    found = repr(char) if char else "end of formula"
                    self.fail(f"expected {expected} but found {found} at position {self.pos}")
                if not terms and closer is not None:
                    self.fail(f"empty group before position {self.pos}")
                return terms
            if char in _OPENERS:
                if self.depth >= _MAX_DEPTH:
                    self.fail(f"groups nested more than {_MAX_DEPTH} deep at position {self.pos}")
                self.pos += 1
                self.depth += 1
                inner = self.sequence(closer=_OPENERS[char])
                self.depth -= 1
                self.pos += 1
                factor = self.amount()
                terms.extend(_combine(inner, factor).items())
            elif "A" <= char <= "Z":
                symbol = self.symbol()
                terms.append((symbol, self.amount()))
            elif char == "-":
                self.fail(f"negative amount at position {self.pos}")
            else:
                self.fail(f"unexpected {char!r} at position {self.pos}")

    def symbol(self) -> str:
        text, start = self.text, self.pos
        end = start + 1
        while end < len(text) and "a" <= text[end] <= "z":
            end += 1
        symbol = text[start:end]
        if symbol not in _KNOWN_SYMBOLS:
            self.fail(f"unknown element symbol {symbol!r}")
        if symbol not in ELEMENT_INDEX:
            self.fail(f"element {symbol!r} is not one of the 86 elements of the ElemNet vector")
        self.pos = end
        return symbol

    def number(self) -> float | None:
        text, start = self.text, self.pos
        end = start
        while end < len(text) and (_is_digit(text[end]) or text[end] == "."):
            end += 1
        if end == start:
            return None
        literal = text[start:end]
        if literal.count(".") > 1 or literal == ".":
            self.fail(f"malformed number {literal!r} at position {start}")
        self.pos = end
        return float(literal)

    def amount(self) -> float:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == "-":
            self.fail(f"negative amount at position {self.pos}")
        value = self.number()
        if value is None:
            return 1.0
        if self.pos < len(self.text) and self.text[self.pos] == "/":
            self.pos += 1
            denominator = self.number()
            if denominator is None:
                self.fail(f"fraction without denominator at position {self.pos}")
            if denominator == 0:
                self.fail(f"division by zero in amount at position {self.pos}")
            value = value / denominator
        return value


def _combine(terms: list[tuple[str, float]], factor: float) -> dict[str, float]:
    """Sum ``amount * factor`` per element, in order of first appearance."""
    amounts: dict[str, float] = {}
    for symbol, amount in terms:
        amounts[symbol] = amounts.get(symbol, 0.0) + amount * factor
    return amounts


def parse_formula(formula: str) -> dict[str, float]:
    """Parse a chemical formula into element amounts.

    Parameters
    ----------
    formula : str
        A formula such as ``"Fe2O3"``, ``"Li0.5CoO2"``, ``"Ca(OH)2"``,
        ``"K3[Fe(CN)6]"`` or ElemNet's fraction form ``"Mg1/3Ta2/3"``.
        Amounts may be integers, decimals or ``a/b`` fractions and default to
        1; ``()`` and ``[]`` groups nest (at most 32 levels) and take a
        multiplier; whitespace around and between tokens is ignored. Digits
        are ASCII ``0-9``.

    Returns
    -------
    dict of str to float
        Amount of each element, in order of first appearance. Repeated
        elements are summed.

    Raises
    ------
    ValueError
        With the reason: malformed syntax, unknown symbol, an element outside
        the 86 of the ElemNet vector, a negative amount, an amount or total too
        large for a float, or a zero total.
    TypeError
        If ``formula`` is not a ``str``.

    Examples
    --------
    >>> parse_formula("Ca(OH)2")
    {'Ca': 1.0, 'O': 2.0, 'H': 2.0}
    """
    if not isinstance(formula, str):
        raise TypeError(f"expected a formula string, got {type(formula).__name__}")
    text = formula.strip()
    if not text:
        raise ValueError("empty formula")
    amounts = _Parser(text).parse()
    _check_total(amounts)
    return amounts


def _check_total(amounts: Mapping[str, float]) -> float:
    total = 0.0
    for symbol, amount in amounts.items():
        if not math.isfinite(amount):
            raise ValueError(f"amount of {symbol} is not finite ({amount})")
        if amount < 0:
            raise ValueError(f"negative amount {amount:g} for {symbol}")
        total += amount
    if not total > 0:
        raise ValueError("total amount is zero")
    if not math.isfinite(total):
        # Each amount fits a float but their sum does not: every fraction would be 0.
        raise ValueError(f"total amount is too large for a float ({total})")
    return total


def _amounts_from_mapping(mapping: Mapping[Any, Any]) -> dict[str, float]:
    amounts: dict[str, float] = {}
    for key, value in mapping.items():
        symbol = str(key).strip()
        if symbol not in _KNOWN_SYMBOLS:
            raise ValueError(f"unknown element symbol {symbol!r}")
        if symbol not in ELEMENT_INDEX:
            raise ValueError(
                f"element {symbol!r} is not one of the 86 elements of the ElemNet vector"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"amount of {symbol} is not a number ({value!r})")
        try:
            amount = float(value)
        except OverflowError:  # an int beyond the float range
            raise ValueError(f"amount of {symbol} is too large for a float") from None
        amounts[symbol] = amounts.get(symbol, 0.0) + amount
    _check_total(amounts)
    return amounts


def _fractions_row(amounts: Mapping[str, float], out: np.ndarray) -> None:
    total = sum(amounts.values())
    for symbol, amount in amounts.items():
        out[ELEMENT_INDEX[symbol]] = amount / total
