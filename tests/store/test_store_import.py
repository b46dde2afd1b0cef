"""``interop import CASE_FILE…``: case records into the archive, as versions."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from interop.cli import main
from interop.store import Archive

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "cases"


def _import(db: str, *files: str) -> tuple[int, list[dict[str, Any]]]:
    with Archive.create(db):  # (as `interop init` does: only init creates an archive)
        pass
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["--db", db, "import", *files, "--json"])
    return code, json.loads(buf.getvalue())


def test_import_new_unchanged_changed(db_url: str, tmp_path: Path) -> None:
    files = sorted(str(p) for p in CASES.glob("*.json"))
    assert files
    code, res = _import(db_url, *files)
    assert code == 0, [r["issues"] for r in res]
    assert {r["result"] for r in res} == {"new"}
    code, res = _import(db_url, *files)
    assert {r["result"] for r in res} == {"unchanged"}
    data = json.loads(Path(files[0]).read_text("utf-8"))
    data["child"]["health_status"] = "良好"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    code, (res0,) = _import(db_url, str(changed))
    assert code == 0 and res0["result"] == "changed"
    with Archive.create(db_url) as a:
        assert [v["version"] for v in a.case_versions(res0["case"])] == [1, 2]


def test_import_rejects_broken_records(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    src = sorted(CASES.glob("*.json"))[0]
    data = json.loads(src.read_text("utf-8"))
    data["child"]["sex"] = "火"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    code, (res,) = _import(db, str(bad))
    assert code == 1 and res["result"] == "rejected" and res["issues"]
    shutil.copy(src, tmp_path / "ok.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", "utf-8")
    assert main(["--db", db, "import", str(broken)]) == 2
