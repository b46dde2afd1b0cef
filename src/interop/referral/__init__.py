"""Referral (转介) as a closed loop with hospitals over FHIR REST (6.2.1, 7.1.2, 7.4.1, 7.6.1).

- :mod:`interop.referral.states` — the referral Task state machine and our steps;
- :mod:`interop.referral.bundle` — the transaction Bundle, from the disclosure's filtered Bundle;
- :mod:`interop.referral.records` — the stored referral, its history, the ``cases due`` query;
- :mod:`interop.referral.requests` — create, the approval event, cancel, retry;
- :mod:`interop.referral.delivery` — the outbox's answers taken in (proven deliveries only);
- :mod:`interop.referral.polling` — every open Task read back by id, checked, applied;
- :mod:`interop.referral.outcomes` — what the hospital sends back, and the follow-up (DL-17);
- :mod:`interop.referral.lifecycle` — :class:`~interop.referral.lifecycle.Referrals`, all of it.
"""
