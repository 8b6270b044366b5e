"""course.plot: figures drawn as SVG text."""

import re

from course.plot import label_width, scatter_chart


def test_a_label_at_the_right_edge_stays_inside_the_chart():
    svg = scatter_chart([("Q2_K", 88, 120), ("F16", 271, 87)], title="t", x_label="x", y_label="y", width=640)
    labels = {m["label"]: m for m in re.finditer(
        r'<text x="(?P<x>[\d.]+)" y="[\d.]+"(?P<end> text-anchor="end")?>(?P<label>[^<]+)</text>', svg)}
    assert not labels["Q2_K"]["end"]  # room on the right: the label follows its dot
    f16 = labels["F16"]
    assert f16["end"] and float(f16["x"]) < 640 - 20  # the last dot's label ends before it
    assert float(labels["Q2_K"]["x"]) + label_width("Q2_K") <= 640
