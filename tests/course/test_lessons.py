"""The lesson pages: every example runs, every Python block is an include, the site builds.

Lesson pages live in ``lessons/`` (the site's docs folder). The rule that keeps
them honest: a Python block on a page is never typed inline, it is included from
a runnable file with ``--8<-- "<lesson>/examples/NAME.py"``, and that file is run
here. Shell blocks show only commands of the course (``course ...``,
``pip install ...``, ``python -m pytest``) and nbgrader's, which the nbgrader
round trip in ``test_nbgrader.py`` runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course.dev.translations import english_page
from course.exercises import load_course
from extras import require_extra, require_prometheus

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"
PAGES = sorted(LESSONS.rglob("*.md"))
EXAMPLES = sorted(LESSONS.glob("**/examples/*.py"))
COURSE = load_course(ROOT)

# A hang guard, not a speed test: a real model on 2 busy cores can be 100x slower than on idle ones.
FAKE_TIMEOUT_S = 60
REAL_MODEL_TIMEOUT_S = 300
ALLOWED_SHELL = ("course", "pip install", "python -m pytest", "nbgrader ")
SUBPROCESS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*\{?\.?(?P<lang>[\w+-]*)")
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')


def code_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """Every fenced block of a Markdown text as (line number, language, body lines)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, start, body = opening["fence"], i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"line {start}: the {fence} block is never closed")
        blocks.append((start, opening["lang"].lower(), body))
        i += 1
    return blocks


def include_target(line: str) -> Path | None:
    """The file a ``--8<--`` line includes (relative to the snippets base path, ``lessons/``)."""
    match = INCLUDE.match(line)
    if not match:
        return None
    return LESSONS / match["path"].split(":")[0]  # "file.py:section" includes part of a file


def page_problems(text: str) -> list[str]:
    """What breaks the rules of lesson pages in ``text``: inline Python, missing includes, other shell."""
    problems = []
    for line_no, lang, body in code_blocks(text):
        if lang in ("python", "py"):
            lines = [line for line in body if line.strip()]
            if not lines:
                problems.append(f"line {line_no}: empty python block")
            for line in lines:
                target = include_target(line)
                if target is None:
                    problems.append(
                        f"line {line_no}: python block with inline code {line.strip()!r}: move it to "
                        '<lesson>/examples/NAME.py and include it with --8<-- "<lesson>/examples/NAME.py"'
                    )
                elif not target.is_file():
                    problems.append(f"line {line_no}: include of a missing file {target.relative_to(ROOT)}")
                elif target.parent.name != "examples":
                    problems.append(f"line {line_no}: {target.relative_to(ROOT)} is not in an examples/ folder")
        elif lang in ("console", "shell-session"):
            for line in body:
                command = line.strip()[2:] if line.strip().startswith("$ ") else None
                if command is not None and not command.startswith(ALLOWED_SHELL):
                    problems.append(f"line {line_no}: shell command {command!r} is not one of {ALLOWED_SHELL}")
    for n, line in enumerate(text.splitlines(), 1):
        target = include_target(line)
        if target is not None and not target.is_file():
            problems.append(f"line {n}: include of a missing file {target}")
    return sorted(set(problems))


def uses_real_model(path: Path) -> bool:
    text = path.read_text()
    return any(name in text for name in ("LlamaCppBackend", "CourseServer", "course.foundry.runtime", "make_backend(",
                                         "llama_cpp_report", "open_session(", "mx.load(", "new_llama(", "VllmServer"))


def needs_vllm(path: Path) -> bool:
    """Lesson 08's examples that start real vLLM need the environment `course vllm setup` makes."""
    return "VllmServer" in path.read_text()


def needs_foundry(path: Path) -> bool:
    """Lesson 06's examples that run Foundry Local need its SDK (the ``foundry`` extra, part of ``.[all]``)
    and the preparation tools (the ``foundry-prepare`` extra) the first time."""
    return "course.foundry.runtime" in path.read_text()


def example_extras(path: Path) -> list[str]:
    """The extras an example needs beyond the course's own dependencies (all part of ``.[all]``)."""
    text = path.read_text()
    extras = ["foundry", "foundry-prepare"] if needs_foundry(path) else []
    if "from course.models.forms import prepare" in text and "foundry-prepare" not in extras:
        extras.append("foundry-prepare")  # it makes the model's ONNX form, and runs it
    if "import mlx" in text or '"mlx"' in text:
        extras.append("mlx")
    if "presidio" in text:
        extras.append("production")
    return extras


