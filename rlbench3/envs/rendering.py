"""A minimal numpy rasteriser for the ``rgb_array`` render mode of the 2-D families.

No OpenGL or display needed (MuJoCo's own renderer needs one), so ``render_mode="rgb_array"``
works on headless machines and in CI, and SB3's ``make_vec_env`` (which asks for it) just works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BACKGROUND = (245, 245, 245)
GREY, RED, GREEN, BLUE, DARK = (
    (170, 170, 170),
    (220, 60, 60),
    (60, 170, 80),
    (60, 90, 200),
    (40, 40, 40),
)


def check_render_mode(env: Any, render_mode: str | None) -> None:
    """Reject a render mode the env does not offer, at construction, naming the valid ones."""
    if render_mode is not None and render_mode not in env.metadata["render_modes"]:
        raise ValueError(
            f"render_mode must be one of {env.metadata['render_modes']} or None, "
            f"got {render_mode!r}"
        )


class Canvas:
    """An RGB image with a world-to-pixel transform: ``extent`` world units span the width."""

    def __init__(self, size: int = 256, extent: float = 2.0, center: tuple[float, float] = (0, 0)):
        self.size, self.scale = size, size / extent
        self.center = np.asarray(center, dtype=np.float64)
        self.image = np.empty((size, size, 3), dtype=np.uint8)
        self.image[:] = BACKGROUND
        # Pixel centres in world coordinates (y up).
        ticks = (np.arange(size) + 0.5 - size / 2) / self.scale
        self._x = ticks[None, :] + self.center[0]
        self._y = -ticks[:, None] + self.center[1]

    def disc(self, center, radius: float, color, *, ring: bool = False) -> None:
        dist2 = (self._x - center[0]) ** 2 + (self._y - center[1]) ** 2
        r = max(radius, 1.0 / self.scale)
        mask = dist2 <= r * r
        if ring:
            inner = max(r - 2.0 / self.scale, 0.0)
            mask &= dist2 >= inner * inner
        self.image[mask] = color

    def segment(self, start, end, width: float, color) -> None:
        p, q = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
        d = q - p
        length2 = float(d @ d) or 1e-12
        s = np.clip(((self._x - p[0]) * d[0] + (self._y - p[1]) * d[1]) / length2, 0.0, 1.0)
        dist2 = (self._x - p[0] - s * d[0]) ** 2 + (self._y - p[1] - s * d[1]) ** 2
        half = max(width / 2, 1.0 / self.scale)
        self.image[dist2 <= half * half] = color

    def box(self, low, high, color) -> None:
        mask = (
            (self._x >= low[0]) & (self._x <= high[0]) & (self._y >= low[1]) & (self._y <= high[1])
        )
        self.image[mask] = color
