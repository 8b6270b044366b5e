"""`course grade --shard K/N` and `course grade merge`: a class graded in shares, joined into the files one
run writes; and the export to nbgrader with a relative folder (the README's `grading/`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from course.exercises.meta import CourseError
from course.grading.batch import grade_batch, in_shard, merge_outputs, parse_shard, write_outputs
from course.grading.supervisor import Limits

SLUG = "l00_getting_started"
STUDENTS = {"ada": "solutions", "bob": "exercises", "cy": "exercises", "dee": "exercises", "eve": "exercises"}


def _without_durations(text: str) -> dict:
    data = json.loads(text)
    for student in data.values():
        for lesson in student["lessons"].values():
            for test in lesson["tests"]:
                test.pop("duration")
    return data


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    subs = root / "submissions"
    for name, source in STUDENTS.items():
        shutil.copytree(course.root / source / SLUG, subs / name / SLUG, ignore=shutil.ignore_patterns("__pycache__"))
    limits = Limits(test_s=30, submission_s=300)
    whole = write_outputs(grade_batch(subs, course=course, lessons=[SLUG], workers=2, limits=limits),
                          root / "whole", course)
    parts = []
    for k in (1, 2, 3):
        result = grade_batch(subs, course=course, lessons=[SLUG], workers=2, limits=limits, shard=(k, 3))
        write_outputs(result, root / f"shard{k}", course)
        parts.append(root / f"shard{k}")
    return root, whole, parts


def test_shards_split_the_class_without_overlap():
    names = [f"student{i:03d}" for i in range(300)]
    shares = [[n for n in names if in_shard(n, (k, 4))] for k in (1, 2, 3, 4)]
    assert sorted(sum(shares, [])) == names
    assert all(40 <= len(s) <= 110 for s in shares), [len(s) for s in shares]  # a hash spreads them
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/4", "5/4", "a/b", "3"):
        with pytest.raises(CourseError):
            parse_shard(bad)


def test_merged_shards_equal_one_run(graded):
    root, whole, parts = graded
    proc = subprocess.run([sys.executable, "-m", "course", "grade", "merge", *map(str, parts), "--out",
                           str(root / "merged")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    merged = root / "merged"
    assert (merged / "scores.csv").read_text() == whole["csv"].read_text()
    assert (merged / "grading.json").read_text() == whole["run"].read_text()
    assert _without_durations((merged / "scores.json").read_text()) == _without_durations(whole["json"].read_text())
    for md in whole["feedback"].glob("*.md"):
        assert (merged / "feedback" / md.name).read_text() == md.read_text()
    assert sorted(p.name for p in (merged / "feedback").iterdir()) == sorted(f"{n}.md" for n in STUDENTS)


def test_merge_refuses_a_missing_or_repeated_share(graded):
    _, _, parts = graded
    with pytest.raises(CourseError, match="missing share"):
        merge_outputs(parts[:2])
    with pytest.raises(CourseError, match="given twice"):
        merge_outputs([parts[0], parts[0], parts[1], parts[2]])


def test_nbgrader_export_to_a_relative_folder(tmp_path):
    """The README's `course nbgrader export grading/`, run from another folder: no ValueError after writing."""
    pytest.importorskip("nbformat")
    proc = subprocess.run([sys.executable, "-m", "course", "nbgrader", "export", "grading/", "--lesson", "l00"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "grading" / "source" / SLUG / f"{SLUG}.ipynb").is_file()
    assert "wrote source" in proc.stdout


def test_a_class_of_notebooks_is_graded_like_files(course, tmp_path):
    """`course grade` on notebooks (the answer to nbgrader's in-kernel tests): each `%%module` cell is the lesson
    file, graded in the same isolation; a solved notebook earns everything, a notebook of stubs nothing."""
    from course.grading.nbexport import export

    export(course, tmp_path / "nb", lessons=[course.lesson(SLUG)])
    book = json.loads((tmp_path / "nb" / "source" / SLUG / f"{SLUG}.ipynb").read_text())
    subs = tmp_path / "subs"
    for name, source in (("solved", "solutions"), ("stubs", "exercises")):
        cells = []
        for cell in book["cells"]:
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code" and text.startswith("%%module "):
                module = text.split("\n", 1)[0].split()[1]
                text = f"%%module {module}\n" + (course.root / source / SLUG / f"{module}.py").read_text()
            cells.append({**cell, "source": text})
        (subs / name).mkdir(parents=True)
        (subs / name / f"{SLUG}.ipynb").write_text(json.dumps({**book, "cells": cells}))
    (subs / "broken").mkdir()
    (subs / "broken" / f"{SLUG}.ipynb").write_text("{not json")
    result = grade_batch(subs, course=course, lessons=[SLUG], workers=2, limits=Limits(test_s=30))
    r = {st.student: st.reports[SLUG] for st in result.students}
    assert r["solved"].points == r["solved"].max_points, [t.message for t in r["solved"].tests if not t.points]
    assert r["stubs"].points == 0 and r["broken"].points == 0
    assert any("read from the notebook" in n for n in r["solved"].notes)
    assert any("not a readable notebook" in n for n in r["broken"].notes)