def test_lessons_have_pages_and_examples():
    assert LESSONS / "index.md" in PAGES
    for lesson in COURSE.lessons:
        assert (ROOT / lesson.page).is_file(), f"course.toml names page {lesson.page}, which does not exist"
    assert EXAMPLES, "no lessons/*/examples/*.py found"


@pytest.fixture(scope="session")
def foundry_prepared():
    """What the page asks a learner to do once, `course foundry prepare`, done for the examples (a minute the
    first time on a machine, then nothing)."""
    proc = subprocess.run([sys.executable, "-m", "course", "foundry", "prepare"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env=SUBPROCESS_ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def vllm_ready():
    """What the page asks a learner to do once, `course vllm setup`: done under CI (a few minutes the first time on
    a machine), a skip naming the command elsewhere."""
    from course.vllm.setup import SETUP_COMMAND, is_set_up

    if not is_set_up():
        if os.environ.get("CI") != "true":
            pytest.skip(f"vLLM is not set up here: run `{SETUP_COMMAND}`")
        proc = subprocess.run([sys.executable, "-m", "course", "vllm", "setup"], cwd=ROOT, capture_output=True,
                              text=True, timeout=1800, env=SUBPROCESS_ENV)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "example",
    [pytest.param(p, id=str(p.relative_to(LESSONS)), marks=[pytest.mark.real_model] if uses_real_model(p) else [])
     for p in EXAMPLES],
)
def test_example_runs(example: Path, request):
    if example_extras(example):
        require_extra(*example_extras(example))
    if "course.production.prometheus" in example.read_text():
        require_prometheus()  # Debian's prometheus package: a skip naming it, a failure under CI
    if needs_foundry(example):
        request.getfixturevalue("foundry_prepared")
    if needs_vllm(example):
        request.getfixturevalue("vllm_ready")
    timeout = REAL_MODEL_TIMEOUT_S if uses_real_model(example) else FAKE_TIMEOUT_S
    proc = subprocess.run([sys.executable, str(example)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=SUBPROCESS_ENV)
    assert proc.returncode == 0, (
        f"python {example.relative_to(ROOT)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    )
    assert proc.stdout.strip(), f"{example.name} printed nothing: an example should show its result"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(LESSONS)))
def test_page_follows_the_code_block_rules(page: Path):
    problems = page_problems(page.read_text())
    assert not problems, f"{page.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_page_rules_catch_violations():
    bad = "\n".join([
        "```python", "print('typed inline')", "```",
        "```python", '--8<-- "l00_getting_started/examples/no_such_file.py"', "```",
        "```console", "$ rm -rf build", "```",
        "```python",
    ])
    with pytest.raises(ValueError, match="never closed"):
        page_problems(bad)
    problems = page_problems(bad.rsplit("\n", 1)[0])
    assert any("inline code" in p for p in problems)
    assert any("missing file" in p and "no_such_file.py" in p for p in problems)
    assert any("rm -rf build" in p for p in problems)
    good = "```python\n--8<-- \"l00_getting_started/examples/tool_schema.py\"\n```\n```console\n$ course check l00\n```"
    assert page_problems(good) == []


def test_site_builds_strict(built_site):
    proc, _ = built_site
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-3000:]}"


def built_page(out: Path, page: str) -> Path:
    """Where mkdocs writes the HTML of ``lessons/<page>`` (``use_directory_urls: false``: one file per page); a
    translation (``index.he.md``) in its language's folder (``he/.../index.html``)."""
    pair = english_page(ROOT / page)
    if pair is not None:
        english, lang = pair
        return out / lang / english.relative_to(LESSONS).with_suffix(".html")
    return out / Path(page).relative_to("lessons").with_suffix(".html")


