"""How fast the language server rechecks a 500-rule file after a one-line edit (the lint cache at work).

    python benchmarks/lsp_recheck.py

Prints the first check, the recheck after an edit, and their ratio (medians of 5).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy.edit.editor import check_document  # noqa: E402


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(ROOT / "rules", tmp / "rules")
    lines = [
        "format: policy-rules/v1\njurisdiction: MX\nname: Mexico",
        "sources:\n  - {id: act, title: Act, url: https://eur-lex.europa.eu/eli/reg/2021/821/oj}\nrules:",
        "  - id: mx.general.licence\n    title: General\n    effect: licence_required\n    binding: statute",
        "    default: true\n    when: {fact: item.category, within: ML}",
        "    citations: [{source: act, instrument: Act, article: Art. 1}]",
    ]
    for i in range(499):
        lines.append(
            f"  - id: mx.r.rule-{i}\n    title: Rule {i}\n    effect: restricted\n    binding: statute\n"
            f"    when: {{fact: item.category, within: [ML{1 + i % 22}]}}\n"
            "    citations: [{source: act, instrument: Act, article: Art. 2}]"
        )
    text = "\n".join(lines) + "\n"
    path = str(tmp / "rules" / "mx.yaml")
    Path(path).write_text(text)
    first, again = [], []
    for n in range(5):
        start = time.perf_counter()
        check_document(path, text + f"# first {n}\n")
        first.append(time.perf_counter() - start)
        edited = text.replace("title: Rule 7\n", f"title: Rule 7, edit {n}\n")
        start = time.perf_counter()
        check_document(path, edited)
        again.append(time.perf_counter() - start)
    a, b = statistics.median(first), statistics.median(again)
    print(f"first check {a * 1000:.0f} ms, recheck after an edit {b * 1000:.0f} ms, ratio {b / a:.2f}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
