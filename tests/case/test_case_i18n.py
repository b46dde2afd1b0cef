"""A case step refused under ``--lang zh_CN``: the rule and what to do in the catalogue's
words, its requirement ID and the field kept as references, no personal data."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from case_support import FORMS, LISTED, LISTED_CASE, Cli

PERSONAL = ("冯悦心", "方英芳", "13800003547", "360402201212196920", "梧桐里")


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    c = Cli(db_url, capsys, monkeypatch)
    assert c("import", str(LISTED))[0] == 0
    return c


def _unsigned_annex_a(tmp_path: Path) -> str:
    form = tomllib.loads((FORMS / "annex-a.toml").read_text("utf-8"))
    del form["worker_confirmation"]
    path = tmp_path / "annex-a.json"
    path.write_text(json.dumps(form, ensure_ascii=False), "utf-8")
    return str(path)


def test_refused_step_says_the_rule_in_chinese_with_its_id(cli: Cli, tmp_path: Path) -> None:
    assert cli("case", "intake", LISTED_CASE, "--date", "2026-02-14")[0] == 0
    form = _unsigned_annex_a(tmp_path)
    code, _, err = cli("--lang", "zh_CN", "case", "assess", LISTED_CASE, "--form", form)
    assert code == 1 and "[E251]" in err
    assert (
        f"个案 {LISTED_CASE}：“assess”被拒绝：R-A-03（阻止）intake：附录 A 须经服务对象或"
        "监护人及服务人员确认后方为完整（A-46、A-47）：缺少 worker_confirmation — "
        "在表单中加入 recipient_confirmation 和 worker_confirmation"
    ) in err, err
    for word in PERSONAL:
        assert word not in err
    # English stays the default, word for word
    code, _, err = cli("case", "assess", LISTED_CASE, "--form", form)
    assert (
        code == 1
        and (
            "R-A-03 (block) intake: Annex A is confirmed by the recipient or guardian and the "
            "worker before it counts as complete (A-46, A-47): missing worker_confirmation — "
            "add recipient_confirmation and worker_confirmation to the form"
        )
        in err
    ), err


def test_case_show_says_its_labels_in_chinese(cli: Cli) -> None:
    code, out, _ = cli("--lang", "zh_CN", "case", "show", LISTED_CASE)
    assert code == 0
    assert f"个案 {LISTED_CASE}（第 1 版）" in out
    assert "  状态      listed（名单已接收）   风险等级 medium" in out, out
    assert "  人员      个案负责人 -，督导人员 staff-03" in out
    assert "  知情同意  无" in out and "  转介      无" in out and "时限 无未到期项" in out
    assert "state" not in out and "consents" not in out
    # English stays the default, word for word; --json keeps its keys
    code, out, _ = cli("case", "show", LISTED_CASE)
    assert code == 0 and "  state     listed (名单已接收)   risk medium" in out, out
    assert "  consents  none" in out and "  deadlines none open" in out
    shown = cli.json("--lang", "zh_CN", "case", "show", LISTED_CASE)
    assert {"state", "risk", "staff", "consents", "referrals", "deadlines"} <= set(shown)


def test_an_illegal_transition_is_said_in_chinese_with_its_id(cli: Cli) -> None:
    code, _, err = cli("--lang", "zh_CN", "case", "resume", LISTED_CASE, "--date", "2026-02-14")
    assert code == 1 and "[E250]" in err
    assert (
        f"个案 {LISTED_CASE} 处于状态 listed（名单已接收）：“resume”（T-14，R-7.4.2-01）"
        "只允许在状态 paused 下进行"
    ) in err, err
    code, _, err = cli("case", "resume", LISTED_CASE, "--date", "2026-02-14")
    assert (
        code == 1
        and (
            f"[E250] case {LISTED_CASE} is in state listed (名单已接收): 'resume' "
            "(T-14, R-7.4.2-01) is allowed only in state paused"
        )
        in err
    ), err
