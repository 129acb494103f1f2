"""Exact timing helpers shared by the writers."""

from __future__ import annotations

from fractions import Fraction


class DelayRounder:
    """Turn frame durations into whole units of ``1/units_per_second``, rounding the running end.

    Rounding the cumulative end time (not each delay) keeps the total exact to one unit: 33.37 ms
    video frames become 3, 4, 3... centiseconds instead of drifting; exact inputs stay exact.
    """

    def __init__(self, units_per_second: int, max_units: int) -> None:
        self.units_per_second, self.max_units = units_per_second, max_units
        self._end = Fraction(0)
        self._emitted = 0

    def next(self, duration: int, time_base: Fraction) -> int:
        self._end += duration * time_base
        units = min(max(round(self._end * self.units_per_second) - self._emitted, 0), self.max_units)
        self._emitted += units
        return units
