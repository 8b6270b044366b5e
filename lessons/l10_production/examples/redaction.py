"""Personal data out of a text before it leaves the device, and back in where the agent needs it.

The course's redactor finds e-mail addresses, phone numbers, Luhn-checked card
numbers, US SSNs, UK National Insurance numbers, Estonian personal codes (date
and check digit verified) and names from a given list. Redaction replaces
them; pseudonymisation replaces them with tokens kept in a local vault, so an
answer that mentions a token can be turned back before a person reads it.
"""

from course.production.redact import Redactor, Vault, course_finder, evaluate, shipped_set

text = ("Mari Tamm (isikukood 49403136515, mari.tamm@post.example, +372 5123 4567) paid with "
        "4539 1488 0343 6467; order 2024-11-05 is late.")
redactor = Redactor(names=["Mari Tamm"])
print("redacted:      ", redactor.redact(text))

vault = Vault()
masked = redactor.pseudonymise(text, vault)
print("pseudonymised: ", masked)
answer = f"I have written to {masked.split('(')[0].strip()} about the late order."
print("restored:      ", vault.restore(answer))

scores = evaluate(course_finder, shipped_set())
print("on the shipped set:", ", ".join(f"{k} {s.precision:.3f}/{s.recall:.3f}" for k, s in scores.items()),
      "(precision/recall)")
