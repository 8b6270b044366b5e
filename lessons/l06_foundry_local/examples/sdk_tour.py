"""Foundry Local's 2.x SDK, in this process: initialize, the local catalog, load, a streamed chat, unload.

Run `course foundry prepare` once first (this example runs it if needed).
"""

import time

import foundry_local_sdk as fl

from course.foundry.prepare import convert
from course.foundry.runtime import local_catalog, manager, register

convert("smollm2-135m")  # the ONNX int4 folder in the course cache: converted once, reused after
model, registered_now = register("smollm2-135m")  # into the local catalog, or found there
print("model:", model.id, "| registered now" if registered_now else "| already in the local catalog")
print("local catalog:", [m.id for m in local_catalog().list_models()])
print("public catalog (offline):", len(manager().get_catalog(fl.CatalogType.PUBLIC).list_models()), "models")

start = time.perf_counter()
model.load()
print(f"loaded in {time.perf_counter() - start:.2f} s; is_loaded = {model.is_loaded}")

request = fl.Request()
request.add_item(fl.MessageItem(fl.MessageRole.USER, "What is the capital of France?"))
with fl.ChatSession(model) as session:
    session.set_options(fl.RequestOptions(search=fl.SearchOptions(max_output_tokens=24, do_sample=False)))
    session.set_streaming(True)
    print("streamed: ", end="")
    with session.process_streaming_request(request) as stream:
        for item in stream:
            print(item.text, end="", flush=True)  # streamed pieces are TextItems
        usage = stream.final_response.get_usage()
print(f"\nusage: {usage.prompt_tokens} prompt tokens, {usage.completion_tokens} completion tokens")

model.unload()  # the registration stays; the memory goes
print("after unload: is_loaded =", model.is_loaded)
