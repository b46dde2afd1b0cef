"""The case as it happens: record each step of a case, show it, list what is due, report.

:mod:`~interop.casework.steps` records a step (state machine, rules, a new version),
:mod:`~interop.casework.show` summarises a case, :mod:`~interop.casework.due` lists
the open deadlines of every case, :mod:`~interop.casework.report` the indicators for
the commissioning body.
"""
