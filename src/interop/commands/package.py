"""``interop package build|bundle|check|index|doc`` — the profiles as a FHIR NPM package."""

from __future__ import annotations

import argparse
from pathlib import Path

from interop.fhir import package, profiles_doc
from interop.i18n import N_, _
from interop.resources import mappings_dir, profiles_dir

NAME = "package"
HELP = "build the FHIR package (.tgz) of the profiles, check it, or refresh its index"

# Operator-facing messages (English msgids, translated where printed).
MSG_BUILT = N_("wrote {out} ({name}#{version}, canonical {canonical}, {count} resources)")
MSG_SOUND = N_("{name}#{version}: the package is sound ({count} resources)")
MSG_PROBLEMS = N_("{count} problem(s) in the package")
MSG_INDEXED = N_("wrote {path}")
MSG_BUNDLE = N_(
    "wrote {out}: a transaction of {count} conformance resources (canonical {canonical})"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = sub.add_parser("build", help=_("write the package .tgz a partner loads"))
    b.add_argument("--out", metavar="FILE", help=_("the .tgz to write (default: NAME-VERSION.tgz)"))
    b.add_argument(
        "--canonical-base",
        metavar="URL",
        help=_("another canonical base for every URL of the package (a province hosting its own)"),
    )
    t = sub.add_parser(
        "bundle", help=_("write the transaction Bundle that loads the package into a FHIR server")
    )
    t.add_argument("--out", metavar="FILE", required=True, help=_("the Bundle to write (JSON)"))
    t.add_argument(
        "--snapshots",
        metavar="DIR",
        help=_("StructureDefinitions with snapshots (Medplum needs them): ")
        + "tools/hl7-validator/validate --snapshot-out DIR --ig profiles",
    )
    t.add_argument("--canonical-base", metavar="URL", help=_("as for build"))
    sub.add_parser("check", help=_("validate the package itself (manifest, URLs, index)"))
    sub.add_parser("index", help=_("rewrite .index.json and the ImplementationGuide"))
    d = sub.add_parser("doc", help=_("write docs/profiles.md (the package described) to stdout"))
    d.add_argument("--out", metavar="FILE", help=_("write to FILE instead of stdout"))


def run(args: argparse.Namespace) -> int:
    folder = profiles_dir()
    if args.action == "index":
        for path in package.write_index(folder):
            print(_(MSG_INDEXED).format(path=path))
        return 0
    if args.action == "doc":
        text = profiles_doc.render(folder)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            print(text, end="")
        return 0
    if args.action == "bundle":
        import json

        from interop.fhir.package_load import load_bundle

        snapshots = Path(args.snapshots) if args.snapshots else None
        bundle = load_bundle(folder, snapshots=snapshots, base=args.canonical_base)
        Path(args.out).write_text(json.dumps(bundle, ensure_ascii=False, indent=1), "utf-8")
        canon = bundle["entry"][-1]["fullUrl"].split("/ImplementationGuide/")[0]
        print(_(MSG_BUNDLE).format(out=args.out, count=len(bundle["entry"]), canonical=canon))
        return 0
    if args.action == "check":
        problems = package.check(folder, package.used_extensions(mappings_dir() / "fhir"))
        for p in problems:
            print(_("ERROR   {problem}").format(problem=p))
        pkg = package.manifest(folder)
        if problems:
            print(_(MSG_PROBLEMS).format(count=len(problems)))
            return 1
        count = len(package.artefacts(folder))
        print(_(MSG_SOUND).format(name=pkg["name"], version=pkg["version"], count=count))
        return 0
    package.require_sound(folder, package.used_extensions(mappings_dir() / "fhir"))
    pkg = package.manifest(folder)
    out = Path(args.out) if args.out else Path(f"{pkg['name']}-{pkg['version']}.tgz")
    written = package.build(folder, out, base=args.canonical_base)
    count = len(package.artefacts(folder))
    print(
        _(MSG_BUILT).format(
            out=out,
            name=written["name"],
            version=written["version"],
            canonical=written["canonical"],
            count=count,
        )
    )
    return 0
