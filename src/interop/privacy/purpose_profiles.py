"""Purpose profiles (用途配置文件): the profile each shared resource claims (D-78).

A purpose's extract withholds elements the programme's full profiles require (a
school gets no plan activities), so a shared resource cannot claim ``dc-careplan``.
Each rule of each purpose policy (``mappings/purposes/``) has a profile of its own
in the package (``profiles/purposes/``, written by ``tools/gen_purpose_profiles.py``):
the R4 resource with every element the rule does not let out forbidden
(``max 0``, extensions a closed slicing of the ones it lets out), and from the base
profile the minimums, bindings and fixed values of the elements it lets out — not the
minimums of what the purpose withholds, nor the invariants (they speak of the whole
resource and are checked on the case, :mod:`interop.privacy.rules`).

:func:`claim_profiles` puts that profile in ``meta.profile`` of every resource of an
extract; privacy validates the extract against what it claims before it leaves.
"""

from __future__ import annotations

from typing import Any

from interop.fhir import canonical
from interop.privacy.policy import Policy, ResourceRule

__all__ = ["claim_profiles", "profile_id", "profile_ids"]


def profile_ids(policy: Policy) -> list[tuple[ResourceRule, str]]:
    """Every rule of ``policy`` with the id of its profile (``dc-share-<policy>-<type>[-n]``)."""
    stem = policy.file.removesuffix(".json")
    out: list[tuple[ResourceRule, str]] = []
    for rtype, rules in policy.rules.items():
        for n, rule in enumerate(rules, start=1):
            suffix = f"-{n}" if n > 1 else ""
            out.append((rule, f"dc-share-{stem}-{rtype.lower()}{suffix}"))
    return out


def profile_id(policy: Policy, rule: ResourceRule) -> str:
    """The id of the profile of ``rule`` of ``policy``."""
    for candidate, pid in profile_ids(policy):
        if candidate is rule:
            return pid
    raise KeyError(f"{policy.file}: the rule for {rule.type} is not one of the policy's")


def claim_profiles(bundle: dict[str, Any], policy: Policy) -> None:
    """Put the purpose profile in ``meta.profile`` of each entry that claims none (in place).

    The filter claims for what it lets out; this is for what is added after it (the
    Flags of safety flags). A resource that no rule of the policy names claims nothing;
    the Bundle itself claims nothing."""
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource")
        if not isinstance(resource, dict) or (resource.get("meta") or {}).get("profile"):
            continue
        rule = policy.rule_for(resource)
        if rule is None:
            continue
        meta = resource.setdefault("meta", {})
        profile = [canonical.sd(profile_id(policy, rule))]
        # meta.profile first, as the mapped resources carry it (security, tag follow)
        resource["meta"] = {"profile": profile, **{k: v for k, v in meta.items() if k != "profile"}}
