"""Two confidence signals from SmolLM2-135M, read from llama.cpp's logits.

Before answering: the probability that the reply to the routing question
starts with "simple" rather than "complex" (constrained classification).
After answering: how sure the model was of the tokens it chose itself,
exp(mean log-probability) of a greedy answer.
"""

from course.backends import LlamaCppBackend
from course.routing import (
    COMPLEXITY_INSTRUCTION,
    answer_confidence,
    classify,
    normalise,
)
from course.routing.router import load_tasks

tasks = {t.id: t for t in load_tasks()}
model = LlamaCppBackend("smollm2-135m")

# what llama.cpp gives: a log-probability per label; normalise() turns them into shares that sum to 1
messages = [{"role": "system", "content": COMPLEXITY_INSTRUCTION},
            {"role": "user", "content": tasks["capital"].prompt}]
raw = model.label_logprobs(messages, ["simple", "complex"])
print("raw log-probabilities:", {k: round(v, 2) for k, v in raw.items()})
print("normalised:           ", {k: round(v, 3) for k, v in normalise(raw).items()})

print("before answering: P(simple) from the label probabilities")
for task_id in ("capital", "km", "train", "essay"):
    task = tasks[task_id]
    result = classify(model, COMPLEXITY_INSTRUCTION, task.prompt, ["simple", "complex"])
    print(f"  {task_id:8} ({task.kind:7})  P(simple) = {result.probabilities['simple']:.3f}"
          f"  -> {result.label}")

print("after answering: the answer's own confidence")
model.record_logprobs = True  # keep the log-probability of every token chosen (greedy replies only)
try:
    for task_id in ("capital", "workers"):
        task = tasks[task_id]
        reply = model.chat([{"role": "user", "content": task.prompt}], temperature=0, max_tokens=24)
        confidence = answer_confidence(model.last_logprobs)
        print(f"  {task_id:8} {len(model.last_logprobs):2} tokens, confidence {confidence:.3f}, "
              f"correct: {task.is_correct(reply.content)}  {reply.content.strip()[:50]!r}")
finally:
    model.record_logprobs = False
