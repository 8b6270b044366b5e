"""The course's own promises: solutions pass, stubs fail, exercises/ is generated, wrong code loses points."""

import shutil
from pathlib import Path

import pytest

from course.exercises import load_course
from course.exercises.generate import CourseError, find_regions, out_of_sync, stub_source
from course.grading import grade_lesson
from course.grading.supervisor import Limits

LESSONS = [lesson.slug for lesson in load_course(Path(__file__).resolve().parents[2]).lessons]  # the ready ones


@pytest.mark.parametrize("slug", LESSONS)
def test_solutions_get_full_points(course, slug):
    report = grade_lesson(slug, "solutions", course=course)
    failed = [(t.name, t.message[:200]) for t in report.tests if t.outcome != "passed"]
    assert not failed and report.points == report.max_points > 0, failed
    assert not report.collect_errors


@pytest.mark.parametrize("slug", LESSONS)
def test_untouched_exercises_get_zero(course, slug):
    report = grade_lesson(slug, "exercises", course=course)
    assert report.points == 0, [t.name for t in report.tests if t.points]
    assert all(t.outcome in {"failed", "error"} for t in report.tests)


def test_exercises_are_in_sync_with_solutions(course):
    assert out_of_sync(course) == [], "run `course exercises build` and commit exercises/"


def test_every_autograder_test_is_in_course_toml(course):
    """A test missing from course.toml would run for no points; one listed but absent would never pass."""
    import ast

    for lesson in course.lessons:
        folder = course.autograder_dir / lesson.slug
        found = {}
        for path in [*folder.glob("test_*.py"), *(folder / "hidden").glob("test_*.py")]:
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    found[node.name] = "hidden" in path.parts
        listed = {name: hidden for name, (_, _, hidden) in lesson.test_points().items()}
        assert found == listed


def _mutant(course, tmp_path, file, old, new):
    slug = course.lesson(file.split("/")[0]).slug if "/" in file else "l00_getting_started"
    file = file.split("/")[-1]
    dest = tmp_path / "submission" / slug
    shutil.copytree(course.solutions_dir / slug, dest)
    text = (dest / file).read_text()
    pairs = zip(old, new) if isinstance(old, tuple) else [(old, new)]  # a tuple: several edits of one file
    for before, after in pairs:
        assert before in text, f"the mutation no longer applies to {file}"
        text = text.replace(before, after, 1)
    (dest / file).write_text(text)
    return dest.parent


