"""Line charts as plain SVG text: figures for the lesson pages, made by code, with no plotting library.

Deterministic output (fixed precision, no timestamps), so a test can check that
a committed figure is exactly what its code draws today.
"""

from __future__ import annotations

from html import escape


def _fmt(v: float, span: float) -> str:
    return f"{v:.0f}" if span >= 10 else f"{v:.1f}" if span >= 1 else f"{v:.2f}"


def _frame(points: list[tuple[float, float]], *, title: str, x_label: str, y_label: str, width: int,
           height: int, y_from_zero: bool):
    """The white background, title, axes, grid and tick labels; returns the SVG lines and the scales."""
    if not points:
        raise ValueError("a chart needs at least one point")
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    if y_from_zero:
        y0, y1 = 0.0, max(p[1] for p in points) * 1.05 or 1.0
    else:
        lo, hi = min(p[1] for p in points), max(p[1] for p in points)
        pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 1.0
        y0, y1 = lo - pad, hi + pad
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    left, right, top, bottom = 60, 20, 40, 50
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + ph - (y - y0) / ((y1 - y0) or 1) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2:.0f}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>']
    for i in range(6):
        yv = y0 + (y1 - y0) * i / 5
        xv = x0 + (x1 - x0) * i / 5
        out.append(f'<text x="{left - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end">{_fmt(yv, y1 - y0)}</text>')
        out.append(f'<line x1="{left}" y1="{sy(yv):.1f}" x2="{left + pw}" y2="{sy(yv):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{sx(xv):.1f}" y="{top + ph + 16}" text-anchor="middle">{_fmt(xv, x1 - x0)}</text>')
    out.append(f'<text x="{left + pw / 2:.0f}" y="{height - 10}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="16" y="{top + ph / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + ph / 2:.0f})">{escape(y_label)}</text>')
    return out, sx, sy, (left, top, pw, ph)


def label_width(text: str, font_size: float = 12) -> float:
    """A generous estimate of the width of ``text`` in a sans-serif font (no font metrics here)."""
    return 0.7 * font_size * len(text)


COLOURS = ["#3f51b5", "#e65100", "#2e7d32", "#6a1b9a"]


def line_chart(series: dict[str, list[tuple[float, float]]], *, title: str, x_label: str, y_label: str,
               width: int = 640, height: int = 360) -> str:
    """An SVG chart of one or more named series of (x, y) points, with axes, ticks and a legend."""
    points = [p for s in series.values() for p in s]
    out, sx, sy, (left, top, pw, ph) = _frame(points, title=title, x_label=x_label, y_label=y_label,
                                              width=width, height=height, y_from_zero=True)
    for n, (name, pts) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        out.append(f'<text x="{left + pw - 8}" y="{top + 16 + 16 * n}" text-anchor="end" fill="{colour}">'
                   f'{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def scatter_chart(points: list[tuple[str, float, float]], *, title: str, x_label: str, y_label: str,
                  width: int = 640, height: int = 360, y_from_zero: bool = False,
                  curves: dict[str, list[tuple[float, float]]] | None = None) -> str:
    """An SVG chart of labelled (label, x, y) points: one dot and its label per point.

    A label sits to the right of its dot, or to the left where it would run past the chart's edge.
    ``curves``: named lines drawn behind the points (a ceiling, a fit), with a legend.
    """
    curves = curves or {}
    out, sx, sy, (left, top, pw, _) = _frame([(x, y) for _, x, y in points] + [p for c in curves.values() for p in c],
                                             title=title, x_label=x_label, y_label=y_label, width=width,
                                             height=height, y_from_zero=y_from_zero)
    for n, (name, pts) in enumerate(curves.items()):
        colour = COLOURS[(n + 1) % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="6 4" '
                   f'points="{path}"/>')
        out.append(f'<text x="{left + pw - 8}" y="{top + 16 + 16 * n}" text-anchor="end" fill="{colour}">'
                   f'{escape(name)}</text>')
    placed: list[tuple[float, float, float]] = []  # (left, right, baseline) of each label drawn so far
    for label, x, y in points:
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{COLOURS[0]}"/>')
        right_side = sx(x) + 6 + label_width(label) <= width
        left = sx(x) + 6 if right_side else sx(x) - 6 - label_width(label)
        right = left + label_width(label)
        base = sy(y) - 6
        while any(a < right and left < b and abs(base - y0) < 13 for a, b, y0 in placed):
            base += 13  # a label already sits there: go one line down
        placed.append((left, right, base))
        if right_side:
            out.append(f'<text x="{sx(x) + 6:.1f}" y="{base:.1f}">{escape(label)}</text>')
        else:
            out.append(f'<text x="{sx(x) - 6:.1f}" y="{base:.1f}" text-anchor="end">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
