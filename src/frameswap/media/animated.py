"""Animated PNG and animated WebP: Pillow composites the frames, our header walk gives exact delays.

Pillow's APNG and WebP readers apply each format's dispose/blend rules (WebP through libwebp's
own animation decoder), so we use its full frames and only take timing and loop from the header.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

from PIL import ImageSequence

from frameswap.errors import CorruptMediaError, EmptyMediaError, UnsupportedMediaError
from frameswap.media.base import MediaReader, check_frame_limits
from frameswap.media.chunks import AnimationHeader, is_png, is_webp, read_apng_header, read_webp_header
from frameswap.media.pillow_io import open_pillow, pillow_errors, split_alpha
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, FrameTiming, MediaInfo
from frameswap.options import MediaLimits

_MAX_TIME_BASE_DEN = 1_000_000


def exact_time_base(delays: tuple[Fraction, ...]) -> Fraction:
    """1/1000 s when every delay is whole milliseconds, else the finest base all delays fit."""
    den = 1000
    for d in delays:
        den = den * d.denominator // math.gcd(den, d.denominator)
        if den > _MAX_TIME_BASE_DEN:
            return Fraction(1, _MAX_TIME_BASE_DEN)
    return Fraction(1, den)


class AnimatedReader(MediaReader):
    """Frames of an APNG or animated WebP, decoded lazily by Pillow."""

    def __init__(
        self, source: ResolvedSource, info: MediaInfo, limits: MediaLimits, ticks: list[int]
    ) -> None:
        super().__init__(source, info, limits)
        self._ticks = ticks

    def frames(self) -> Iterator[Frame]:
        tb = self.info.time_base or Fraction(1, 1000)
        pts = 0
        with pillow_errors(self.name):
            im = open_pillow(self.source)
            try:
                for i, page in enumerate(ImageSequence.Iterator(im)):
                    if i >= self.info.frame_count:
                        break
                    rgb, alpha = split_alpha(page)
                    duration = self._ticks[i]
                    yield Frame(
                        i, rgb, FrameTiming(pts, duration, tb), alpha if self.info.has_alpha else None
                    )
                    pts += duration
            finally:
                im.close()


def open_animated(source: ResolvedSource, limits: MediaLimits) -> AnimatedReader:
    """Open an APNG or animated WebP; anything else is left to the next reader."""
    head = source.head(64)
    if not (is_png(head) or is_webp(head)):
        raise UnsupportedMediaError(f"{source.name}: not an APNG or animated WebP")
    data = source.read_bytes()
    header: AnimationHeader | None = read_apng_header(data) if is_png(head) else read_webp_header(data)
    if header is None:
        raise UnsupportedMediaError(f"{source.name}: a still picture, not an animation")
    fmt = "apng" if is_png(head) else "webp"
    check_frame_limits(source.name, header.width, header.height, len(header.delays), limits)
    with pillow_errors(source.name):
        im = open_pillow(source)
        try:
            n_frames = int(getattr(im, "n_frames", 1))
        finally:
            im.close()
    delays = header.delays
    if n_frames != len(delays):
        # e.g. an APNG whose default image is not part of the animation: trust Pillow's count.
        if n_frames < 1:
            raise EmptyMediaError(f"{source.name}: animation has no frames")
        if not delays:
            raise CorruptMediaError(f"{source.name}: animation has no frame control chunks")
        delays = (delays + (delays[-1],) * n_frames)[:n_frames]
    if not delays:
        raise EmptyMediaError(f"{source.name}: animation has no frames")
    tb = exact_time_base(delays)
    ticks = [int(d / tb) for d in delays]
    info = MediaInfo(
        format=fmt,
        kind="animation" if len(delays) > 1 else "image",
        width=header.width,
        height=header.height,
        frame_count=len(delays),
        durations_ms=tuple(float(d * 1000) for d in delays),
        loop=header.loop,
        time_base=tb,
        has_alpha=header.has_alpha,
    )
    return AnimatedReader(source, info, limits, ticks)
