from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_name = "interop_tests_conftest_pg"
if _name not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        _name, Path(__file__).parents[1] / "conftest_pg.py"
    )
    assert _spec is not None and _spec.loader is not None
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_name] = _mod
    _spec.loader.exec_module(_mod)

db_url = sys.modules[_name].db_url
