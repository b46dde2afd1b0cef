"""定期联系 — regular contact with the family, school and village committee (7.3; DL-13)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import text

#: The parties of 7.3's regular contact (G-27), plus the township and a hospital.
CONTACT_PARTIES = ("family", "school", "village", "township", "hospital")


@dataclass(slots=True, kw_only=True)
class Contact:
    """联系记录 — a logged contact: party, date and channel; status only as a summary."""

    date: str = text(req="R-7.3-03")
    party: str = text(req="R-7.3-03")  # one of CONTACT_PARTIES
    channel: str = text(req="R-7.3-03")  # phone | visit | message | meeting | other
    summary: str | None = text(req="R-7.3-03", default=None)