@pytest.mark.parametrize(
    "exercise,file,old,new",
    [
        # a loop that drops tool results
        ("l00.3", "agent.py", "            messages.append(message)\n", "            pass\n"),
        # a schema that types int as string
        ("l00.2", "schema.py", 'int: "integer"', 'int: "string"'),
        # required parameters in the wrong order
        ("l00.2", "schema.py", "            required.append(name)", "            required.insert(0, name)"),
        # a repeated call run again instead of asking for the answer
        ("l00.3", "agent.py", "            tool_choice = \"none\"\n            continue\n", "            pass\n"),
        # an unknown tool that crashes the loop
        ("l00.4", "agent.py", "    if tool is None:\n", "    if tool is None and False:\n"),
        # the rate computed over all tokens instead of after the first
        ("l00.5", "measure.py", "(tokens - 1) / (end - first)", "tokens / (end - start)"),
        # a timezone ignored
        ("l00.1", "time_tool.py", "datetime.now(zone)", "datetime.now(ZoneInfo('UTC'))"),
        # a reflex rule in the wrong order: the open window wins over the frost guard
        ("l01.1", "l01/reflex.py",
         '        Rule("frost guard", lambda p: p.temperature < frost, "heat"),\n'
         '        Rule("window open", lambda p: p.window_open, "off"),\n',
         '        Rule("window open", lambda p: p.window_open, "off"),\n'
         '        Rule("frost guard", lambda p: p.temperature < frost, "heat"),\n'),
        # a boundary on the wrong side
        ("l01.1", "l01/reflex.py", "p.temperature > high", "p.temperature >= high"),
        # a vacuum that forgets where it has been
        ("l01.2", "l01/vacuum_agent.py", "        self.visited.add(here)\n", ""),
        # an off-by-one in the planner: the route leaves out the start
        ("l01.3", "l01/planner.py", "            return path[::-1]", "            return path[::-1][1:]"),
        # depth-first instead of breadth-first: routes, but not shortest ones
        ("l01.3", "l01/planner.py", "cell = queue.popleft()", "cell = queue.pop()"),
        # a mean that forgets the count
        ("l01.4", "l01/bandit.py", "(reward - self.values[arm]) / self.counts[arm]", "(reward - self.values[arm]) / 2"),
        # a learner that never explores
        ("l01.5", "l01/bandit.py", "if self.rng.random() < self.epsilon:", "if self.rng.random() < 0:"),
        # a header reader that accepts any version
        ("l02.1", "l02/gguf_reader.py", "    if version not in (2, 3):", "    if False:"),
        # an array header read as 8 bytes instead of 12
        ("l02.2", "l02/gguf_reader.py", "            offset += 12", "            offset += 8"),
        # alignment that moves offsets already aligned
        ("l02.3", "l02/tensor_sizes.py", "(offset + alignment - 1) // alignment", "(offset + alignment) // alignment"),
        # a KV cache that forgets the values (keys only)
        ("l02.4", "l02/memory_math.py", "return 2 * n_layers", "return n_layers"),
        # the rounding error: NumPy's round-half-to-even instead of C's roundf
        ("l03.1", "l03/q8_0.py", "    q = np.sign(v) * (whole + (np.abs(v) - whole >= 0.5))", "    q = np.round(v)"),
        # the wrong scale: the magnitude of the extreme, its sign lost
        ("l03.2", "l03/q4_0.py", "d = m / np.float32(-8)", "d = np.abs(m) / np.float32(8)"),
        # the nibble order swapped
        ("l03.2", "l03/q4_0.py", "packed = q[:, :16] | (q[:, 16:] << 4)", "packed = (q[:, :16] << 4) | q[:, 16:]"),
        # truncation without the half step
        ("l03.2", "l03/q4_0.py", "np.float32(8.5)", "np.float32(8.0)"),
        # decibels of amplitude instead of power
        ("l03.3", "l03/metrics.py", "snr = 10 * math.log10", "snr = 20 * math.log10"),
        # the top bits of the high scales shifted one place too few
        ("l03.4", "l03/q4_k.py", "((b[:, i - 4] >> 6) << 4)", "((b[:, i - 4] >> 6) << 3)"),
        # sub-blocks of a group taken in the wrong order
        ("l03.5", "l03/q4_k.py", "    q[:, 0::2] = groups & 15\n    q[:, 1::2] = groups >> 4",
         "    q[:, 1::2] = groups & 15\n    q[:, 0::2] = groups >> 4"),
        # every embedding table taken as a lookup, tied or not
        ("l04.1", "l04/roofline.py", "    if EMBEDDING in tensors and OUTPUT in tensors:", "    if EMBEDDING in tensors:"),
        # the KV cache read per token forgotten
        ("l04.1", "l04/roofline.py", "    return total + kv_bytes_per_position * position", "    return total"),
        # the whole sequence run again every step, with no cache: right tokens, quadratic work
        ("l04.2", "l04/ort_loop.py",
         ("        cache = {name: result[PRESENT + name[len(PAST):]] for name in cache}\n        step = [token]",),
         ("        step, seen = list(prompt_ids) + new, 0",)),
        # the next token read from the first position's logits
        ("l04.2", "l04/ort_loop.py", 'result["logits"][0, -1]', 'result["logits"][0, 0]'),
        # codes unpacked from the highest bits first
        ("l04.3", "l04/affine.py", "    shifts = np.arange(32 // bits, dtype=np.uint32) * bits",
         "    shifts = (np.arange(32 // bits, dtype=np.uint32) * bits)[::-1]"),
        # the scales of a row's groups repeated in the wrong order
        ("l04.3", "l04/affine.py", "np.repeat(np.asarray(scales, dtype=np.float32), group_size, axis=-1)",
         "np.tile(np.asarray(scales, dtype=np.float32), group_size)"),
        # attention scores counted even with flash attention
        ("l04.4", "l04/buffers.py", "    scores = 0 if knobs.flash_attn else ", "    scores = "),
        # the context not rounded to llama.cpp's cells
        ("l04.4", "l04/buffers.py", "    cells = math.ceil(knobs.n_ctx / 256) * 256", "    cells = knobs.n_ctx"),
        # the first-token budget ignored
        ("l04.5", "l04/choose.py", ' and r["ttft_s"] <= ttft_s]', "]"),
        # ties go to the setup using more memory
        ("l04.5", "l04/choose.py", '(r["tokens_per_s"], -r["memory_mb"]) > (best["tokens_per_s"], -best["memory_mb"])',
         '(r["tokens_per_s"], r["memory_mb"]) > (best["tokens_per_s"], best["memory_mb"])'),
        # blocks never given back: the pool leaks
        ("l08.1", "l08/blocks.py", "        for block in self.tables.pop(seq_id):\n            self.refs[block] -= 1\n",
         "        self.tables.pop(seq_id)\n"),
        # no copy-on-write: a forked sequence writes into its parent's block
        ("l08.1", "l08/blocks.py", "        elif self.refs[table[-1]] > 1:", "        elif False:"),
        # hashes not chained: an equal block anywhere counts as an equal prefix
        ("l08.2", "l08/prefix.py", "parent = block_hash(parent, list(tokens[start:start + block_size]))",
         "parent = block_hash(ROOT_HASH, list(tokens[start:start + block_size]))"),
        # a prompt cached whole is not computed at all: no logits for its first token
        ("l08.2", "l08/prefix.py", "    if tokens and n == len(tokens):\n        n -= block_size\n", ""),
        # the oldest request preempted instead of the newest
        ("l08.3", "l08/step.py", "            victim = running.pop()", "            victim = running.pop(0)"),
        # new requests admitted in the step that had to preempt
        ("l08.3", "l08/step.py", "    while not step.preempted and waiting", "    while waiting"),
        # the earliest match instead of the latest
        ("l08.4", "l08/speculate.py", "        for start in range(len(tokens) - n - 1, -1, -1):",
         "        for start in range(0, len(tokens) - n):"),
        # a percentile as the bucket's upper bound, not interpolated
        ("l08.5", "l08/quantiles.py", "            return lower + (upper - lower) * (rank - below) / (seen - below)",
         "            return upper"),
        # a task that costs exactly what is left refused
        ("l05.1", "l05/policy.py", "    if estimated_cost > budget_left:", "    if estimated_cost >= budget_left:"),
        # escalation while offline
        ("l05.1", "l05/policy.py", '    if not online:\n        return "local", "offline"\n', ""),
        # the naive softmax: exp(-1000) underflows to 0
        ("l05.2", "l05/confidence.py", "    top = max(logprobs.values())", "    top = 0.0"),
        # a failing cloud raises instead of leaving the local answer
        ("l05.3", "l05/cascade.py", "    except BackendError as exc:", "    except ValueError as exc:"),
        # recording left on after the local answer
        ("l05.3", "l05/cascade.py", "        local.record_logprobs = False\n", "        pass\n"),
        # a declared device with no fallback: nothing runs when it is missing
        ("l06.1", "l06/variants.py", 'else [device, "CPU"]', "else [device]"),
        # a provider taken to serve every device class
        ("l06.1", "l06/variants.py", " and v.device in PROVIDER_DEVICES.get(v.provider, set())", ""),
        # a busy model unloaded to make room
        ("l06.2", "l06/unloading.py", 'if alias in gone or models[alias]["busy"]:', "if alias in gone:"),
        # everything unloaded, not just enough
        ("l06.2", "l06/unloading.py", "        if resident + needed <= budget:\n            break\n", ""),
        # an unloaded model probed (and so loaded) by its health check
        ("l06.3", "l06/health.py", "    if not loaded:\n", "    if not loaded and False:\n"),
        # an empty answer taken for a healthy one
        ("l06.3", "l06/health.py", "    if not (text or \"\").strip():", "    if text is None:"),
        # the nearest rank instead of interpolation
        ("l06.4", "l06/metrics.py", "return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)",
         "return ordered[round(rank)]"),
        # a failed request's time left out of the latencies
        ("l06.4", "l06/metrics.py", "        self.latencies.append(seconds)", "        if ok:\n            self.latencies.append(seconds)"),
        # inheritance ignored: a clerk cannot look up orders
        ("l09.1", "l09/permissions.py", '        todo.extend(policy[current].get("inherits", []))\n', ""),
        # a denied call not audited
        ("l09.1", "l09/permissions.py",
         '        audit.append(entry | {"decision": "denied", "outcome": "denied"})\n', ""),
        # no fallback: the best name whatever its probability
        ("l09.2", "l09/intent.py", "(best if probability >= threshold else fallback)", "best"),
        # every user's messages for everyone
        ("l09.3", "l09/sessions.py", '"SELECT message FROM messages WHERE user = ? ORDER BY seq", (user,)',
         '"SELECT message FROM messages WHERE ? IS NOT NULL ORDER BY rowid", (user,)'),
        # a commit per message: half a turn stored when one message fails
        ("l09.3", "l09/sessions.py",
         ("    encoded = [json.dumps(m) for m in messages]\n",
          '            db.executemany("INSERT INTO messages VALUES (?, ?, ?)",\n'
          '                           [(user, last + 1 + i, text) for i, text in enumerate(encoded)])'),
         ("",
          '            for i, m in enumerate(messages):\n'
          '                db.execute("INSERT INTO messages VALUES (?, ?, ?)", (user, last + 1 + i, json.dumps(m)))\n'
          '                db.commit()')),
        # stops at the first problem
        ("l09.4", "l09/deployment.py", "    if mode not in (\"single_device\", \"distributed_edge\"):\n",
         "    if mode not in (\"single_device\", \"distributed_edge\"):\n        return [f\"deployment.mode: bad {mode!r}\"]\n"),
        # a 4xx retried as if the server were busy
        ("l07.1", "l07/health.py", "        if r.status_code < 500:\n", "        if r.status_code < 400:\n"),
        # the same pause every time instead of a doubling one
        ("l07.1", "l07/health.py", "sleep(backoff_s * 2 ** (attempt - 1))", "sleep(backoff_s)"),
        # the source's exact-name check: "smollm2-135m" is not "smollm2-135m:latest"
        ("l07.2", "l07/choose.py", "    return full(name) in {full(n) for n in listed}", "    return name in listed"),
        # keywords found inside words: "decode" taken for "code"
        ("l07.2", "l07/choose.py", "if words & set(r[1])", "if any(k in task.lower() for k in r[1])"),
        # a truncated stream returned as if it were the answer
        ("l07.3", "l07/stream.py",
         '        raise StreamError("the stream ended without its final line: the reply is incomplete")',
         "        final = {}"),
        # nanoseconds taken for seconds
        ("l07.3", "l07/stream.py", "count / (duration / 1e9)", "count / duration"),
        # the tool result sent without the tool's name
        ("l07.4", "l07/tool_loop.py", '{"role": "tool", "tool_name": call.function.name, "content": result}',
         '{"role": "tool", "content": result}'),
        # a repeated call run again, forever
        ("l07.4", "l07/tool_loop.py", "        if all(key in seen for key in keys):", "        if False:"),
        # boundaries (the grading audit's four kinds): a Literal of mixed types given the first value's type
        ("l00.2", "schema.py", "        if len(kinds) == 1:", "        if kinds:"),
        # the final line's content dropped
        ("l07.3", "l07/stream.py", '        message = part.get("message") or {}\n        content.append(',
         '        message = part.get("message") or {}\n        if part.get("done"):\n            final = part\n'
         '            break\n        content.append('),
        # exactly at the threshold counted as unsure
        ("l09.2", "l09/intent.py", "probability >= threshold", "probability > threshold"),
        # the slow-first-token alert fires after one minute, not five
        ("l10.1", "l10/alerts.py", '"for": "5m"', '"for": "1m"'),
        # the percentile over all models at once: the model label is gone
        ("l10.1", "l10/alerts.py", "sum by (le, model)", "sum by (le)"),
        # "stalled" without requests in flight: an idle server alerts
        ("l10.1", "l10/alerts.py", """'sum(course_requests_in_flight{job="course-serve"}) > 0 '\n                 'and """,
         "'"),
        # forged marks left as they are
        ("l10.2", "l10/quarantine.py", '    defused = re.sub(r"<\\s*(/?)\\s*data\\s*>", lambda m: f"[{m.group(1)}data]", text, '
         'flags=re.IGNORECASE)', "    defused = text"),
        # only lower-case marks defused
        ("l10.2", "l10/quarantine.py", ", flags=re.IGNORECASE)", ")"),
        # the wrong digits doubled
        ("l10.3", "l10/cards.py", "        if i % 2 == 1:", "        if i % 2 == 0:"),
        # separators not allowed: a card written in groups stays
        ("l10.3", "l10/cards.py", 'r"[0-9](?:[ -]?[0-9])*"', 'r"[0-9]+"'),
        # children in the order they were exported, not the order they started
        ("l10.4", "l10/spans.py", 'for s in sorted(spans, key=lambda s: s["start_ns"]):', "for s in spans:"),
        # overlapping children counted twice
        ("l10.4", "l10/spans.py", 'max(child["start_ns"], reach)', 'max(child["start_ns"], start)'),
        # no timeout for the backend: a reply runs on past the deadline
        ("l10.5", "l10/guard.py", ',\n                                  timeout_s=budget["deadline"] - now)', ")"),
        # exactly at the deadline still allowed
        ("l10.5", "l10/guard.py", 'if now >= budget["deadline"]:', 'if now > budget["deadline"]:'),
        # max_tokens not cut to the tokens left
        ("l10.5", "l10/guard.py", 'min(max_tokens, budget["tokens_left"])', "max_tokens"),
        # an id of spaces taken for an id
        ("l11.1", "l11/checker.py", "raw[key].strip()", "raw[key]"),
        # a tool both expected and forbidden let through
        ("l11.1", "l11/checker.py", '        problems.append(f"{name} is both expected and forbidden")\n', "        pass\n"),
        # stops at the first problem
        ("l11.1", "l11/checker.py", '    problems = [f"missing {key}" for key in KEYS if key not in raw]\n',
         '    problems = [f"missing {key}" for key in KEYS if key not in raw][:1]\n'
         '    if problems:\n        return problems\n'),
        # plurals not made singular
        ("l11.2", "l11/accuracy.py", '        if len(word) > 3 and word.endswith("ies"):', '        if False:'),
        # one call counted for every expected call it matches
        ("l11.2", "l11/accuracy.py", "                del left[i]\n", ""),
        # text compared for equality: "electric kettles" does not satisfy "kettle"
        ("l11.2", "l11/accuracy.py", 'return set(want.split(" ")) <= set(got.split(" "))', "return want == got"),
        # the nearest rank instead of interpolation
        ("l11.3", "l11/budget.py", "return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)",
         "return ordered[round(rank)]"),
        # a budget met exactly counted as over
        ("l11.3", "l11/budget.py", "first + (n - 1) * step > budget_s", "first + (n - 1) * step >= budget_s"),
        # the mean time per token instead of its percentile
        ("l11.3", "l11/budget.py", "    step = percentile(per_token_s, q)", "    step = sum(per_token_s) / len(per_token_s)"),
        # no hand-over at all: a refund, an injury, a medicine all answered by the model
        ("l11.4", "l11/handoff.py", "    for reason, pattern in handoff:\n        if re.search(pattern, lowered):\n"
                                    "            return \"handoff\", reason\n", ""),
        # words found inside words: a pillow taken for a pill
        ("l11.4", "l11/handoff.py", '(take|taking|swallow(ed)?) .*\\bpills?', 'pill'),
        # the capstone, one criterion broken at a time: no redaction
        ("l11.5", "l11/capstone.py", ("    backend = RedactingBackend(local, redact_personal)",
                                      "EdgeCloudBackend(backend, RedactingBackend(cloud, redact_personal)"),
         ("    backend = local", "EdgeCloudBackend(backend, cloud")),
        # no refusal
        ("l11.5", "l11/capstone.py", '            return "refuse", "another customer\'s data"', '            pass'),
        # too slow: long answers and more rounds
        ("l11.5", "l11/capstone.py", "follow_up=follow_up, triage=triage,",
         "follow_up=follow_up, triage=triage, max_rounds=6, max_tokens=1024,"),
        # everything to the cloud, nothing when it is cut
        ("l11.5", "l11/capstone.py",
         "        backend = EdgeCloudBackend(backend, RedactingBackend(cloud, redact_personal), escalate=hard)",
         "        backend = RedactingBackend(cloud, redact_personal)"),
    ],
    ids=["drops-tool-results", "int-as-string", "required-order", "no-repeat-guard", "unknown-tool-crash",
         "rate-over-all-tokens", "ignores-timezone", "reflex-rule-order", "reflex-boundary", "vacuum-forgets",
         "planner-off-by-one", "planner-depth-first", "mean-forgets-count", "never-explores",
         "header-any-version", "array-header-short", "align-moves-aligned", "kv-keys-only", "q8-round-half-even",
         "q4-unsigned-scale", "q4-nibbles-swapped", "q4-no-half-step", "snr-amplitude-db", "q4k-scale-bits",
         "q4k-subblock-order", "embedding-always-one-row", "kv-read-forgotten",
         "decode-without-cache", "logits-of-first-position", "codes-high-bits-first", "scales-tiled",
         "scores-with-flash-attention", "context-not-rounded", "ttft-budget-ignored", "tie-to-more-memory",
         "blocks-leak", "no-copy-on-write", "hashes-unchained", "whole-prompt-not-computed", "preempts-oldest",
         "admits-after-preempting", "earliest-match", "quantile-not-interpolated",
         "budget-boundary", "escalates-offline", "naive-softmax",
         "cloud-failure-raises", "recording-left-on", "no-cpu-fallback", "provider-serves-all",
         "busy-unloaded", "unloads-too-many", "probes-unloaded", "empty-is-healthy", "nearest-rank",
         "failures-untimed", "ignores-inheritance", "denial-not-audited",
         "no-intent-fallback", "sessions-cross-users", "half-saved-turn", "stops-at-first-problem",
         "health-retries-4xx", "health-constant-backoff", "tags-exact-name",
         "keyword-substring", "stream-truncated-accepted", "stream-ns-as-s", "tool-result-unnamed",
         "tool-repeat-forever", "mixed-literal-typed", "final-line-content-dropped", "intent-threshold-exclusive",
         "alert-for-too-short", "alert-drops-model", "stalled-when-idle", "marks-not-defused", "marks-case-sensitive",
         "luhn-wrong-digits", "cards-without-separators", "children-in-export-order", "overlap-counted-twice",
         "no-backend-timeout", "deadline-exclusive", "max-tokens-not-cut",
         "task-blank-id", "task-expected-and-forbidden", "task-first-problem-only", "accuracy-no-singular",
         "accuracy-call-counts-twice", "accuracy-text-equality", "budget-nearest-rank", "budget-exact-is-over",
         "budget-mean-step", "triage-handoff-forgotten", "triage-pill-in-pillow", "capstone-no-redaction",
         "capstone-no-refusal", "capstone-too-slow", "capstone-cloud-only"],
)
def test_wrong_implementations_lose_points(course, tmp_path, exercise, file, old, new, request):
    submission = _mutant(course, tmp_path, file, old, new)
    # Only the mutated exercise's tests: the other exercises are graded on the same files
    # by test_solutions_get_full_points, and grading a whole lesson per mutant costs minutes.
    # A mutant that loops forever should time out quickly: no reference test takes 20 s.
    # A capstone mutant breaks one criterion of l11.5: only that criterion's test runs (each of the
    # others runs the agent over every task; the reference passes them all in test_solutions_get_full_points).
    only = CRITERION.get(request.node.callspec.id)
    report = grade_lesson(exercise.split(".")[0], submission, course=course, exercise=exercise,
                          limits=Limits(test_s=20), only=only)
    per_exercise = report.exercises()
    assert set(per_exercise) == {exercise}
    assert per_exercise[exercise]["points"] < per_exercise[exercise]["max_points"], per_exercise
    # the mutant must fail on behaviour, not because the file stopped importing
    assert not any("SubmissionError" in t.message for t in report.tests), \
        [t.message[:200] for t in report.tests]


