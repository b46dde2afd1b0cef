"""The one exception hierarchy of interop, with stable codes.

::

    InteropError                 base; ``code`` is stable, ``exit_code`` the CLI's
    ├── InputError               input cannot be read or parsed (exit 2)
    │   ├── CaseRecordError      a case-record file breaks its JSON Schema
    │   └── ResidentIdError      a resident ID number (GB 11643) is malformed
    ├── DataFileError            a file under mappings/ or profiles/ is invalid
    │   (names the file, the entry and the problem)
    ├── RuleViolation            a rule of the standard is broken (exit 1)
    └── PluginError              a plugin is misspelt, missing or failed

Messages never carry personal data: only record numbers, resource ids,
field names and masked identifiers (see :mod:`interop.core.masking`).
Third-party exceptions are translated at the boundary with ``raise ... from``.
"""

from __future__ import annotations


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
