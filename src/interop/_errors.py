"""The one exception hierarchy of interop, with stable codes.

::

    InteropError                 base; ``code`` is stable, ``exit_code`` the CLI's
    ├── InputError               input cannot be read or parsed (exit 2)
    │   ├── CaseRecordError      a case-record file breaks its JSON Schema
    │   ├── ResidentIdError      a resident ID number (GB 11643) is malformed
    │   ├── ConfigError          the partners configuration is wrong
    │   ├── OutboxItemNotFound   no outbox delivery has that id
    │   └── ReferralNotFound     no referral has that id
    ├── DataFileError            a file under mappings/ or profiles/ is invalid
    ├── RuleViolation            a rule of the standard is broken (exit 1)
    ├── PluginError              a plugin is misspelt, missing or failed
    └── (exit 1: the run or step could not be done)
        WorkerError, PartnerError, StoreError, OutboxError, DisclosureError,
        DeliveryError, ReferralError, ReferralBundleError

Every code is in :data:`REGISTRY` (:mod:`interop._error_codes`, re-exported here) with
its meaning and what to do; the page
``docs/errors.md`` is generated from it. Messages never carry personal data:
only record numbers, resource ids, field names and masked identifiers (see
:mod:`interop.core.masking`).
Third-party exceptions are translated at the boundary with ``raise ... from``.
"""

from __future__ import annotations

from typing import Any

from interop._error_codes import REGISTRY as REGISTRY
from interop._error_codes import ErrorCode as ErrorCode
from interop._error_codes import describe as describe


class InteropError(Exception):
    """Base of every error interop raises on purpose."""

    code: str = "E000"
    exit_code: int = 2

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # An error raised in a worker process reaches the parent whole (code included),
        # whatever the subclass's constructor takes.
        return (_restore, (type(self), self.args, self.__dict__.copy()))


def _restore(
    cls: type[InteropError], args: tuple[object, ...], state: dict[str, object]
) -> InteropError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class InputError(InteropError):
    """The input cannot be read, parsed or used."""

    code = "E100"
    exit_code = 2


class CaseRecordError(InputError):
    """A case-record file (一人一档 JSON) does not match its JSON Schema."""

    code = "E110"


class ResidentIdError(InputError):
    """A resident ID number (居民身份证号码, GB 11643) is malformed."""

    code = "E120"


class DataFileError(InteropError):
    """A declarative data file under ``mappings/`` or ``profiles/`` is invalid."""

    code = "E200"
    exit_code = 2

    def __init__(self, file: str, entry: str, problem: str, *, code: str | None = None) -> None:
        self.file = file
        self.entry = entry
        self.problem = problem
        super().__init__(f"{file}: {entry}: {problem}", code=code)


class RuleViolation(InteropError):
    """A rule of the standard is broken by the data."""

    code = "E300"
    exit_code = 1


class PluginError(InteropError):
    """A plugin could not be loaded or implements an unknown hook."""

    code = "E400"
    exit_code = 2


# ---------------------------------------------------------------------------
# Errors of one part each (moved here from their modules, which still export them)
# ---------------------------------------------------------------------------


class ConfigError(InputError):
    """The partners configuration is unreadable or wrong (exit 2)."""

    code = "E160"


class WorkerError(InteropError):
    """A worker process died (killed, out of memory): the run could not complete (exit 1)."""

    code = "E170"
    exit_code = 1


class PartnerError(InteropError):
    """A partner feed failed after its retries; the run stops cleanly (exit 1)."""

    code = "E410"
    exit_code = 1


class StoreError(InteropError):
    """The archive cannot be opened or written (exit 1: the run could not complete)."""

    code = "E500"
    exit_code = 1


class OutboxError(InteropError):
    """An outbox operation cannot be done in the item's state; exit 1."""

    code = "E640"
    exit_code = 1


class OutboxItemNotFound(InputError):
    """No delivery has that id (exit 2)."""

    code = "E641"


class DisclosureError(InteropError):
    """A disclosure step is not allowed (exit 1): wrong approver, wrong state …"""

    code = "E600"
    exit_code = 1


class DeliveryError(InteropError):
    """The partner did not take an approved disclosure (exit 1); it stays approved."""

    code = "E620"
    exit_code = 1


class ReferralError(InteropError):
    """A referral step cannot be done (refused, wrong state, partner trouble); exit 1."""

    code = "E700"
    exit_code = 1


class ReferralNotFound(InputError):
    """No referral has that id (exit 2)."""

    code = "E701"


class PackageError(InteropError):
    """The FHIR package folder is unusable (exit 2)."""

    code = "E330"
    exit_code = 2


class IllegalTransition(RuleViolation):
    """A case step asked for in a state where the case state machine does not allow it
    (E250, exit 1); the message names the transition, its rule and the state."""

    code = "E250"

    def __init__(self, message: str, *, case_number: str, state: str, action: str) -> None:
        super().__init__(message)
        self.case_number = case_number
        self.state = state
        self.action = action


class StepRefused(RuleViolation):
    """A blocking rule of the standard refuses a case step (E251, exit 1)."""

    code = "E251"

    def __init__(self, message: str, *, findings: list[Any]) -> None:
        super().__init__(message)
        self.findings = findings


class CaseNotFound(InputError):
    """No case of that number in the archive (E253, exit 2)."""

    code = "E253"


class StaffNotEligible(InputError):
    """A person a case step names (the new care manager, a session's second worker …) is
    not an active person of the staff register in the right role (E260, exit 2)."""

    code = "E260"


class UnknownStep(InputError):
    """No case step of that name (E264, exit 2)."""

    code = "E264"


class StoredRecordUnusable(RuleViolation):
    """The latest stored version of a case breaks the case-record format (E257)."""

    code = "E257"


class FileRefused(InputError):
    """A list file that the sync did not understand: nothing was written (exit 2)."""


class DelistRefused(InteropError):
    """A full list that would delist more children than allowed: nothing written (exit 1)."""

    code = "E187"
    exit_code = 1


class ReferralBundleError(InteropError):
    """The filtered Bundle lacks what a referral needs (exit 1)."""

    code = "E710"
    exit_code = 1


class StaffError(InteropError):
    """The staff register (人员名册) cannot do what was asked: unknown or duplicate
    staff id, unknown role, bad date (exit 2)."""

    code = "E800"
    exit_code = 2


class AuthenticationError(InteropError):
    """Nobody is signed in: no, a wrong, an expired or a revoked credential (exit 2)."""

    code = "E810"
    exit_code = 2


class AccessDenied(InteropError):
    """The signed-in person's roles do not allow the action (deny by default; exit 1)."""

    code = "E820"
    exit_code = 1


class SignOffRefused(AccessDenied):
    """The author of a step may not sign off its warnings (four eyes, E261; exit 1)."""

    code = "E261"


class JobError(InteropError):
    """A background job of ``interop serve`` could not do its run (exit 1): shown as the
    job's error on 后台任务, never a crash of the console."""

    code = "E850"
    exit_code = 1
