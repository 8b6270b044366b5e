"""The course's alert rules, checked and unit-tested by promtool, the way Prometheus users test theirs.

`promtool check rules` reads the file; `promtool test rules` feeds each alert
made-up series and checks when it fires, when it only pends (its `for` has
not passed) and when it stays silent. Then a wrong copy of the rules (a
threshold of 50 s instead of 5 s) fails the same tests.
"""

import shutil
import tempfile
from pathlib import Path

from course.production.prometheus import check_rules, shipped_rules, test_rules

rules, tests = shipped_rules()
print(check_rules(rules).output.strip())
print(test_rules(tests).output.strip())

with tempfile.TemporaryDirectory() as folder:
    wrong = Path(folder) / rules.name
    wrong.write_text(rules.read_text().replace("p95_5m > 5", "p95_5m > 50"))
    shutil.copy(tests, Path(folder) / tests.name)
    result = test_rules(Path(folder) / tests.name)
    print("with a threshold of 50 s:", "passes (!)" if result.ok else "FAILED, as it should:")
    print("\n".join(result.output.strip().splitlines()[:8]))
