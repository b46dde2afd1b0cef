"""People of the programme: the staff register (人员名册), accounts and the role policy.

- :mod:`interop.staff.register` — staff, roles, qualifications and screening (5.2);
- :mod:`interop.staff.accounts` — passwords (argon2id), lockout, API tokens, sessions;
- :mod:`interop.staff.policy` — the one table of who may do what (deny by default);
- :mod:`interop.staff.identity` — the signed-in person of a command (``INTEROP_TOKEN``).
"""
