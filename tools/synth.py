"""Synthetic case records (一人一档) for fixtures, tests and benchmarks.

Every record is made up: names are random combinations of common surnames
and given-name characters, phone numbers come from the 138-0000-xxxx and
139-0000-xxxx placeholder ranges, addresses are invented streets and
villages under real Jiangxi division codes (GB/T 2260, ``36…``), and resident
ID numbers are built with :func:`interop.core.resident_id.make` so that they
pass the GB 11643 check character and encode the stated birth date and sex
while belonging to no one.

The output is a plain ``dict`` in the case-record file format (see
``src/interop/core/record.py`` and ``case-record.schema.json``). The
generator is deterministic: the same ``(seed, kind)`` always gives the same
record, independent of ``PYTHONHASHSEED`` and of the machine.

Usage::

    python tools/synth.py --write fixtures/cases
    python tools/synth.py --write-invalid tests/data/cases/invalid
    python tools/synth.py --write-rule-breaking tests/data/cases/rule-breaking
    python tools/synth.py --many 2000 --seed 0 --out /tmp/cases
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from interop.core import resident_id
except ModuleNotFoundError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from interop.core import resident_id

Record = dict[str, Any]

#: The kinds of case :func:`make_case` can build, in the order :func:`make_many` cycles them.
KINDS: tuple[str, ...] = (
    "medium-in-service",
    "high-risk-crisis",
    "home-visits-guardian-absent",
    "closed-pre-post",
    "disability-reenrolment",
    "listed-intake-only",
)

#: The committed fixtures: file name → (seed, kind).
FIXTURES: dict[str, tuple[int, str]] = {
    "01-medium-in-service.json": (1, "medium-in-service"),
    "02-high-risk-crisis.json": (2, "high-risk-crisis"),
    "03-home-visits-guardian-absent.json": (3, "home-visits-guardian-absent"),
    "04-closed-pre-post.json": (4, "closed-pre-post"),
    "05-disability-reenrolment.json": (5, "disability-reenrolment"),
    "06-listed-intake-only.json": (6, "listed-intake-only"),
}

TZ = "+08:00"

# ------------------------------------------------------------ pools

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜钟谭陆汪范金石廖贾夏付方邹熊邱江尹雷侯龙史陶黎贺顾毛龚邵万严戴"
)
# Given-name characters by GB/T 2261.1 sex ("1" male, "2" female).
_GIVEN_CHILD = {
    "1": "子梓浩宇轩晨嘉俊博文明睿铭阳乐安一沐辰昊航诚泽",
    "2": "子梓欣怡涵雨思晨佳嘉婷颖悦诗琪乐安然若可心语瑶彤萱",
}
_GIVEN_ADULT = {
    "1": "建国华平明军伟强勇志永德荣福生海林东",
    "2": "秀兰桂芳丽红英凤霞玉春梅珍娟华平",
}

#: (division code, city, district): real GB/T 2260 codes of Jiangxi districts and counties.
_DIVISIONS: tuple[tuple[str, str, str], ...] = (
    ("360102", "南昌市", "东湖区"),
    ("360111", "南昌市", "青山湖区"),
    ("360121", "南昌市", "南昌县"),
    ("360702", "赣州市", "章贡区"),
    ("360704", "赣州市", "赣县区"),
    ("361002", "抚州市", "临川区"),
    ("360802", "吉安市", "吉州区"),
    ("360902", "宜春市", "袁州区"),
    ("361102", "上饶市", "信州区"),
    ("360402", "九江市", "濂溪区"),
)
# Invented street, town and village names.
#: Divisions with towns and villages (东湖区 is wholly urban).
_RURAL_DIVISIONS = tuple(d for d in _DIVISIONS if d[0] != "360102")
_STREETS = ("春晖路", "青枫街", "竹溪巷", "云锦路", "桂香街", "梧桐里", "沁园路", "晴川巷")
_TOWNS = ("柳溪镇", "杏林镇", "石湾乡", "枫岭镇", "清源乡", "桃坪镇")
_VILLAGES = ("下坪村", "枫树村", "禾塘村", "上湾村", "松岗村", "泉水村")
_ORG_WORDS = ("心晴", "暖阳", "向日葵", "启明", "同心", "彩虹桥", "知行", "青禾")
_SCHOOL_WORDS = ("星河", "青禾", "晨曦", "育英", "明德", "桂苑")

#: Family-relationship codes of ``profiles/terminology/CodeSystem-family-relationship.json``
#: (the GB/T 4761 codes). A relation missing here is left out of the record.
_RELATIONSHIP_CODES: dict[str, str] = {
    "father": "51",
    "mother": "52",
    "paternal-grandmother": "62",
    "paternal-uncle": "83",  # 叔父
    "maternal-aunt": "88",  # 姨母
}

_CN_NUM = "一二三四五六"

# ------------------------------------------------------------ content
# Narrative content by problem profile. Texts speak of "孩子" and never name anyone.

_PROFILES: dict[str, dict[str, Any]] = {
    "anxiety": {
        "problems": ["anxiety", "interpersonal-distrust"],
        "problems_text": "紧张焦虑明显，对同伴和陌生成人缺乏信任，课堂上不敢发言。",
        "summary": "量表结果提示焦虑维度偏高，社交退缩维度中等偏高，抑郁维度在正常范围上限。",
        "interview": (
            "能理解谈话内容，但对自身能力评价偏低，常说“我做不好”。",
            "谈到考试和与同学交往时明显紧张，搓手、回避目光。",
            "愿意配合，但遇到困难时容易放弃，需要成人反复鼓励。",
        ),
        "causes": "长期缺少稳定陪伴，遇到挫折时得不到及时回应；学业压力增加后紧张情绪累积。",
        "expected": "希望孩子不那么紧张，能和同学正常交往，上课敢举手发言。",
        "manifestation": "上学前常诉头痛、胃痛，课间独处，回避集体活动，睡前反复担心第二天的事情。",
        "theory": "依据认知行为理论，孩子对社交情境存在“别人会笑话我”的自动化负性思维，"
        "回避行为使焦虑得到短期缓解而被强化。",
        "problem_summary": "以社交焦虑和自我效能感低为主要问题，伴随躯体化表现。",
        "pathway": "建立信任关系 → 情绪识别与命名 → 认知重构与放松训练 → "
        "分级暴露练习 → 巩固与迁移。",
        "goals": [
            "能识别并用语言表达至少三种情绪",
            "掌握腹式呼吸等两种放松方法并能在紧张时主动使用",
            "每周至少一次主动与同学交流或参加集体活动",
        ],
        "orientations": ["cbt", "sfbt"],
        "session_goals": [
            "建立服务关系，了解孩子的兴趣和日常生活",
            "学习识别和命名情绪，绘制“情绪温度计”",
            "练习腹式呼吸与渐进式肌肉放松",
            "识别“别人会笑话我”等自动化想法并寻找证据",
            "设计分级社交任务，从与同桌说一句话开始",
            "回顾社交任务完成情况，强化成功经验",
            "家长参与，讨论在家如何支持孩子练习",
            "总结收获，制订巩固计划",
        ],
    },
    "left-behind": {
        "problems": ["emotional-apathy", "family-relationship"],
        "problems_text": "情感表达较少，对父母外出务工有失落感，与照料的祖辈沟通不畅。",
        "summary": "量表结果提示抑郁维度中等偏高，社交退缩维度偏高，焦虑维度正常。",
        "interview": (
            "思维清晰，对家庭情况能简单叙述，但回避谈及父母。",
            "情绪平淡，谈到父母电话时短暂流泪，随即转移话题。",
            "做事缺乏动力，作业常拖到很晚，需要奶奶多次催促。",
        ),
        "causes": "父母长期在外务工，亲子联系少；祖辈照料以生活为主，情感交流不足。",
        "expected": "希望孩子开朗一些，愿意和家人说心里话，学习上更主动。",
        "manifestation": "放学后独自在房间，较少与祖辈交流；父母来电时话很少；"
        "对以前喜欢的活动兴趣下降。",
        "theory": "依据家庭系统理论，亲子分离使家庭情感功能减弱；依恋需求未被满足，"
        "孩子以情感淡漠来保护自己。",
        "problem_summary": "以亲子分离带来的情感淡漠和家庭沟通不畅为主要问题。",
        "pathway": "入户建立关系 → 情绪表达训练 → 增进祖孙沟通 → 建立与父母的固定联系 → 巩固。",
        "goals": [
            "能向照料人或服务人员表达自己的感受",
            "与父母建立每周固定的视频通话",
            "恢复至少一项原有的兴趣活动",
        ],
        "orientations": ["family-systems", "humanistic"],
        "session_goals": [
            "入户了解家庭环境，建立信任",
            "通过绘画表达对家庭的感受",
            "练习用“我感到……因为……”句式表达情绪",
            "与照料人一起讨论日常沟通的方式",
            "协助与父母约定固定的视频通话时间",
            "回顾通话情况，讨论自己的变化",
            "恢复兴趣活动，制订周末计划",
            "总结与告别准备",
        ],
    },
    "depressed": {
        "problems": ["depressed-mood", "hopelessness", "self-harm-risk"],
        "problems_text": "情绪低落持续两个月以上，有无望感，近期出现自伤想法。",
        "summary": "量表结果提示抑郁维度显著偏高，焦虑维度偏高，需结合面访评估自伤风险。",
        "interview": (
            "对未来的看法消极，认为“一切都不会好起来”。",
            "情绪低落，哭泣，诉说睡眠差、食欲下降。",
            "对学习和活动均无兴趣，近两周多次请假在家。",
        ),
        "causes": "家庭经历重大变故后缺乏支持，学业受挫，长期压抑的负面情绪未得到处理。",
        "expected": "希望孩子安全、情绪好转，能恢复上学。",
        "manifestation": "持续情绪低落、睡眠紊乱、兴趣丧失，有自伤想法和计划片段，社会退缩。",
        "theory": "依据认知行为理论，孩子存在对自我、世界和未来的负性认知三联征；"
        "依据生态系统理论，家庭与学校支持系统同时减弱。",
        "problem_summary": "中高程度抑郁情绪伴自伤风险，需安全计划、心理干预和医疗转介并行。",
        "pathway": "安全评估与安全计划 → 医疗转介并行 → 稳定情绪 → 认知行为干预 → 重建支持系统。",
        "goals": [
            "建立书面安全计划并让孩子和照料人都能说出求助方式",
            "睡眠和饮食恢复规律",
            "恢复正常上学",
        ],
        "orientations": ["cbt", "ecological-systems"],
        "session_goals": [
            "安全评估，共同制订安全计划",
            "确认转介就诊情况，稳定情绪",
            "记录情绪日记，识别情绪低谷的触发因素",
            "行为激活：安排每天一件小的愉快活动",
            "识别负性自动思维并练习替代想法",
            "与照料人讨论家庭支持和监护安排",
            "重建与学校的联系，讨论返校安排",
            "回顾安全计划并更新求助名单",
            "巩固行为激活成果",
            "练习问题解决步骤",
            "评估情绪变化，准备阶段性总结",
            "巩固与随访安排",
        ],
    },
    "trauma": {
        "problems": ["trauma-stress", "anxiety"],
        "problems_text": "经历家庭意外事件后出现闯入性回忆和惊恐反应，夜间易惊醒。",
        "summary": "量表结果提示焦虑维度偏高，抑郁维度中等，社交退缩维度正常上限。",
        "interview": (
            "能清楚叙述事件经过，但对事件原因存在自责想法。",
            "提及事件时紧张，出现心跳加快、手抖等反应。",
            "回避与事件有关的地点和话题，日常活动基本能完成。",
        ),
        "causes": "突发家庭意外后缺乏及时的心理支持，孩子独自承受恐惧和自责。",
        "expected": "希望孩子睡得好，不再害怕，能像以前一样生活和学习。",
        "manifestation": "夜间惊醒、害怕独处、回避相关场所，提到事件时出现明显躯体反应。",
        "theory": "依据创伤知情的认知行为理论，事件记忆未被充分加工，"
        "回避与自责信念维持了应激反应。",
        "problem_summary": "以创伤后应激反应和焦虑为主，社会功能基本保持。",
        "pathway": "安全感建立 → 心理教育 → 放松与稳定化技术 → 创伤叙事与认知调整 → 巩固。",
        "goals": [
            "掌握至少两种稳定化技术并能在惊醒后使用",
            "能在安全的环境中叙述事件而不出现强烈惊恐",
            "纠正“都是我的错”的自责想法",
        ],
        "orientations": ["cbt", "art-therapy"],
        "session_goals": [
            "建立安全感，介绍服务安排",
            "开展应激反应心理教育",
            "练习“安全岛”想象和呼吸放松",
            "通过绘画进行创伤叙事的准备",
            "分段叙述事件，处理自责想法",
            "巩固稳定化技术，处理夜间惊醒",
            "与照料人讨论家中的支持方式",
            "回顾变化，制订应对复发的计划",
        ],
    },
    "school": {
        "problems": ["learning-school", "peer-relationship"],
        "problems_text": "因伤病休学后对返校有明显顾虑，担心跟不上课程、被同学另眼相看。",
        "summary": "量表结果提示社交退缩维度偏高，焦虑维度中等，抑郁维度正常。",
        "interview": (
            "对自身身体状况有现实认识，但过度担心同学的看法。",
            "谈到返校时紧张，谈到康复训练进展时较为自信。",
            "有返校意愿，学习计划执行不够稳定。",
        ),
        "causes": "长期休学与同伴疏离，身体功能受限带来自卑感，学业落后带来压力。",
        "expected": "希望孩子顺利复学，适应学校生活，和同学相处融洽。",
        "manifestation": "反复询问返校后的座位、课间活动安排；拒绝与原班同学视频联系；"
        "学习时间不规律。",
        "theory": "依据生态系统理论，孩子的适应需要家庭、学校与同伴系统协同支持；"
        "依据焦点解决理论，从已有的康复成功经验中寻找资源。",
        "problem_summary": "以复学适应和同伴关系顾虑为主要问题。",
        "pathway": "了解复学意愿 → 学业衔接规划 → 校方与家庭协调 → 同伴关系准备 → 返校适应跟进。",
        "goals": [
            "与学校共同制订复学方案并按时返校",
            "制订并执行每日学习计划，补上主要学科进度",
            "返校后至少与两名同学建立日常往来",
        ],
        "orientations": ["sfbt", "ecological-systems"],
        "session_goals": [
            "了解孩子对复学的想法和顾虑",
            "梳理康复训练中的成功经验",
            "制订每日学习计划，联系学科老师",
            "与班主任沟通无障碍安排和座位",
            "模拟返校第一天，练习应对同学提问",
            "返校适应跟进，讨论遇到的困难",
        ],
    },
    "behaviour": {
        "problems": ["behaviour-problem", "family-relationship"],
        "problems_text": "在校与同学冲突增多，在家顶撞照料人，情绪激动时摔东西。",
        "summary": "量表结果提示焦虑维度中等，社交退缩维度正常，总分处于关注范围。",
        "interview": (
            "认为“别人先惹我”，较少反思自己的行为。",
            "谈到被批评时情绪激动，语速加快。",
            "对喜欢的篮球活动投入，能坚持训练。",
        ),
        "causes": "家庭管教方式以训斥为主，孩子缺少情绪调节方法，在同伴中以冲突获取关注。",
        "expected": "希望孩子少发脾气，和同学、家人好好相处。",
        "manifestation": "一个月内在校冲突四次，被老师约谈；在家因手机使用与照料人争吵。",
        "theory": "依据理性情绪疗法，孩子对他人行为存在“他们故意针对我”的不合理信念；"
        "依据家庭系统理论，亲子互动模式强化了冲突。",
        "problem_summary": "以情绪调节困难导致的行为问题和亲子冲突为主要问题。",
        "pathway": "建立关系 → 情绪觉察 → 不合理信念辩论 → 冲突应对练习 → 家庭沟通调整 → 巩固。",
        "goals": [
            "能在情绪激动时使用暂停技术",
            "在校冲突次数明显减少",
            "与照料人约定并遵守手机使用规则",
        ],
        "orientations": ["rebt", "family-systems"],
        "session_goals": [
            "建立关系，以篮球话题切入",
            "绘制“愤怒火山”，觉察情绪升级信号",
            "练习暂停与冷静技术",
            "辩论“他们故意针对我”的想法",
            "角色扮演冲突场景，练习表达需求",
            "与照料人共同制订手机使用规则",
            "回顾冲突记录，强化进步",
            "总结与巩固",
        ],
    },
}

_DIFFICULTIES = (
    ["guardianship-lack"],
    ["poverty-living"],
    ["poverty-schooling"],
    ["abandonment"],
    ["economic-hardship"],
    ["accidental-injury"],
)

_SCALE = {
    "scale_code": "CES-SYN",
    "scale_name": "儿童情绪量表 (synthetic)",
    "scale_version": "1.0",
}
_OTHER_SCALE = {
    "scale_code": "CAS-SYN",
    "scale_name": "儿童焦虑量表 (synthetic)",
    "scale_version": "1.0",
}
_DIMENSIONS = (("anxiety", "焦虑"), ("depression", "抑郁"), ("social-withdrawal", "社交退缩"))


# ------------------------------------------------------------ helpers


def _d(day: dt.date) -> str:
    return day.isoformat()


def _dt(day: dt.date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00{TZ}"


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _minus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class _Gen:
    """Draws the parts of one record from one seeded random stream."""

    def __init__(self, seed: int, kind: str) -> None:
        # A str seed is hashed with SHA-512: stable across runs and machines.
        self.rng = random.Random(f"interop-synth:{kind}:{seed}")
        self.used_names: set[str] = set()

    def name(self, surname: str | None = None, *, adult: bool = False, sex: str = "") -> str:
        pool = (_GIVEN_ADULT if adult else _GIVEN_CHILD)[sex or self.rng.choice("12")]
        while True:
            s = surname or self.rng.choice(_SURNAMES)
            n = 1 if adult and self.rng.random() < 0.5 else 2
            full = s + "".join(self.rng.choice(pool) for _ in range(n))
            if full not in self.used_names:
                self.used_names.add(full)
                return full

    def phone(self, prefix: str = "1380000") -> str:
        return f"{prefix}{self.rng.randrange(10000):04d}"

    def address(
        self, division: tuple[str, str, str], *, rural: bool, building: bool = True
    ) -> dict[str, str]:
        _, city, district = division
        if not building:
            text = f"江西省{city}{district}{self.rng.choice(_STREETS)}{self.rng.randint(1, 199)}号"
        elif rural:
            text = (
                f"江西省{city}{district}{self.rng.choice(_TOWNS)}{self.rng.choice(_VILLAGES)}"
                f"{self.rng.randint(1, 9)}组{self.rng.randint(1, 60)}号"
            )
        else:
            text = (
                f"江西省{city}{district}{self.rng.choice(_STREETS)}{self.rng.randint(1, 199)}号"
                f"{self.rng.randint(1, 12)}栋{self.rng.randint(1, 6)}0{self.rng.randint(1, 4)}室"
            )
        return {"text": text, "division": division[0]}

    def pick(self, seq: Any) -> Any:
        return self.rng.choice(seq)


def _mental(texts: tuple[str, str, str]) -> dict[str, str]:
    return {"cognition": texts[0], "emotion": texts[1], "volition": texts[2]}


def _adult(
    aid: str,
    name: str,
    roles: list[str],
    relation: str,
    phone: str | None,
    occupation: str | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": aid, "name": name, "roles": roles}
    code = _RELATIONSHIP_CODES.get(relation)
    if code:
        out["relationship"] = code
    if phone:
        out["phone"] = phone
    if occupation:
        out["occupation"] = occupation
    return out


# ------------------------------------------------------------ families


def _family(g: _Gen, scenario: str, surname: str) -> tuple[list[dict[str, Any]], str, str]:
    """The adults, the family-situation text and the guardian's id (always ``adult-01``)."""
    grandma = g.name(g.pick(_SURNAMES), adult=True, sex="2")
    if scenario == "left-behind":
        adults = [
            _adult(
                "adult-01",
                g.name(surname, adult=True, sex="1"),
                ["guardian", "emergency-contact"],
                "father",
                g.phone(),
                "外出务工（建筑工）",
            ),
            _adult(
                "adult-02", grandma, ["actual-caregiver"], "paternal-grandmother", g.phone(), "务农"
            ),
        ]
        text = (
            "父母在省外务工，父亲为监护人，每年春节回家一次；孩子由奶奶照料，"
            "家庭收入主要依靠父亲务工，住房为自建两层砖房，孩子有独立房间。"
        )
    elif scenario == "single-mother":
        adults = [
            _adult(
                "adult-01",
                g.name(adult=True, sex="2"),
                ["guardian", "actual-caregiver", "emergency-contact"],
                "mother",
                g.phone(),
                g.pick(("超市收银员", "家政服务员", "餐馆帮工")),
            )
        ]
        text = (
            "父亲已去世，母亲为监护人并独自抚养孩子，收入不稳定，享受低保；"
            "租住两居室，孩子与母亲同住。"
        )
    elif scenario == "crisis":
        adults = [
            _adult(
                "adult-01",
                g.name(adult=True, sex="2"),
                ["guardian"],
                "mother",
                g.phone(),
                "个体经营",
            ),
            _adult(
                "adult-02",
                g.name(adult=True, sex="2"),
                ["reliable-carer", "emergency-contact"],
                "maternal-aunt",
                g.phone(),
                "小学教师",
            ),
        ]
        text = (
            "父母半年前离异，母亲为监护人，经营小店早出晚归；孩子多数时间独处。"
            "姨妈住在同一小区，与孩子关系亲近，愿意承担照料。"
        )
    else:  # "grandparent-guardian"
        adults = [
            _adult(
                "adult-01",
                grandma,
                ["guardian", "actual-caregiver"],
                "paternal-grandmother",
                g.phone(),
                "务农",
            ),
            _adult(
                "adult-02",
                g.name(surname, adult=True, sex="1"),
                ["emergency-contact"],
                "paternal-uncle",
                g.phone(),
                "货车司机",
            ),
        ]
        text = (
            "父亲服刑、母亲离家多年未联系，奶奶经法定程序担任监护人并照料孩子；"
            "叔叔在本县工作，周末回家帮忙。家庭收入依靠务农和临时救助。"
        )
    return adults, text, "adult-01"


