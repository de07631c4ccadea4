"""Distances on the city's map: "which is nearest" and "how far", for every service.

The great-circle (haversine) distance is plenty for a city: the error against the
ellipsoid is a few metres in a kilometre, far less than what residents walk around.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def distance_text(metres: float) -> str:
    """As residents read it: 850m, 1.2km (tens of metres, tenths of kilometres)."""
    if metres < 1000:
        return f"{max(10, round(metres / 10) * 10)}m"
    return f"{metres / 1000:.1f}km"
