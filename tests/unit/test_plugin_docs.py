"""docs/plugins.md's whole-plugin example runs as written (a transport through the outbox)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_documented_plugin_runs() -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    assert len(blocks) == 1
    namespace: dict[str, object] = {"__name__": "plugins_md_example"}
    exec(compile(blocks[0], "docs/plugins.md", "exec"), namespace)
    assert namespace["summary"].delivered == 1  # type: ignore[attr-defined]