# ------------------------------------------------------------ builder


def _assessment(
    g: _Gen,
    aid: str,
    phase: str,
    day: dt.date,
    performer: str,
    scores: tuple[float, float, float],
    interpretation: str,
    scale: dict[str, str] = _SCALE,
) -> dict[str, Any]:
    dims = [
        {"code": code, "name": name, "score": score}
        for (code, name), score in zip(_DIMENSIONS, scores, strict=True)
    ]
    return {
        "id": aid,
        "phase": phase,
        **scale,
        "time": _dt(day, g.pick((9, 10, 14, 15)), g.pick((0, 30))),
        "method": "self-report",
        "channel": g.pick(("face-to-face", "paper")),
        "dimensions": dims,
        "total": float(sum(scores)),
        "interpretation": interpretation,
        "result_band": _band(float(sum(scores))),
        "performer": performer,
    }


def _band(total: float) -> str:
    """The result band of a synthetic instrument's total (its made-up cut-offs 30, 50, 65)."""
    for cut, band in ((30, "normal"), (50, "borderline"), (65, "elevated")):
        if total < cut:
            return band
    return "high"


def _scores(g: _Gen, level: str) -> tuple[float, float, float]:
    lo, hi = {"low": (6, 11), "medium": (12, 18), "high": (19, 26)}[level]
    a, b, c = (float(g.rng.randint(lo, hi)) for _ in range(3))
    return a, b, c