# The capstone's mutants, each with the one criterion it breaks.
CRITERION = {
    "capstone-no-redaction": ["test_capstone_keeps_personal_data_on_the_device"],
    "capstone-no-refusal": ["test_capstone_refuses_and_hands_over_where_required"],
    "capstone-too-slow": ["test_capstone_stays_within_budget_on_smollm2"],
    "capstone-cloud-only": ["test_capstone_survives_the_cloud_cut"],
}


def test_generator_refuses_module_level_regions(course):
    lesson = course.lesson("l00")
    source = "X = 1\n### BEGIN SOLUTION\nY = 2\n### END SOLUTION\n"
    with pytest.raises(CourseError, match="inside a function"):
        stub_source(source, "time_tool.py", lesson)


def test_generator_refuses_unlisted_functions(course):
    lesson = course.lesson("l00")
    source = "def helper():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    with pytest.raises(CourseError, match="no exercise in course.toml"):
        stub_source(source, "time_tool.py", lesson)


def test_generator_refuses_unclosed_region():
    with pytest.raises(CourseError, match="without"):
        find_regions("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "x.py")


def test_stub_points_to_the_lesson_section(course):
    lesson = course.lesson("l00")
    source = (course.solutions_dir / lesson.slug / "agent.py").read_text()
    stub = stub_source(source, "agent.py", lesson)
    assert "### BEGIN SOLUTION" not in stub
    assert "lessons/l00_getting_started/index.md#the-agent-loop" in stub
    assert stub.count("raise NotImplementedError") == 2


def test_grading_a_broken_submission_reports_not_crashes(course, tmp_path):
    folder = tmp_path / "sub" / "l00_getting_started"
    shutil.copytree(course.solutions_dir / "l00_getting_started", folder)
    (folder / "agent.py").write_text("def run_agent(:\n")  # a syntax error
    report = grade_lesson("l00", folder.parent, course=course)
    agent_tests = [t for t in report.tests if t.exercise in {"l00.3", "l00.4"}]
    assert all(t.points == 0 for t in agent_tests)
    assert all("SyntaxError" in t.message for t in agent_tests if not t.hidden)
    assert all(t.message == "a hidden test failed" for t in agent_tests if t.hidden), "hidden messages stay hidden"
    assert report.exercises()["l00.1"]["passed"]


def test_missing_autograder_tests_stop_grading(course, tmp_path):
    """Grading that cannot run is an error (exit 2 in the CLI), not a quiet zero."""
    from course.grading import CourseSnapshot, GradingError, grade_lesson

    snapshot = CourseSnapshot.take(course)
    stripped = CourseSnapshot(snapshot.meta, snapshot.package,
                              {k: v for k, v in snapshot.autograder.items() if "/hidden/" not in k})
    with pytest.raises(GradingError, match="no test_"):
        grade_lesson("l00", "solutions", course=course, snapshot=stripped)
