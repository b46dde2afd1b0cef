"""The outbox's own error codes (E640–E643): apart from the disclosures' E600–E611, so
an operator who looks a code up finds one meaning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from interop._errors import REGISTRY, InputError, OutboxError
from interop.exchange.outbox import Outbox
from interop.store import Archive


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Outbox]:
    with Archive.create(f"sqlite:///{tmp_path / 'archive.sqlite3'}") as archive:
        yield Outbox(archive)


def test_an_outbox_step_its_state_does_not_allow_has_an_outbox_code(box: Outbox) -> None:
    item = box.enqueue(
        partner="school-mingde", kind="test", payload=b"{}", idempotency_key="k:1", ref="R-1"
    )
    box.mark(item.id, "cancelled", "sent by post instead")
    with pytest.raises(OutboxError) as retried:
        box.retry(item.id)
    assert retried.value.code == "E642" and item.id in retried.value.message
    with pytest.raises(OutboxError) as marked:
        box.mark(item.id, "refused", "again")
    assert marked.value.code == "E643" and item.id in marked.value.message
    with pytest.raises(InputError) as missing:
        box.get("O-nope")
    assert missing.value.code == "E641" and "O-nope" in missing.value.message
    for code in ("E641", "E642", "E643"):
        assert "outbox" in REGISTRY[code].meaning.lower(), code
    # the disclosure codes say nothing of the outbox any more
    assert not any("outbox" in REGISTRY[f"E60{i}"].meaning.lower() for i in range(5))
