"""Referral (转介) as a closed loop with hospitals over FHIR REST (6.2.1, 7.1.2, 7.4.1, 7.6.1).

- :mod:`interop.referral.states` — the referral Task state machine and our steps;
- :mod:`interop.referral.bundle` — the transaction Bundle, from the disclosure's filtered Bundle;
- :mod:`interop.referral.lifecycle` — create, deliver (through the outbox), poll, cancel,
  outcomes, follow-up and the "not accepted" deadline.
"""
