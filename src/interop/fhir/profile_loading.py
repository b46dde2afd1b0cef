"""Loading the programme's profiles (装载规范约束): every StructureDefinition of a folder.

Each file is compiled by :class:`~interop.fhir.profiles.ProfileFile`; profiles on
profiles are linked to their base (:func:`link_profiles`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from interop._errors import DataFileError
from interop.datafile import read_data_file
from interop.fhir.profile_model import Profile
from interop.fhir.profiles import ProfileFile
from interop.fhir.terminology import Terminology

__all__ = ["link_profiles", "load_profiles"]


def link_profiles(profiles: list[Profile]) -> None:
    """Resolve base profiles that are themselves loaded (profile on a profile)."""
    by_url: dict[str, Profile] = {}
    for profile in profiles:
        other = by_url.get(profile.url)
        if other is not None:
            raise DataFileError(
                profile.file, "url", f"{profile.url} is also defined in {other.file}"
            )
        by_url[profile.url] = profile
    for profile in profiles:
        chain: list[Profile] = []
        base = profile.base
        while base is not None:
            parent = by_url.get(base)
            if parent is None:
                raise DataFileError(
                    profile.file,
                    "baseDefinition",
                    f"{base} is neither core R4 nor a loaded profile",
                )
            if parent is profile or parent in chain:
                raise DataFileError(
                    profile.file, "baseDefinition", "profiles derive from each other in a loop"
                )
            if parent.type != profile.type:
                raise DataFileError(
                    profile.file, "baseDefinition", f"{base} is a profile of {parent.type}"
                )
            chain.insert(0, parent)
            base = parent.base
        profile.chain = tuple(chain)


def load_profiles(directory: Path, terminology: Callable[[], Terminology]) -> list[Profile]:
    """Compile every ``StructureDefinition-*.json`` of ``directory`` (in name order).

    ``terminology`` gives the terminology for bindings (called only when a
    profile has one). Raises :class:`~interop._errors.DataFileError` naming
    the file and the entry when a profile is malformed.
    """
    profiles: list[Profile] = []
    for path in sorted(directory.glob("StructureDefinition-*.json")):
        sd = read_data_file(path, path.name)[1]
        profiles.append(ProfileFile(path.name, sd, terminology).compile())
    link_profiles(profiles)
    return profiles
