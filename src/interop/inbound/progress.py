"""What a long sync shows while it runs (进度): rows done, quarantined so far, the rate.

On a terminal a progress bar; otherwise (a log, a pipe) a line every
``every`` seconds. Each quarantine or warning line is printed as it is
found, not at the end.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

#: Seconds between progress lines when the output is not a terminal.
LOG_EVERY = 10.0

LINE = "sync: {done} of {total} rows, {quarantined} quarantined so far, {rate:.0f} rows/s"


def issue_line(issue: dict[str, Any]) -> str:
    """One issue of a sync as printed for the operator."""
    if issue["code"] == "extra-column":
        return f"note: {issue['message']}"
    return f"row {issue['row']}: {issue['severity']} [{issue['code']}] {issue['message']}"


class Progress:
    """Progress of one sync, printed to ``stream`` (a bar when it is a terminal)."""

    def __init__(self, stream: TextIO, *, every: float = LOG_EVERY) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = every
        self.bar: Any = None
        self.done = 0
        self.quarantined = 0
        self._last_row: int | None = None
        self._start = self._shown = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        """``done`` more rows of ``total`` are through."""
        self.done += done
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

                self.bar = tqdm(total=total, unit="row", file=self.stream, leave=False)
            self.bar.update(done)
            self.bar.set_postfix(quarantined=self.quarantined, refresh=False)
            return
        now = time.monotonic()
        if now - self._shown >= self.every:
            self._shown = now
            rate = self.done / max(now - self._start, 1e-9)
            line = LINE.format(done=self.done, total=total, quarantined=self.quarantined, rate=rate)
            print(line, file=self.stream, flush=True)

    def issue(self, item: dict[str, Any]) -> None:
        """An issue found: printed now (above the bar on a terminal)."""
        if item["severity"] == "error" and item["row"] != self._last_row:
            self.quarantined += 1
            self._last_row = item["row"]
        line = issue_line(item)
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