def _session(
    g: _Gen,
    number: int,
    day: dt.date,
    *,
    location: str,
    staff: list[str],
    service_type: str,
    profile: dict[str, Any],
    guardian_present: bool | None = None,
) -> dict[str, Any]:
    hour = g.pick((9, 10, 14, 15, 16)) if location != "school" else g.pick((14, 15))
    minute = g.pick((0, 30))
    length = g.pick((60, 75, 90, 90, 105, 120))
    start = dt.datetime(day.year, day.month, day.day, hour, minute)
    end = start + dt.timedelta(minutes=length)
    goals = profile["session_goals"]
    goal = goals[(number - 1) % len(goals)]
    orientation = profile["orientations"][(number - 1) % len(profile["orientations"])]
    where = {"home": "在孩子家中", "office": "在机构咨询室", "school": "在学校心理辅导室"}[location]
    s: dict[str, Any] = {
        "id": f"sess-{number:02d}",
        "number": number,
        "start": _dt(day, start.hour, start.minute),
        "end": _dt(end.date(), end.hour, end.minute),
        "location": location,
        "staff": staff,
        "service_type": service_type,
        "method": "family-therapy" if location == "home" and number % 3 == 0 else "individual",
        "attendance": "attended",
        "goal": goal,
        "theoretical_orientation": orientation,
        "process": (
            f"{where}开展第{number}次服务。先回顾上周情况和家庭作业完成情况，"
            f"随后围绕“{goal}”开展活动，最后总结并布置练习。"
        ),
        "effect": {
            "cognition": g.pick(
                (
                    "能说出本次活动的要点，对自身问题的认识更具体。",
                    "开始意识到想法会影响情绪，能举出一个例子。",
                    "对练习的目的理解清楚，愿意在家尝试。",
                )
            ),
            "emotion": g.pick(
                (
                    "开始时略紧张，结束时情绪放松，有笑容。",
                    "情绪较上次平稳，谈到困难时能保持平静。",
                    "表达情绪的词汇增多，能说出“担心”“失落”等感受。",
                )
            ),
            "volition": g.pick(
                (
                    "主动提出下周想继续练习的内容。",
                    "按约定完成了大部分练习，需要提醒。",
                    "参与积极，愿意承担一项小任务。",
                )
            ),
        },
        "homework": g.pick(
            (
                "每天记录一次情绪温度计。",
                "每晚睡前练习腹式呼吸五分钟。",
                "完成一次约定的小任务并记录感受。",
                "与家人分享一件当天开心的事。",
            )
        ),
        "reflection": g.pick(
            (
                "节奏合适，下次可增加角色扮演的比重。",
                "孩子对评价较敏感，需注意反馈方式，多用具体的肯定。",
                "照料人的参与有帮助，下次继续邀请其在结束前加入。",
                "练习难度略高，下次拆分为更小的步骤。",
            )
        ),
        "record_date": _d(day),
        "problems_addressed": list(profile["problems"][:2]),
        "private_space_confirmed": True,
    }
    if location == "home":
        s["guardian_present"] = bool(guardian_present)
        if guardian_present is False:
            if start.hour >= 11:  # told by phone the same morning …
                told = start - dt.timedelta(hours=g.pick((2, 3)))
            else:  # … or the evening before
                told = start.replace(hour=19, minute=30) - dt.timedelta(days=1)
            s["guardian_notified"] = {
                "time": _dt(told.date(), told.hour, told.minute),
                "channel": "phone",
                "by": staff[0],
            }
    return s


