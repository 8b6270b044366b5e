"""Prompt-lookup speculative decoding on llama.cpp: drafts from the context, checked in one pass each."""

from course.backends.llama_loader import new_llama
from course.models import model_path
from course.vllm.speculative import greedy_generate, speculative_generate

llm = new_llama(model_path("smollm2-135m"), n_ctx=1024, logits_all=True)  # logits for every position
text = ("Copy this list exactly, one item per line:\napples, 12 boxes\npears, 7 boxes\nplums, 30 boxes\n"
        "cherries, 4 boxes\napples, 12 boxes\npears, 7 boxes\n")
prompt = llm.tokenize(text.encode(), add_bos=False, special=False)

plain = greedy_generate(llm, prompt, 48)
fast = speculative_generate(llm, prompt, 48, k=4)
print(f"greedy:      {plain.passes} passes, {plain.tokens_per_s:.0f} tokens/s")
print(f"speculative: {fast.passes} passes, {fast.tokens_per_s:.0f} tokens/s, "
      f"{fast.accepted} of {fast.drafted} draft tokens accepted ({fast.acceptance_rate:.0%})")
same = next((i for i, (a, b) in enumerate(zip(plain.tokens, fast.tokens)) if a != b), None)
print("the same tokens" if same is None else
      f"the same first {same} tokens, then a near tie decided differently by the batched pass")
print(repr(llm.detokenize(fast.tokens).decode()[:120]))
