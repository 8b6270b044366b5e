"""Greedy decoding on plain ONNX Runtime, token for token the same as ONNX Runtime GenAI's."""

from course.models.forms import prepare
from course.runtimes.compare import prompt_ids
from course.runtimes.ort_decode import genai_greedy, genai_head_size, greedy_decode, open_session

folder = prepare("smollm2-135m", "onnx").folder  # made once (about a minute), then reused
session = open_session(folder, threads=2)
for arg in session.get_inputs()[:4]:
    print(f"input  {arg.name:24} {arg.shape} {arg.type}")
for arg in session.get_outputs()[:2]:
    print(f"output {arg.name:24} {arg.shape} {arg.type}")
print(f"... {len(session.get_inputs())} inputs in all; head size {genai_head_size(folder)} (genai_config.json)\n")

ids = prompt_ids("smollm2-135m")  # the chat template, tokenized
ours = greedy_decode(session, ids, 32, genai_head_size(folder))
theirs, eos = genai_greedy(folder, ids, 32)
print(f"our loop:  {ours[:12]} ...")
print(f"GenAI's:   {theirs[:12]} ...")
print(f"the same {len(ours)} tokens: {ours == theirs}")
assert ours == theirs
