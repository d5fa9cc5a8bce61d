#!/usr/bin/env python3
"""Converts Natural Earth's 1:110m admin-0 countries into the dashboard's compact world map.

Input: `countries-110m.json` of the npm package world-atlas 2.0.2 (Natural Earth 4.1.0's
ne_110m_admin_0_countries as TopoJSON, geometry unchanged but quantised; ISO 3166-1 numeric ids).
Get it with the ordinary npm client:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    pip install pycountry
    python3 scripts/world-map/convert.py package/countries-110m.json \
        > crates/fedicensus-dashboard/src/world/countries.tsv

Output: one line per country, `ISO_A2<TAB>name<TAB>SVG path`, projected with the Equal Earth
projection (areas true to scale: a map of counts should not make Greenland look like Africa) into
a 1000-unit-wide view box, rounded to 0.1 unit and simplified (Douglas-Peucker, 0.4 unit).
Antarctica is left out (nobody hosts a server there; it would take a fifth of the height).
Natural Earth is in the public domain; so is this derived file.
"""

import json
import math
import sys

import pycountry

WIDTH = 1000.0
TOLERANCE = 0.4

# Equal Earth (Šavrič, Patterson, Jenny 2018).
A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
M = math.sqrt(3) / 2


def equal_earth(lon, lat):
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)))
    y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2))
    return x, y


X_MAX = equal_earth(180, 0)[0]
Y_MAX = equal_earth(0, 90)[1]
SCALE = WIDTH / (2 * X_MAX)
# The map's bottom: the southern tip of South America and New Zealand (about 56 degrees south).
Y_SOUTH = equal_earth(0, -58)[1]
HEIGHT = round((Y_MAX - Y_SOUTH) * SCALE, 1)


def project(lon, lat):
    x, y = equal_earth(lon, lat)
    return (round((x + X_MAX) * SCALE, 1), round((Y_MAX - y) * SCALE, 1))


def decode_arcs(topology):
    sx, sy = topology["transform"]["scale"]
    tx, ty = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs, indexes):
    points = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        points.extend(arc if not points else arc[1:])
    return points


def simplify(points, tolerance):
    if len(points) < 3:
        return points
    (x1, y1), (x2, y2) = points[0], points[-1]
    dx, dy = x2 - x1, y2 - y1
    norm = math.hypot(dx, dy)
    far, index = -1.0, 0
    for i, (x, y) in enumerate(points[1:-1], 1):
        d = abs(dy * x - dx * y + x2 * y1 - y2 * x1) / norm if norm else math.hypot(x - x1, y - y1)
        if d > far:
            far, index = d, i
    if far <= tolerance:
        return [points[0], points[-1]]
    return simplify(points[: index + 1], tolerance)[:-1] + simplify(points[index:], tolerance)


def unwrapped(points):
    """A ring that crosses the antimeridian (Fiji, Chukotka), made continuous in longitude and
    drawn twice, once from each side: the view box cuts off what lies beyond it."""
    out = [points[0]]
    for lon, lat in points[1:]:
        previous = out[-1][0]
        while lon - previous > 180:
            lon -= 360
        while previous - lon > 180:
            lon += 360
        out.append((lon, lat))
    low = min(lon for lon, _ in out)
    high = max(lon for lon, _ in out)
    if low >= -180 and high <= 180:
        return [out]
    shift = 360 if low < -180 else -360
    return [out, [(lon + shift, lat) for lon, lat in out]]


def number(v):
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def path(polygons, arcs):
    out = []
    for polygon in polygons:
        for indexes in polygon:
            for lonlat in unwrapped(ring(arcs, indexes)):
                projected = [project(lon, lat) for lon, lat in lonlat]
                points = simplify(projected, TOLERANCE)
                deduped = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
                if len(deduped) < 4:
                    continue
                out.append(
                    "M" + " ".join(f"{number(x)} {number(y)}" for x, y in deduped[:-1]) + "Z"
                )
    return "".join(out)


def alpha2(geometry):
    name = geometry.get("properties", {}).get("name", "")
    numeric = geometry.get("id")
    if numeric is None:
        # Natural Earth's three without an ISO numeric code: Kosovo has a user-assigned code
        # that MaxMind and DB-IP use; the other two are claimed by Cyprus and Somalia.
        return {"Kosovo": "XK", "N. Cyprus": "CY", "Somaliland": "SO"}.get(name), name
    country = pycountry.countries.get(numeric=numeric)
    return (country.alpha_2 if country else None), name


def main():
    topology = json.load(open(sys.argv[1]))
    arcs = decode_arcs(topology)
    print(f"# Natural Earth 1:110m admin-0 countries (public domain), Equal Earth, 1000 x {HEIGHT}")
    print("# ISO_A2\tname\tpath (made by scripts/world-map/convert.py; do not edit)")
    for geometry in topology["objects"]["countries"]["geometries"]:
        code, name = alpha2(geometry)
        if code is None or code == "AQ":
            continue
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        d = path(polygons, arcs)
        if d:
            print(f"{code}\t{name}\t{d}")


if __name__ == "__main__":
    main()
