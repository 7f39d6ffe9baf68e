"""Inbox latency at 100,000 cases: first page, deep keyset page, filters, CJK search.

Seeds a year of cases (mixed Chinese, Korean and English transcripts, several grids,
categories, urgencies and statuses, notes on some) with bulk inserts, then times each view
through the Flask test client, signed in as staff (and as a grid worker for the scoped view).
Prints p50 and p95 in milliseconds per view.

    python benchmarks/inbox.py [--backend sqlite|postgres] [--cases 100000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import html
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, text

from accounts.models import Role
from benchmarks._harness import percentile
from cases.deadlines import deadline_for
from cases.models import (
    URGENCY_PRIORITY,
    Case,
    CaseEvent,
    CaseSource,
    CaseStatus,
    Resident,
    Urgency,
)
from cases.search import search_text_of
from hotline.app import create_app
from hotline.config import Settings
from hotline.db import db
from tests.accounts.conftest import PASSWORD, csrf_token, make_user
from tests.conftest import make_env, new_postgres_database
from triage import CATEGORIES

GRIDS = [f"G{number}" for number in range(1, 9)]
BATCH = 5000
# Sentences as residents say them; a transcript strings one to three together.
SENTENCES = {
    "zh-CN": [
        "{b}号楼楼道的灯坏了，晚上看不见路",
        "下水道堵了，污水都反到院子里了",
        "楼上装修的噪音太大，中午也不停",
        "小区里有狗不拴绳，吓到了老人",
        "电梯又坏了，我住在{n}楼下不去",
        "暖气不热，家里只有十五度",
        "邻居在楼道里堆了很多杂物，堵住了消防通道",
        "我的房产证丢了，想问一下怎么补办",
        "我一个人住，腿脚不方便，想申请送餐",
        "厨房的水管漏水，楼下邻居家也湿了",
        "垃圾好几天没人收了，味道很大",
        "墙上裂了一条缝，怕房子有危险",
    ],
    "ko-KR": [
        "{b}동 엘리베이터가 고장났어요",
        "윗집 소음 때문에 밤에 잠을 못 자요",
        "하수구가 막혀서 물이 안 내려가요",
        "복도 전등이 나가서 너무 어두워요",
        "쓰레기가 며칠째 안 치워졌어요",
        "혼자 살고 있는데 다리가 아파서 도움이 필요해요",
        "천장에서 물이 새요",
    ],
    "en-US": [
        "The street light outside building {b} is broken",
        "Water is leaking from the ceiling of flat {n}",
        "The lift in block {b} has stopped again",
        "My neighbour's dog barks all night",
        "Rubbish has not been collected for a week",
        "I live alone and need help with shopping",
    ],
}
NOTES = ["已联系物业维修", "已通知网格员上门查看", "居民不在家，明天再去", "called back, no answer"]
LOCALES = [("zh-CN", 0.75), ("ko-KR", 0.15), ("en-US", 0.10)]
URGENCIES = [(Urgency.EMERGENCY, 0.02), (Urgency.URGENT, 0.18), (Urgency.NORMAL, 0.80)]


def pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def transcript(rng: random.Random, locale: str) -> str:
    separator = " " if locale == "en-US" else "，"
    said = rng.sample(SENTENCES[locale], rng.randint(1, 3))
    return separator.join(s.format(b=rng.randint(1, 30), n=rng.randint(1, 18)) for s in said)


def status_for(rng: random.Random, age: timedelta) -> CaseStatus:
    """Recent cases are mostly open; a year's old cases are mostly resolved and closed."""
    open_share = 0.8 if age < timedelta(days=14) else 0.2 if age < timedelta(days=60) else 0.03
    if rng.random() < open_share:
        return rng.choice([CaseStatus.NEW, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS])
    return rng.choice([CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CLOSED])


@dataclass
class Seeded:
    cases: int
    seconds: float
    grid_worker: str
    staff: str


def seed(count: int, rng: random.Random) -> Seeded:
    started = time.perf_counter()
    staff = "bench_staff"
    make_user(staff, Role.STAFF, language="en-US")
    for grid in GRIDS:
        make_user(f"worker_{grid}", Role.GRID_WORKER, grid=grid, language="zh-CN")
    handlers = [make_user(f"dept{i}", Role.DEPARTMENT, language="zh-CN") for i in range(6)]
    residents = _seed_residents(rng)
    now = datetime.now(UTC)
    next_id = 1
    while next_id <= count:
        rows, notes = [], []
        for case_id in range(next_id, min(count, next_id + BATCH - 1) + 1):
            row, note = _case_row(case_id, rng, now, residents, handlers)
            rows.append(row)
            if note:
                notes.append(note)
        db.session.execute(insert(Case), rows)
        if notes:
            db.session.execute(insert(CaseEvent), notes)
        db.session.commit()
        next_id += BATCH
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # what autovacuum does within a minute
        db.session.commit()
    return Seeded(count, time.perf_counter() - started, "worker_G3", staff)