@pytest.mark.parametrize(
    "lesson,exercise",
    [(lesson, ex) for lesson in COURSE.lessons for ex in lesson.exercises],
    ids=lambda v: getattr(v, "id", None) or v.short,
)
def test_exercise_section_anchor_exists(site_folder, lesson, exercise):
    html = built_page(site_folder, lesson.page).read_text()
    assert f'id="{exercise.section}"' in html, (
        f"course.toml sends exercise {exercise.id} to {lesson.page}#{exercise.section}, "
        "but no heading on that page has this anchor"
    )


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.short)
def test_exercise_table_matches_course_toml(lesson):
    page = (ROOT / lesson.page).read_text()
    for ex in lesson.exercises:
        row = (f"| {ex.id} | {ex.title} | `{ex.file}` | "
               f"{sum(ex.tests.values())} + {sum(ex.hidden_tests.values())} |")
        assert row in page, f"{lesson.page}: the exercise table has no row starting {row!r} (from course.toml)"


def course_commands(text: str) -> list[str]:
    """Every ``$ course ...`` line of the console blocks of a page."""
    commands = []
    for _, lang, body in code_blocks(text):
        if lang in ("console", "shell-session"):
            commands += [line.strip()[2:] for line in body if line.strip().startswith("$ course")]
    return commands


# English pages only: a translation's commands are the English page's, byte for byte (tests/course/test_translations.py)
COURSE_COMMANDS = sorted({(page, cmd) for page in [*(p for p in PAGES if english_page(p) is None), ROOT / "README.md"]
                          for cmd in course_commands(page.read_text())})


@pytest.mark.parametrize("page,command", COURSE_COMMANDS, ids=[c for _, c in COURSE_COMMANDS])
def test_course_commands_on_pages_parse(page, command):
    """Each `course ...` command shown is a real verb with real options (checked by the CLI's own parser)."""
    import shlex

    args = shlex.split(command.split("#")[0])[1:]
    proc = subprocess.run([sys.executable, "-m", "course", *args, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=SUBPROCESS_ENV)
    assert proc.returncode == 0 and "Usage:" in proc.stdout, f"{page.name}: `{command}`: {proc.stderr[-500:]}"


def test_yaml_blocks_are_the_shipped_deployment_files():
    """Lesson 09 shows the shipped deployment files in yaml blocks: they must not drift from the files."""
    from course.framework.config import shipped_deployment

    page = (LESSONS / "l09_agent_framework" / "index.md").read_text()
    shown = ["\n".join(body) + "\n" for _, lang, body in code_blocks(page) if lang == "yaml"]
    files = [shipped_deployment(n).read_text() for n in ("single_device", "distributed_edge")]
    assert shown == files


@pytest.mark.parametrize("page", [p for p in PAGES if "claims" not in p.parts], ids=lambda p: str(p.relative_to(LESSONS)))
def test_each_included_example_shows_its_path_and_the_command_that_runs_it(site_folder, page):
    """site/hooks/examples.py titles every included example with its path and follows it with its command."""
    html = built_page(site_folder, str(page.relative_to(ROOT))).read_text()
    text = re.sub(r"<[^>]+>", "", html)
    for _, lang, body in code_blocks(page.read_text()):
        targets = [include_target(line) for line in body] if lang in ("python", "py") else []
        for target in filter(None, targets):
            path = target.relative_to(ROOT).as_posix()
            assert f'<span class="filename">{path}</span>' in html, f"{page.name}: no title {path}"
            assert f"$ python {path}" in text, f"{page.name}: no command for {path}"


def test_the_claims_tables_are_parts_of_lesson_03_not_pages(site_folder):
    assert not list((site_folder / "l03_quantization" / "claims").glob("*.html"))


def test_planned_lessons_are_in_the_nav_marked_planned(site_folder):
    """site/hooks/planned_lessons.py: each planned lesson sits in its place in the nav, linking to the lessons table."""
    html = (site_folder / "l03_quantization" / "index.html").read_text()
    nav = html[html.index("md-nav--primary"):html.index("md-sidebar--secondary")]
    titles = list(dict.fromkeys(re.findall(r'<span class="md-ellipsis">\s*(Lesson \d\d: [^<]+?)\s*</span>', nav)))
    planned = [f"Lesson {lesson.short[1:]}: {lesson.nav} (planned)" for lesson in COURSE.planned]
    # every planned lesson marked, and no ready one (with none planned, the hook must add nothing)
    assert all(title in titles for title in planned), titles
    assert [t for t in titles if t.endswith("(planned)")] == planned, titles
    assert titles == sorted(titles, key=lambda title: title[:9]), "lessons out of order in the nav"
    assert nav.count('href="../index.html#lessons"') == len(planned)
