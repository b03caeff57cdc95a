"""The vectorized fast path: plain formulas (``Fe2O3``, ``Li0.5CoO2``) tokenized in bulk.

Whatever it is not certain about is left to the reference parser (:mod:`._parser`), so
both give the same vector and only the reference parser ever raises.
"""

from __future__ import annotations

import numpy as np

from ..elements import ELEMENT_INDEX, N_ELEMENTS

# Formulas parsed per vectorized chunk: bounds the float64 scratch (chunk x 86).
_CHUNK = 32768
# Keeps digit strings within exact int64 / float64 integer range.
_MAX_FAST_DIGITS = 15


def _symbol_table() -> np.ndarray:
    """Map (upper - 'A') * 27 + (lower - 'a' + 1 or 0) to an ELEMENTS index, else -1."""
    table = np.full(26 * 27, -1, dtype=np.int16)
    for symbol, index in ELEMENT_INDEX.items():
        code = (ord(symbol[0]) - 65) * 27 + (ord(symbol[1]) - 96 if len(symbol) > 1 else 0)
        table[code] = index
    return table


_SYMBOL_TABLE = _symbol_table()
_POW10_INT = 10 ** np.arange(_MAX_FAST_DIGITS + 1, dtype=np.int64)
_POW10_FLOAT = 10.0 ** np.arange(_MAX_FAST_DIGITS + 1)


def _fast_fractions(formulas: list[str], out: np.ndarray) -> np.ndarray:
    """Featurize plain formulas (symbols with optional decimal amounts) into ``out``.

    Fills the rows of ``out`` (zeros, shape (n, 86), float32) that it handles and
    returns their mask; the others (groups, whitespace, fractions, repeated
    elements, anything invalid) are left for :func:`parse_formula`.
    """
    n = len(formulas)
    handled = np.zeros(n, dtype=bool)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        handled[start:stop] = _fast_chunk(formulas[start:stop], out[start:stop])
    return handled


def _fast_chunk(formulas: list[str], out: np.ndarray) -> np.ndarray:
    n = len(formulas)
    try:
        joined = ("\n".join(formulas) + "\n").encode("ascii")
    except UnicodeEncodeError:
        # Non-ASCII formulas would shift byte offsets: blank them for the slow path.
        formulas = [f if f.isascii() else "" for f in formulas]
        joined = ("\n".join(formulas) + "\n").encode("ascii")
    buf = np.frombuffer(joined, dtype=np.uint8)
    lengths = np.fromiter(map(len, formulas), dtype=np.int64, count=n)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    np.cumsum(lengths[:-1] + 1, out=starts[1:])

    def owner(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(starts, positions, side="right") - 1

    upper = (buf >= 65) & (buf <= 90)
    lower = (buf >= 97) & (buf <= 122)
    digit = (buf >= 48) & (buf <= 57)
    dot = buf == 46
    ok = (lengths > 0) & upper[starts]

    bad = ~(upper | lower | digit | dot)
    # The "\n" after each formula separates them; a newline inside one is whitespace,
    # which only the reference parser handles.
    bad[starts + lengths] = False
    bad[1:] |= lower[1:] & ~upper[:-1]  # three-letter or lowercase-led symbols
    has_dot = bool(dot.any())
    if has_dot:
        bad[1:-1] |= dot[1:-1] & ~(digit[:-2] & digit[2:])
    bad_positions = np.flatnonzero(bad)
    if len(bad_positions):
        ok[owner(bad_positions)] = False

    # Number runs: maximal stretches of digits and dots, each directly after a
    # symbol and starting with a digit. A run's value is mantissa / 10**k with k
    # its digits after the dot: the correctly rounded double, as float() gives.
    numeric = digit | dot if has_dot else digit
    # A run may also open the buffer (a first formula starting with a digit).
    run_start = numeric.copy()
    run_start[1:] &= ~numeric[:-1]
    run_first = np.flatnonzero(run_start)
    n_runs = len(run_first)
    digit_pos = np.flatnonzero(digit)
    digit_run = np.searchsorted(run_first, digit_pos, side="right") - 1
    run_digits = np.bincount(digit_run, minlength=n_runs)
    too_long = run_digits > _MAX_FAST_DIGITS
    if has_dot:
        dot_pos = np.flatnonzero(dot)
        dot_run = np.searchsorted(run_first, dot_pos, side="right") - 1
        too_long |= np.bincount(dot_run, minlength=n_runs) > 1
    if too_long.any():
        ok[owner(run_first[too_long])] = False
    first_digit = np.zeros(n_runs, dtype=np.int64)
    np.cumsum(run_digits[:-1], out=first_digit[1:])
    rank = np.arange(len(digit_pos)) - first_digit[digit_run]
    exponent = np.clip(run_digits[digit_run] - rank - 1, 0, _MAX_FAST_DIGITS)
    digit_values = (buf[digit_pos] - 48).astype(np.int64) * _POW10_INT[exponent]
    # Runs of dots alone (in rejected formulas) have no digits: reduceat must skip them.
    has_digits = run_digits > 0
    mantissa = np.zeros(n_runs, dtype=np.int64)
    if has_digits.any():
        mantissa[has_digits] = np.add.reduceat(digit_values, first_digit[has_digits])
    if has_dot:
        run_dot = np.full(n_runs, np.iinfo(np.int64).max)
        run_dot[dot_run] = dot_pos
        after_dot = digit_pos > run_dot[digit_run]
        frac_digits = np.bincount(digit_run[after_dot], minlength=n_runs)
        run_value = mantissa / _POW10_FLOAT[np.minimum(frac_digits, _MAX_FAST_DIGITS)]
    else:
        run_value = mantissa.astype(np.float64)

    # Element tokens start at each capital letter.
    token_pos = np.flatnonzero(upper)
    has_lower = lower[token_pos + 1]
    second = np.where(has_lower, buf[token_pos + 1].astype(np.int64) - 96, 0)
    element = _SYMBOL_TABLE[(buf[token_pos].astype(np.int64) - 65) * 27 + second]
    token_owner = owner(token_pos)
    unknown = element < 0
    if unknown.any():
        ok[token_owner[unknown]] = False
    after = token_pos + 1 + has_lower
    amount = np.ones(len(token_pos))
    with_number = digit[after]
    amount[with_number] = run_value[np.searchsorted(run_first, after[with_number])]

    # A repeated element (CH3COOH) must be summed before dividing to match the
    # reference parser bit for bit; such formulas take the slow path.
    key = token_owner * N_ELEMENTS + np.maximum(element, 0)
    last_token = np.empty(n * N_ELEMENTS, dtype=np.int64)
    last_token[key] = np.arange(len(key))
    repeated = last_token[key] != np.arange(len(key))
    if repeated.any():
        ok[token_owner[repeated]] = False

    total = np.bincount(token_owner, weights=amount, minlength=n)
    ok &= total > 0
    keep = ok[token_owner]
    out.reshape(-1)[key[keep]] = amount[keep] / total[token_owner[keep]]
    return ok