def _seed_residents(rng: random.Random) -> list[tuple[int, str, str, str]]:
    rows = [
        {
            "phone": f"+86138{index:08d}",
            "name": rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(("阿姨", "大爷", "奶奶")),
            "grid": rng.choice(GRIDS),
            "building": str(rng.randint(1, 30)),
        }
        for index in range(3000)
    ]
    db.session.execute(insert(Resident), rows)
    db.session.commit()
    found = db.session.execute(
        text("SELECT id, phone, grid, building FROM residents ORDER BY id")
    ).all()
    return [(row[0], row[1], row[2], row[3]) for row in found]


def _case_row(
    case_id: int,
    rng: random.Random,
    now: datetime,
    residents: list[tuple[int, str, str, str]],
    handlers: list[int],
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    created = now - timedelta(seconds=rng.randint(0, 365 * 86400))
    locale = pick(rng, LOCALES)
    urgency = pick(rng, URGENCIES)
    status = status_for(rng, now - created)
    words = transcript(rng, locale)
    if case_id % 20000 == 0:  # a handful of rare words, for a search with few hits
        words += "，烟囱冒黑烟"
    resident = rng.choice(residents) if rng.random() < 0.6 else None
    resolved = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    resolution = "已派人修好" if resolved else ""
    note_text = rng.choice(NOTES) if rng.random() < 0.1 else ""
    row = {
        "id": case_id,
        "status": status,
        "source": CaseSource.VOICEMAIL,
        "phone": resident[1] if resident else f"+86139{rng.randint(0, 99999999):08d}",
        "locale": locale,
        "resident_id": resident[0] if resident else None,
        "category": rng.choice(CATEGORIES),
        "urgency": urgency,
        "priority": URGENCY_PRIORITY[urgency],
        "transcript": words,
        "machine_transcript": words,
        "grid": resident[2] if resident else rng.choice(GRIDS),
        "building": resident[3] if resident else str(rng.randint(1, 30)),
        "assignee_id": rng.choice(handlers) if status != CaseStatus.NEW else None,
        "deadline_at": deadline_for(urgency, created),
        "resolution_note": resolution,
        "resolved_at": created + timedelta(days=2) if resolved else None,
        "created_at": created,
        "updated_at": created,
        # The same tokeniser the application uses, so the index sees what it would see.
        "search_text": search_text_of([words, words, resolution, note_text]),
    }
    note = None
    if note_text:
        note = {
            "case_id": case_id,
            "kind": "note",
            "actor": "bench",
            "detail": {"text": note_text},
            "created_at": created + timedelta(hours=1),
        }
    return row, note


def sign_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code
    return client


def rows_on(page: str) -> int:
    return len(re.findall(r'<tr class="case-row', page))


def deep_url(client: FlaskClient, url: str, hops: int) -> tuple[str, int]:
    """Follow 'next page' `hops` times; returns the URL reached and how many hops it took."""
    for hop in range(hops):
        match = re.search(r'rel="next" href="([^"]+)"', client.get(url).get_data(as_text=True))
        if not match:
            return url, hop
        url = html.unescape(match.group(1))
    return url, hops


def measure(client: FlaskClient, url: str, repeat: int) -> tuple[list[float], int]:
    for _ in range(3):  # warm caches and the connection pool
        client.get(url)
    timings = []
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        rows = rows_on(response.get_data(as_text=True))
    return timings, rows


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "postgres":
        with new_postgres_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as temp:
            yield f"sqlite:///{Path(temp) / 'inbox.db'}"


def run(backend: str, count: int, repeat: int) -> None:
    rng = random.Random(20250301)
    with database(backend) as url, tempfile.TemporaryDirectory() as temp:
        app = create_app(Settings.from_env(make_env(Path(temp), url)))
        with app.app_context():
            db.create_all()
            seeded = seed(count, rng)
        print(f"\n{backend}: seeded {seeded.cases} cases in {seeded.seconds:.1f} s")
        staff = sign_in(app, seeded.staff)
        deep, hops = deep_url(staff, "/cases", 20)
        views = [
            ("first page (open cases)", staff, "/cases"),
            (f"deep page (next x{hops})", staff, deep),
            ("grid + category + overdue", staff, "/cases?grid=G2&category=facilities&overdue=1"),
            ("search 灯坏 (open)", staff, "/cases?q=灯坏"),
            ("search 고장 (all statuses)", staff, "/cases?q=고장&status=all"),
            ("search 漏水 + grid, all", staff, "/cases?q=漏水&grid=G5&status=all"),
            ("search 烟囱 (rare, all)", staff, "/cases?q=烟囱&status=all"),
            ("search 灯 (1 char, LIKE)", staff, "/cases?q=灯"),
            ("grid worker: first page", sign_in(app, seeded.grid_worker), "/cases"),
        ]
        print(f"{'view':30} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8}")
        for name, client, view_url in views:
            timings, rows = measure(client, view_url, repeat)
            p50, p95 = percentile(timings, 0.5) * 1000, percentile(timings, 0.95) * 1000
            print(f"{name:30} {rows:5d} {p50:8.1f} {p95:8.1f}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    for backend in args.backend or ["sqlite", "postgres"]:
        run(backend, args.cases, args.repeat)


if __name__ == "__main__":
    main()
