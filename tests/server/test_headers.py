"""``declared_over`` against Python's own integers (no digit limit) on any decimal text."""

from __future__ import annotations

import sys

from hypothesis import given
from hypothesis import strategies as st

from frameswap.server.headers import declared_over


@given(digits=st.text("0123456789", min_size=1, max_size=6000), limit=st.integers(0, 10**12))
def test_it_says_what_the_full_integer_comparison_says(digits, limit):
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # the oracle may read any length
    try:
        expected = int(digits) > limit
    finally:
        sys.set_int_max_str_digits(old)
    assert declared_over(digits, limit) is expected
    assert declared_over(f" {digits}\t".encode(), limit) is expected


def test_absent_or_not_a_number_declares_nothing():
    assert not any(declared_over(v, 10) for v in (None, "", "-5", "1e9", "0x99", b"twelve"))


def test_digits_other_than_ascii_are_not_a_number_and_raise_nothing():
    # str.isdigit() is true of "²" and "٣", which int() refuses: a header of them, as many as the
    # limit has digits, raised ValueError out of the body check (a 500) before
    assert not declared_over(b"\xb2\xb2", 10)  # latin-1 superscript twos, as a header arrives
    assert not declared_over("٣٣", 10)
