"""HTTP transport for partners (``requests``): one attempt, classified.

The outbox (:mod:`interop.exchange.outbox`) owns retries and their schedule,
which live in the archive so that a crash loses nothing; this module makes
exactly one HTTP call per attempt and says what it means:

- **delivered** — a 2xx answer;
- **retry** — no connection, no answer in time, 408, 429 or 5xx (the
  partner's ``Retry-After`` is honoured);
- **fatal** — any other 4xx: retrying cannot help. The partner's
  OperationOutcome is summarised in plain words for the person who reads
  ``interop outbox list``.

Messages name the partner, the HTTP status and the OperationOutcome's
diagnostics only; never a payload.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from interop.config import Partner

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

#: ``uncertain``: the request may have been processed, yet the answer does not prove it
#: (a deliverer's verdict after checking the answer; the outbox reconciles before a resend).
Verdict = Literal["delivered", "retry", "fatal", "uncertain"]


@dataclass(frozen=True, slots=True)
class HttpResult:
    """One attempt: the verdict, the HTTP status (if any answer came) and the answer."""

    verdict: Verdict
    status: int | None = None
    error: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    seconds: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def summarise_outcome(body: bytes | str | Any) -> str | None:
    """An OperationOutcome in plain words: ``error (invalid): text [at path]; …``.

    ``None`` when ``body`` is not an OperationOutcome.
    """
    data = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return None
    if not isinstance(data, dict) or data.get("resourceType") != "OperationOutcome":
        return None
    parts = []
    for issue in data.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        text = (
            (issue.get("details") or {}).get("text")
            or issue.get("diagnostics")
            or ((issue.get("details") or {}).get("coding") or [{}])[0].get("display")
            or "no details given"
        )
        where = issue.get("expression") or issue.get("location") or []
        at = f" at {', '.join(str(w) for w in where)}" if where else ""
        parts.append(f"{issue.get('severity', 'error')} ({issue.get('code', '?')}): {text}{at}")
    return "; ".join(parts) if parts else "an OperationOutcome without issues"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def bearer_token(name: str, kind: str, settings: Mapping[str, Any]) -> str | None:
    """The partner's bearer token, from the environment variable its ``auth.token_env`` names."""
    return Partner(name, kind, dict(settings)).bearer_token()


def split_url(url: str) -> tuple[str, str]:
    """An endpoint URL as (base URL, path): ``https://h/a/inbox`` → ``https://h/a``, ``inbox``."""
    head, _, tail = url.rstrip("/").rpartition("/")
    return (head, tail) if "://" in head else (url, "")


class HttpTransport:
    """A partner's base URL, credentials and timeouts over one ``requests.Session``."""

    def __init__(
        self,
        partner: str,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
    ) -> None:
        self.partner = partner
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = (connect_timeout, timeout)
        self._verify = verify
        self._cert = cert
        self._token = token
        self._session: requests.Session | None = None
        self._made = threading.Lock()  # outbox workers share a transport: one session

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session``, made at the first call: a command that only previews
        or queues (share --dry-run, referral create --no-send) loads no HTTP library."""
        with self._made:
            if self._session is None:
                import requests

                session = requests.Session()
                session.verify = self._verify
                if self._cert is not None:
                    session.cert = self._cert
                session.headers["Accept"] = FHIR_JSON
                if self._token:
                    session.headers["Authorization"] = f"Bearer {self._token}"
                self._session = session
            return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str = FHIR_JSON,
        headers: dict[str, str] | None = None,
        params: dict[str, str | int] | None = None,
    ) -> HttpResult:
        """One HTTP call, classified (never raises for network trouble)."""
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["Content-Type"] = content_type
        session = self.session
        import requests  # (loaded with the session)

        t0 = time.monotonic()
        try:
            resp = session.request(
                method,
                self.url(path),
                data=body,
                headers=hdrs,
                params=params,
                timeout=self.timeout,
            )
        except requests.Timeout:
            return HttpResult(
                "retry",
                error=f"{self.partner} did not answer within {self.timeout[1]:g} s",
                seconds=time.monotonic() - t0,
            )
        except requests.ConnectionError:
            return HttpResult(
                "retry",
                error=f"could not connect to {self.partner} ({self.base_url})",
                seconds=time.monotonic() - t0,
            )
        except requests.RequestException as exc:
            return HttpResult(
                "fatal",
                error=f"request to {self.partner} could not be made: {type(exc).__name__}",
                seconds=time.monotonic() - t0,
            )
        seconds = time.monotonic() - t0
        status = resp.status_code
        content = resp.content
        resp_headers = {k.lower(): v for k, v in resp.headers.items()}
        if 200 <= status < 300:
            return HttpResult("delivered", status, None, content, resp_headers, seconds=seconds)
        outcome = summarise_outcome(content)
        said = f": {outcome}" if outcome else ""
        if status in RETRYABLE_STATUS or status >= 500:
            return HttpResult(
                "retry",
                status,
                f"{self.partner} answered {status} {resp.reason or ''}".rstrip() + said,
                content,
                resp_headers,
                _retry_after(resp_headers.get("retry-after")),
                seconds,
            )
        return HttpResult(
            "fatal",
            status,
            f"{self.partner} refused the request ({status} {resp.reason or ''}".rstrip()
            + f"){said}",
            content,
            resp_headers,
            seconds=seconds,
        )