def _signature(signer: str, day: dt.date) -> dict[str, str]:
    return {"signer": signer, "date": _d(day)}


def make_case(seed: int, kind: str) -> Record:
    """One synthetic case record of the given ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    g = _Gen(seed, kind)
    rng = g.rng

    # -- what kind of case ------------------------------------------------------------------
    if kind == "high-risk-crisis":
        profile_key, scenario, risk = "depressed", "crisis", "high"
    elif kind == "home-visits-guardian-absent":
        profile_key, scenario, risk = "left-behind", "left-behind", "medium"
    elif kind == "disability-reenrolment":
        profile_key, scenario, risk = (
            "school",
            g.pick(("single-mother", "grandparent-guardian")),
            "low",
        )
    else:
        profile_key = g.pick(("anxiety", "trauma", "behaviour", "left-behind"))
        scenario = (
            "left-behind"
            if profile_key == "left-behind"
            else g.pick(("single-mother", "grandparent-guardian"))
        )
        risk = "medium" if kind != "listed-intake-only" else g.pick(("low", "medium"))
    profile = _PROFILES[profile_key]

    # -- dates ------------------------------------------------------------------------------
    intake_date = dt.date(2025, 10, 9) + dt.timedelta(days=rng.randint(0, 140))
    list_received = intake_date - dt.timedelta(days=rng.randint(3, 10))
    designation = list_received - dt.timedelta(days=rng.randint(5, 20))
    assessed = intake_date + dt.timedelta(days=rng.randint(1, 3))

    # -- child ------------------------------------------------------------------------------
    if kind == "disability-reenrolment":
        age = rng.randint(12, 14)
    elif kind == "high-risk-crisis":
        age = rng.randint(12, 16)
    else:
        age = rng.randint(8, 15)
    birth = _minus_years(intake_date, age) - dt.timedelta(days=rng.randint(1, 360))
    assert _age_on(birth, intake_date) == age < 18
    sex = g.pick(("1", "2"))
    rural = scenario == "left-behind" or rng.random() < 0.4
    division = g.pick(_RURAL_DIVISIONS if rural else _DIVISIONS)
    surname = g.pick(_SURNAMES)
    child_name = g.name(surname, sex=sex)
    rid = resident_id.make(division[0], birth, sex, rng.randrange(500))
    home = g.address(division, rural=rural)
    reg = dict(home) if rng.random() < 0.7 else g.address(g.pick(_RURAL_DIVISIONS), rural=True)
    stage = "primary" if age <= 11 else "junior-secondary" if age <= 14 else "senior-secondary"
    grade_in_stage = age - {"primary": 6, "junior-secondary": 12, "senior-secondary": 15}[stage]
    grade_in_stage = max(0, min(grade_in_stage, 5 if stage == "primary" else 2))
    if stage == "primary":
        class_name = f"{_CN_NUM[grade_in_stage]}年级({rng.randint(1, 6)})班"
    else:
        prefix = "初" if stage == "junior-secondary" else "高"
        class_name = f"{prefix}{_CN_NUM[grade_in_stage]}({rng.randint(1, 8)})班"

    # -- organisations and staff ------------------------------------------------------------
    word = g.pick(_ORG_WORDS)
    org_code = f"JX{division[0][2:4]}{rng.randint(1, 9):02d}"
    organisations: list[dict[str, Any]] = [
        {
            "id": "org-contractor",
            "kind": "contractor",
            "name": f"{division[1]}{word}社会工作服务中心",
            "code": org_code,
            "address": g.address(division, rural=False, building=False)["text"],
            "phone": g.phone("1390000"),
        },
        {
            "id": "org-commissioner",
            "kind": "commissioner",
            "name": f"{division[1]}{division[2]}民政局",
            "address": g.address(division, rural=False, building=False)["text"],
        },
    ]
    school_stage_word = {
        "primary": "小学",
        "junior-secondary": "初级中学",
        "senior-secondary": "高级中学",
    }
    organisations.append(
        {
            "id": "org-school",
            "kind": "school",
            "name": f"{division[2]}{g.pick(_SCHOOL_WORDS)}{school_stage_word[stage]}",
            "address": g.address(division, rural=False, building=False)["text"],
            "contact_name": g.name(adult=True),
            "contact_phone": g.phone("1390000"),
        }
    )
    worker, coworker, supervisor = "staff-01", "staff-02", "staff-03"
    staff = [
        {
            "id": worker,
            "name": g.name(adult=True),
            "role": "worker",
            "phone": g.phone("1390000"),
            "organisation": "org-contractor",
            "qualifications": ["sw", "degree-social-work"],
        },
        {
            "id": coworker,
            "name": g.name(adult=True),
            "role": "worker",
            "phone": g.phone("1390000"),
            "organisation": "org-contractor",
            "qualifications": ["sw-assistant"],
        },
        {
            "id": supervisor,
            "name": g.name(adult=True),
            "role": "supervisor",
            "phone": g.phone("1390000"),
            "organisation": "org-contractor",
            "qualifications": ["sw-senior", "psych-counsellor"],
        },
    ]

    adults, family_text, guardian = _family(g, scenario, surname)
    emergency = next(a["id"] for a in adults if "emergency-contact" in a["roles"])

    # -- child record -----------------------------------------------------------------------
    difficulties = list(g.pick(_DIFFICULTIES))
    if scenario == "left-behind" and "guardianship-lack" not in difficulties:
        difficulties = ["guardianship-lack"]
    child: dict[str, Any] = {
        "name": child_name,
        "sex": sex,
        "ethnicity": "22" if rng.random() < 0.08 else "01",
        "birth_date": _d(birth),
        "resident_id": rid,
        "home_address": home,
        "household_registration": reg,
    }
    if age >= 13:
        child["phone"] = g.phone()
    child["difficulty_categories"] = difficulties
    child["school"] = {
        "enrolled": True,
        "stage": stage,
        "school": "org-school",
        "class_name": class_name,
    }
    health = "身体发育正常，无重大疾病史。"
    if kind == "disability-reenrolment":
        child["difficulty_categories"] = ["disability-integration", "disability-rehab"]
        child["disability"] = {"category": "肢体残疾", "grade": g.pick(("三级", "四级"))}
        health = (
            "2025年春季因交通意外致左下肢损伤，经手术和康复训练后可借助肘拐独立行走；"
            "休学至今，正在康复机构门诊训练。"
        )
    child["health_status"] = health

    # -- intake (Annex A) -------------------------------------------------------------------
    intake_scores = _scores(g, risk)
    preferred_time = g.pick(("周六上午", "周日下午", "工作日放学后"))
    intake: dict[str, Any] = {
        "assessment_date": _d(assessed),
        "assessor": worker,
        "family_situation": family_text,
        "individual_overview": {
            "physical_health": health,
            "academic_performance": g.pick(
                (
                    "成绩中等偏下，数学较薄弱。",
                    "成绩中等，近一学期有所下滑。",
                    "语文成绩较好，其他学科一般。",
                )
            )
            if kind != "disability-reenrolment"
            else "休学前成绩中等偏上，休学期间自学进度落后约一个学期。",
            "school_behaviour": g.pick(
                (
                    "课堂较安静，很少主动发言，课间多独处。",
                    "遵守纪律，与少数同学来往，班主任反映近期注意力不集中。",
                    "参加班级活动不积极，作业偶有拖欠。",
                )
            ),
        },
        "assessment_result_summary": profile["summary"],
        "interview_findings": _mental(profile["interview"]),
        "main_problems": list(profile["problems"]),
        "main_problems_text": profile["problems_text"],
        "problem_causes": profile["causes"],
        "emergency_present": False,
        "referral_triggers": [],
        "emergency_contact": emergency,
        "currently_in_counselling": False,
        "currently_on_psychotropics": False,
        "prior_counselling_count": 0,
        "expected_problems_to_solve": profile["expected"],
        "preferences": {
            "frequency_per_week": 1.0,
            "preferred_time": preferred_time,
            "location": g.pick(("家中", "学校", "机构咨询室")),
            "gender": g.pick(("no-preference", "no-preference", "female")),
            "age": "no-preference",
            "marital": "no-preference",
            "has_children": "no-preference",
            "language": g.pick(("no-preference", "mandarin", "local-dialect")),
            "style": g.pick(("no-preference", "gentle", "energetic")),
            "other": "希望服务人员耐心一些。",
        },
        "risk_level": risk,
        "competence_match": "matched",
        "home_visit_verification": g.pick(("consistent", "consistent", "partly-consistent")),
        "home_visit_verification_note": "入户观察与测评结果基本一致。",
        "feasibility_conclusion": "accept",
        "child_views": g.pick(
            (
                "孩子表示愿意每周和服务人员见面，希望不要让同学知道。",
                "孩子说想“不那么烦”，同意先试几次。",
                f"孩子希望服务安排在{preferred_time}，不影响上课。",
            )
        ),
        "recipient_confirmation": _signature(guardian, assessed),
        "worker_confirmation": _signature(worker, assessed),
        "supervisor_confirmation": _signature(supervisor, assessed + dt.timedelta(days=2)),
    }
    if kind == "high-risk-crisis":
        intake.update(
            emergency_present=True,
            emergency_detail="面访中孩子表示近一周有结束生命的想法并有具体计划片段，"
            "当即启动危机干预，联系监护人和姨妈到场。",
            referral_status_text="已协同监护人陪同孩子到精神卫生专科医院急诊评估，门诊随诊，"
            "本机构同时提供心理服务（并行转介）。",
            referral_triggers=["RT-01"],
            feasibility_conclusion="accept-with-concurrent-referral",
            competence_match="partly-matched",
            currently_on_psychotropics=False,
            prior_counselling_count=1,
            prior_counselling_content="学校心理老师曾做过一次情绪疏导。",
        )
        organisations.append(
            {
                "id": "org-hospital",
                "kind": "hospital",
                "name": f"{division[1]}青山精神卫生中心",
                "address": g.address(division, rural=False, building=False)["text"],
            }
        )
    if kind == "listed-intake-only":
        # Annex A still in draft (state INTAKE, before T-05): nothing signed yet.
        for sig in ("recipient_confirmation", "worker_confirmation", "supervisor_confirmation"):
            del intake[sig]
        # 出生年月 as a partial date: the resident ID still encodes the full date.
        child["birth_date"] = birth.strftime("%Y-%m")

    case: dict[str, Any] = {
        "case_number": f"{org_code}-{intake_date.year}-{seed % 100000:05d}",
        "state": "in-service",
        "risk_level": risk,
        "inclusion_basis": g.pick(("department-designation", "assessed-risk"))
        if kind != "high-risk-crisis"
        else "dynamic-monitoring",
        "list_received_date": _d(list_received),
        "designation_date": _d(designation),
        "designating_org": "org-commissioner",
        "intake_date": _d(intake_date),
        "contractor": "org-contractor",
        "commissioner": "org-commissioner",
        "care_manager": worker,
        "supervisor": supervisor,
    }
    record: Record = {
        "format_version": "1.0",
        "case": case,
        "child": child,
        "adults": adults,
        "staff": staff,
        "organisations": organisations,
        "intake": intake,
        "assessments": [],
        "plans": [],
        "sessions": [],
        "consents": [],
        "crises": [],
    }

    if kind == "listed-intake-only":
        case["state"] = "intake"
        return record

    record["assessments"].append(
        _assessment(
            g,
            "asmt-01",
            "intake",
            assessed,
            worker,
            intake_scores,
            profile["summary"],
        )
    )

    # -- crisis -----------------------------------------------------------------------------
    if kind == "high-risk-crisis":
        detected = dt.datetime(assessed.year, assessed.month, assessed.day, 10, 40)
        record["crises"].append(
            {
                "id": "crisis-01",
                "type": "life-self",
                "detected_at": _dt(assessed, detected.hour, detected.minute),
                "detected_by": worker,
                "status": "active",
                "summary": "面访发现自杀意念和计划片段；已制订安全计划，由姨妈承担陪护，"
                "监护人陪同就医，机构已报告委托机构。",
                "reliable_carer": "adult-02",
                "reported_to_commissioner_at": _dt(assessed, 11, 50),
            }
        )

    # -- plan (Annex B) ---------------------------------------------------------------------
    if kind == "high-risk-crisis":  # DL-03: service starts within 5 working days
        plan_created = assessed + dt.timedelta(days=rng.randint(1, 2))
    else:
        plan_created = assessed + dt.timedelta(days=rng.randint(7, 12))
    period_start = plan_created + dt.timedelta(days=rng.randint(1, 3))
    if kind == "high-risk-crisis":
        count, per_week = 12, 2
    elif kind == "disability-reenrolment":
        count, per_week = 6, 1
    else:
        count, per_week = 8, 1
    weeks = math.ceil(count / per_week)
    period_end = period_start + dt.timedelta(weeks=weeks + 2)
    if kind == "disability-reenrolment":
        service_types = ["counselling", "reenrolment-support"]
        location = "home"
    else:
        service_types = ["counselling", "intervention"]
        location = {
            "home-visits-guardian-absent": "home",
            "high-risk-crisis": "office",
        }.get(kind, g.pick(("office", "school")))
    methods = ["individual", "family-therapy"]
    goals = [
        {
            "id": f"goal-{i + 1:02d}",
            "description": text,
            "due": _d(period_end),
        }
        for i, text in enumerate(profile["goals"])
    ]
    plan: dict[str, Any] = {
        "id": "plan-01",
        "version": 1,
        "status": "active",
        "created": _d(plan_created),
        "problem_types": list(profile["problems"]),
        "planned_session_count": count,
        "service_location": location,
        "case_background": f"{family_text}{profile['problems_text']}",
        "manifestation": profile["manifestation"],
        "theoretical_explanation": profile["theory"],
        "problem_summary": profile["problem_summary"],
        "theoretical_orientations": list(profile["orientations"]),
        "methods": methods,
        "service_types": service_types,
        "intervention_pathway": profile["pathway"],
        "schedule": (
            f"每周{per_week}次，每次60～120分钟，共{count}次，"
            f"{period_start:%Y}年{period_start.month}月{period_start.day}日起至"
            f"{period_end:%Y}年{period_end.month}月{period_end.day}日。"
        ),
        "frequency_per_week": per_week,
        "period_start": _d(period_start),
        "period_end": _d(period_end),
        "session_minutes_min": 60,
        "session_minutes_max": 120,
        "precautions": "尊重孩子意愿，不在同学面前提及服务；入户时如监护人不在家，"
        "须事先电话告知监护人并由两名服务人员同行。",
        "goals": goals,
        "worker_attestation": _signature(worker, plan_created),
        "recipient_attestation": _signature(guardian, plan_created),
        "supervisor_approval": _signature(supervisor, plan_created + dt.timedelta(days=1)),
    }
    if kind == "high-risk-crisis":
        plan["precautions"] = (
            "每次服务开始时复核安全计划；出现自伤行为或计划立即启动危机流程并联系监护人和姨妈；"
            "与专科医院保持随诊信息沟通。"
        )
    if kind == "disability-reenrolment":
        plan["reenrolment_support"] = (
            "与学校共同制订复学方案：返校前两周试读半天，教室调整到一楼，"
            "体育课改为康复性活动；学科老师提供一学期补课计划；班主任组织同伴支持小组。"
        )
    record["plans"].append(plan)
    consent_day = plan_created  # signed with the plan (B-20), before the first session
    record["consents"].append(
        {
            "id": "consent-01",
            "topic": "service",
            "status": "active",
            "grantor": guardian,
            "date": _d(consent_day),
            "period_start": _d(period_start),
            "period_end": _d(period_end),
            "child_assent": age >= 8,
        }
    )

    # -- sessions (Annex C) -----------------------------------------------------------------
    n_sessions = {
        "medium-in-service": 3,
        "high-risk-crisis": 4,
        "home-visits-guardian-absent": 5,
        "closed-pre-post": 8,
        "disability-reenrolment": 4,
    }[kind]
    step = 7 // per_week if per_week > 1 else 7
    first = period_start + dt.timedelta(days=rng.randint(0, 2))
    sessions = []
    for i in range(n_sessions):
        number = i + 1
        day = first + dt.timedelta(days=step * i + (1 if per_week > 1 and i % 2 else 0))
        if kind == "disability-reenrolment" and number > 2 and day.weekday() >= 5:
            day -= dt.timedelta(days=day.weekday() - 4)  # school sessions on a weekday
        elif location == "school" and day.weekday() >= 5:
            day -= dt.timedelta(days=day.weekday() - 4)
        stype = service_types[i % len(service_types)]
        if kind == "home-visits-guardian-absent":
            present = i % 3 == 0  # sessions 1 and 4 with the guardian at home
            s = _session(
                g,
                number,
                day,
                location="home",
                staff=[worker, coworker],
                service_type=stype,
                profile=profile,
                guardian_present=present,
            )
        elif kind == "disability-reenrolment":
            loc = "home" if number <= 2 else "school"
            s = _session(
                g,
                number,
                day,
                location=loc,
                staff=[worker, coworker] if loc == "home" else [worker],
                service_type=stype,
                profile=profile,
                guardian_present=True if loc == "home" else None,
            )
        elif kind == "closed-pre-post" and number in (3, 6):
            s = _session(
                g,
                number,
                day,
                location="home",
                staff=[worker, coworker],
                service_type=stype,
                profile=profile,
                guardian_present=True,
            )
        else:
            s = _session(
                g,
                number,
                day,
                location=location if location != "home" else "office",
                staff=[worker],
                service_type=stype,
                profile=profile,
            )
        sessions.append(s)
    record["sessions"] = sessions

    # -- closure (Annex D) ------------------------------------------------------------------
    if kind == "closed-pre-post":
        last = dt.date.fromisoformat(sessions[-1]["record_date"])
        post_day = last + dt.timedelta(days=2)
        closure_day = last + dt.timedelta(days=rng.randint(5, 9))
        a, b, c = (max(3.0, s - rng.randint(4, 8)) for s in intake_scores)
        post_scores = (a, b, c)
        record["assessments"].append(
            _assessment(
                g,
                "asmt-02",
                "closure",
                post_day,
                worker,
                post_scores,
                "各维度得分较接案时下降，总分回到正常范围。",
            )
        )
        for goal in plan["goals"]:
            goal["achievement"] = "achieved"
            goal["due"] = _d(closure_day)
        plan["status"] = "completed"
        case.update(
            state="closed",
            risk_level="low",
            closure_reason="goals-achieved",
            end_date=_d(closure_day),
        )
        pre, post = sum(intake_scores), sum(post_scores)
        record["closure"] = {
            "date": _d(closure_day),
            "reason": "goals-achieved",
            "service_summary": (
                f"共开展服务{len(sessions)}次（含入户2次），按方案完成各阶段任务，"
                "三项服务目标均已达成，经与孩子和监护人商议后结案。"
            ),
            "change": {
                "assessment_change": (
                    f"{_SCALE['scale_name']}总分由接案时{pre:g}分降至{post:g}分，各维度均有下降。"
                ),
                "behaviour": "能主动参与集体活动，在校冲突和回避行为明显减少。",
                "emotion": "情绪总体平稳，能用语言表达感受，睡眠改善。",
                "volition": "能坚持完成练习计划，对学习和生活有了具体目标。",
            },
            "reflection": "前期关系建立较慢，后期引入照料人参与后进展加快；"
            "今后类似个案可更早开展家庭会谈。",
            "follow_up_actions": "结案后一个月、三个月各电话回访一次；"
            "告知孩子和监护人如有需要可再次申请服务。",
            "evaluator_types": ["self", "close-relation", "worker", "supervisor"],
            "recipient_confirmation": _signature(guardian, closure_day),
            "worker_confirmation": _signature(worker, closure_day),
            "supervisor_confirmation": _signature(supervisor, closure_day + dt.timedelta(days=1)),
        }
    return record


def make_many(n: int, seed: int = 0) -> list[Record]:
    """``n`` records cycling through :data:`KINDS`, each with its own seed."""
    base = seed * 100_000 + 1_000  # clear of the fixtures' seeds
    return [make_case(base + i, KINDS[i % len(KINDS)]) for i in range(n)]


# ------------------------------------------------------------ variants

_BASE_INVALID = "01-medium-in-service.json"


def _fixture(name: str) -> Record:
    seed, kind = FIXTURES[name]
    return make_case(seed, kind)


def _wrong_check_digit(r: Record) -> None:
    rid = r["child"]["resident_id"]
    good = rid[-1]
    r["child"]["resident_id"] = rid[:-1] + ("1" if good != "1" else "2")


def _birth_mismatch(r: Record) -> None:
    born = dt.date.fromisoformat(r["child"]["birth_date"])
    r["child"]["birth_date"] = _d(born + dt.timedelta(days=31))


def _sex_mismatch(r: Record) -> None:
    r["child"]["sex"] = "2" if r["child"]["sex"] == "1" else "1"


def _unknown_code(r: Record) -> None:
    r["case"]["risk_level"] = "extreme"


def _missing_name(r: Record) -> None:
    del r["child"]["name"]


def _unknown_staff(r: Record) -> None:
    r["sessions"][0]["staff"][0] = "staff-99"


#: Invalid case files: name → (fixture it modifies, modification, what the loader reports).
INVALID: dict[str, tuple[str, Callable[[Record], None], str]] = {
    "wrong-check-digit.json": (
        _BASE_INVALID,
        _wrong_check_digit,
        "child.resident_id, code resident-id",
    ),
    "birth-date-mismatch.json": (
        _BASE_INVALID,
        _birth_mismatch,
        "child.birth_date, code resident-id",
    ),
    "sex-mismatch.json": (_BASE_INVALID, _sex_mismatch, "child.sex, code resident-id"),
    "unknown-code.json": (_BASE_INVALID, _unknown_code, "case.risk_level, code binding"),
    "missing-child-name.json": (_BASE_INVALID, _missing_name, "child.name, code schema"),
    "unknown-staff.json": (_BASE_INVALID, _unknown_staff, "sessions[0].staff[0], code reference"),
}
#: A file cut in the middle: ``read_case_file`` raises ``InputError``.
TRUNCATED = "truncated.json"


def _plan_5(r: Record) -> None:
    r["plans"][0]["planned_session_count"] = 5
    r["plans"][0]["schedule"] = r["plans"][0]["schedule"].replace("共8次", "共5次")


def _no_intervention(r: Record) -> None:
    r["plans"][0]["service_types"] = ["counselling"]
    for s in r["sessions"]:
        s["service_type"] = "counselling"


def _first_absent(r: Record) -> dict[str, Any]:
    return next(s for s in r["sessions"] if s.get("guardian_present") is False)


def _one_staff(r: Record) -> None:
    _first_absent(r)["staff"] = [r["case"]["care_manager"]]


def _not_notified(r: Record) -> None:
    del _first_absent(r)["guardian_notified"]


def _adult_at_intake(r: Record) -> None:
    child = r["child"]
    intake = dt.date.fromisoformat(r["case"]["intake_date"])
    born = _minus_years(intake, 18) - dt.timedelta(days=61)
    old = resident_id.parse(child["resident_id"])
    child["birth_date"] = _d(born)
    child["resident_id"] = resident_id.make(old.division, born, old.sex, 7)
    child["school"] = {"enrolled": False, "stage": "not-applicable"}


def _other_instrument(r: Record) -> None:
    post = next(a for a in r["assessments"] if a["phase"] == "closure")
    post.update(_OTHER_SCALE)
    post.pop("instrument_override_reason", None)


def _no_consent(r: Record) -> None:
    r["consents"] = []


#: Case files that load cleanly but break a rule of the standard:
#: name → (fixture it modifies, modification, rule, explanation).
RULE_BREAKING: dict[str, tuple[str, Callable[[Record], None], str, str]] = {
    "plan-5-sessions.json": (
        "01-medium-in-service.json",
        _plan_5,
        "R-7.2.1-03 (CL-01)",
        "the plan's planned_session_count is 5; at least 6 sessions must be planned",
    ),
    "medium-risk-no-intervention.json": (
        "01-medium-in-service.json",
        _no_intervention,
        "R-6.1.1-05",
        "medium risk, but the plan's service_types are only counselling (no intervention)",
    ),
    "home-visit-one-staff.json": (
        "03-home-visits-guardian-absent.json",
        _one_staff,
        "R-7.3-17 (CL-07)",
        "session 2 (sessions[1]) is at home with guardian_present false and has only 1 staff "
        "member (≥ 2 required)",
    ),
    "home-visit-not-notified.json": (
        "03-home-visits-guardian-absent.json",
        _not_notified,
        "R-7.3-16 (CL-07)",
        "session 2 (sessions[1]) is at home with guardian_present false and has no "
        "guardian_notified",
    ),
    "adult-at-intake.json": (
        "01-medium-in-service.json",
        _adult_at_intake,
        "R-3.1-01 (CL-08)",
        "the child is 18 years and about 2 months old on intake_date "
        "(birth date and resident ID consistent)",
    ),
    "closure-other-instrument.json": (
        "04-closed-pre-post.json",
        _other_instrument,
        "R-7.5.2-02 (CL-10)",
        "the closure assessment uses scale_code CAS-SYN, the intake one CES-SYN, "
        "and there is no instrument_override_reason",
    ),
    "session-without-consent.json": (
        "01-medium-in-service.json",
        _no_consent,
        "R-7.2.3-01",
        "sessions are recorded but there is no active service consent (consents is empty)",
    ),
}


def invalid_cases() -> dict[str, Record]:
    out = {}
    for name, (base, change, _) in INVALID.items():
        r = copy.deepcopy(_fixture(base))
        change(r)
        out[name] = r
    return out


def rule_breaking_cases() -> dict[str, Record]:
    out = {}
    for name, (base, change, _, _) in RULE_BREAKING.items():
        r = copy.deepcopy(_fixture(base))
        change(r)
        out[name] = r
    return out


# ------------------------------------------------------------ writing


def dumps(record: Record) -> str:
    """The record as its case-record file: pretty-printed UTF-8 JSON, one final newline."""
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_fixtures(folder: Path) -> list[Path]:
    out = []
    for name in FIXTURES:
        _write(folder / name, dumps(_fixture(name)))
        out.append(folder / name)
    return out


def write_invalid(folder: Path) -> list[Path]:
    out = []
    for name, record in invalid_cases().items():
        _write(folder / name, dumps(record))
        out.append(folder / name)
    text = dumps(_fixture(_BASE_INVALID))
    _write(folder / TRUNCATED, text[: len(text) // 3])
    out.append(folder / TRUNCATED)
    lines = [
        "# Invalid case-record files",
        "",
        "Written by `python tools/synth.py --write-invalid tests/data/cases/invalid`;",
        f"each is a small modification of `fixtures/cases/{_BASE_INVALID}`. The loader",
        "(`interop.caserecord`) must report an error for each (`tests/unit/test_caserecord.py`).",
        "",
        "| File | Expected error |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {expect} |" for name, (_, _, expect) in INVALID.items()]
    lines.append(f"| `{TRUNCATED}` | JSON cut short: `read_case_file` raises `InputError` |")
    _write(folder / "README.md", "\n".join(lines) + "\n")
    return out


def write_rule_breaking(folder: Path) -> list[Path]:
    out = []
    for name, record in rule_breaking_cases().items():
        _write(folder / name, dumps(record))
        out.append(folder / name)
    lines = [
        "# Case files that load cleanly but break a rule of the standard",
        "",
        "Written by `python tools/synth.py --write-rule-breaking tests/data/cases/rule-breaking`.",
        "Each is a small modification of a fixture in `fixtures/cases/`, passes the case-record",
        "loader (JSON Schema, codes, resident ID, references) without errors, and breaks exactly",
        "one rule of DB36/T 2143-2025 that the FHIR profile invariants are meant to catch.",
        "",
        "| File | Based on | Rule | What is wrong |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{name}` | `{base}` | {rule} | {why} |"
        for name, (base, _, rule, why) in RULE_BREAKING.items()
    ]
    _write(folder / "README.md", "\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--write", type=Path, metavar="DIR", help="write the fixtures to DIR")
    p.add_argument("--write-invalid", type=Path, metavar="DIR", help="write invalid case files")
    p.add_argument(
        "--write-rule-breaking", type=Path, metavar="DIR", help="write rule-breaking case files"
    )
    p.add_argument("--many", type=int, metavar="N", help="write N varied records to --out")
    p.add_argument("--seed", type=int, default=0, help="seed of --many (default 0)")
    p.add_argument("--out", type=Path, metavar="DIR", help="folder of --many")
    args = p.parse_args(argv)
    written: list[Path] = []
    if args.write:
        written += write_fixtures(args.write)
    if args.write_invalid:
        written += write_invalid(args.write_invalid)
    if args.write_rule_breaking:
        written += write_rule_breaking(args.write_rule_breaking)
    if args.many is not None:
        if args.out is None:
            p.error("--many needs --out")
        for i, record in enumerate(make_many(args.many, args.seed)):
            path = args.out / f"{i + 1:05d}-{KINDS[i % len(KINDS)]}.json"
            _write(path, dumps(record))
            written.append(path)
    if not written:
        p.print_help()
        return 2
    print(f"wrote {len(written)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
