"""What the official client does when the server misbehaves: a 500, a dropped connection,
a stream cut short. ``course.servers.faulty.FaultyServer`` fails on purpose, in the order scripted."""

import json

import httpx
import ollama

from course.servers.faulty import Drop, FaultyServer, Lines, Status, chat_line

lines = [chat_line("The capital"), chat_line(" of France"), chat_line(" is Paris.", done=True, eval_count=6,
                                                                        eval_duration_ns=60_000_000)]
last_line = len(json.dumps(lines[-1])) + 1
script = [Status(500, "model runner crashed"), Drop(), Lines(lines, cut=last_line), Lines(lines, cut=20)]
with FaultyServer(script) as server:
    client = ollama.Client(host=server.url, timeout=5)
    question = [{"role": "user", "content": "Capital of France?"}]
    try:
        client.chat(model="m", messages=question)
    except ollama.ResponseError as exc:
        print(f"500: ollama.ResponseError, status {exc.status_code}: {exc.error}")
    try:
        client.chat(model="m", messages=question)
    except httpx.HTTPError as exc:
        print(f"dropped: {type(exc).__name__} (httpx's, not ollama's: catch both)")
    parts = list(client.chat(model="m", messages=question, stream=True))  # cut before the last line
    print(f"cut between lines: {len(parts)} parts, no error, done seen: {any(p.done for p in parts)}",
          "-> check for the final line yourself")
    try:
        list(client.chat(model="m", messages=question, stream=True))  # cut inside the last line
    except ValueError as exc:
        print(f"cut inside a line: {type(exc).__name__} from the JSON parser: {str(exc)[:50]}")
