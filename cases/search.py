"""Full-text search over cases, for Chinese and Korean as well as for spaced languages.

Chinese and Korean put no spaces between words, so a word tokeniser finds nothing to split on.
Instead every run of Han, Hangul or kana becomes overlapping character pairs (楼道的灯 ->
楼道 道的 的灯): any word of two or more characters is then a set of pairs that all occur in
the text. Latin words and numbers stay whole, lower-cased.

Each case keeps those tokens in `search_text`, recomputed on every flush that changes a
transcript, the resolution note, or adds a note; the database indexes them: an FTS5 table on
SQLite, a GIN index on to_tsvector('simple', ...) on PostgreSQL. A query is tokenised the
same way and every token must match. The same module also keeps `priority` equal to the
urgency, so the inbox can sort on an index.

Staff also look a case up by what they know of it (`find_cases`): its number, the caller's or
the resident's phone in any format (the last digits are enough), the resident's name or
address, or its words. Each way is one query on its own index, merged in Python: an OR of them
would make the database read every case.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    DDL,
    ColumnElement,
    Connection,
    and_,
    column,
    event,
    func,
    inspect,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session, joinedload

from cases.events import EventKind
from cases.models import URGENCY_PRIORITY, Case, CaseEvent, Resident, Urgency
from hotline.db import db
from hotline.phones import NotAPhoneNumber, normalise_phone

# Han (with extensions and compatibility ideographs), Hangul syllables and jamo, kana.
CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
TOKEN = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>(?:(?![{CJK}])[^\W_])+)")
MAX_QUERY_TOKENS = 32  # a pasted paragraph should not become a giant query
MAX_QUERY_LENGTH = 200
FEW_HITS = 1000  # below this, SQLite fetches the hits and sorts them (see _sqlite_match)

# The case fields that are searched, and the timeline events whose text is searched.
SEARCHED_FIELDS = ("transcript", "machine_transcript", "resolution_note")
SEARCHED_EVENTS: dict[str, str] = {EventKind.NOTE: "text", EventKind.PART_REPORTED: "report"}

FTS_TABLE = "cases_fts"
PG_INDEX = "ix_cases_search_text"


def tokenize(text: str) -> list[str]:
    """Words lower-cased; CJK runs as overlapping pairs (a lone character stays alone)."""
    tokens: list[str] = []
    # NFKC: full-width Ｌｉｇｈｔ１２ typed on a Chinese keyboard becomes plain Light12.
    for match in TOKEN.finditer(unicodedata.normalize("NFKC", text)):
        if match.group("word"):
            tokens.append(match.group("word").casefold())
            continue
        run = match.group("cjk")
        if len(run) == 1:
            tokens.append(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def search_text_of(texts: Iterable[str]) -> str:
    """The searchable form of some texts: their distinct tokens, space-separated."""
    tokens = (token for text in texts for token in tokenize(text or ""))
    return " ".join(dict.fromkeys(tokens))


# ---------------------------------------------------------------- keeping the columns current


def event_text(kind: str, detail: dict[str, Any] | None) -> str:
    """The searchable words a timeline event carries: a note's text, a department's report."""
    key = SEARCHED_EVENTS.get(kind)
    value = (detail or {}).get(key) if key else None
    return value if isinstance(value, str) else ""


def case_search_text(case: Case) -> str:
    fields = [getattr(case, name) or "" for name in SEARCHED_FIELDS]
    notes = [event_text(event.kind, event.detail) for event in case.events]
    return search_text_of([*fields, *notes])


def _searched_fields_changed(case: Case) -> bool:
    attributes = inspect(case).attrs
    return any(attributes[name].history.has_changes() for name in SEARCHED_FIELDS)


def _keep_derived_columns(session: Session, _context: Any, _instances: Any) -> None:
    """Every path that writes a case (staff actions, the voicemail task, the API) flushes."""
    stale: set[Case] = set()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Case):
            priority = URGENCY_PRIORITY[Urgency(obj.urgency or Urgency.NORMAL)]
            if obj.priority != priority:
                obj.priority = priority
            if obj in session.new or _searched_fields_changed(obj):
                stale.add(obj)
        elif isinstance(obj, CaseEvent) and obj in session.new and obj.kind in SEARCHED_EVENTS:
            case = obj.case or (session.get(Case, obj.case_id) if obj.case_id else None)
            if case is not None:
                stale.add(case)
    for case in stale:
        text = case_search_text(case)
        if case.search_text != text:
            case.search_text = text


# ---------------------------------------------------------------- the database's indexes


# Fixed statements, no values: the table and index names are spelled out once, here.
_FTS_INSERT = "INSERT INTO cases_fts(rowid, search_text) VALUES (new.id, new.search_text);"
_FTS_DELETE = (
    "INSERT INTO cases_fts(cases_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text);"
)


def sqlite_ddl() -> list[str]:
    """An FTS5 index over cases.search_text, kept in step by triggers.

    External content: the text lives only in cases. The `ascii` tokenizer splits on the
    spaces search_text_of puts between tokens (and leaves non-ASCII alone), so the index
    holds exactly our tokens.
    """
    return [
        "CREATE VIRTUAL TABLE cases_fts USING fts5(search_text, content='cases', "
        "content_rowid='id', tokenize='ascii')",
        f"CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN {_FTS_INSERT} END",
        f"CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN {_FTS_DELETE} END",
        "CREATE TRIGGER cases_fts_update AFTER UPDATE OF search_text ON cases "
        f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    ]


def sqlite_drop_ddl() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS cases_fts_insert",
        "DROP TRIGGER IF EXISTS cases_fts_delete",
        "DROP TRIGGER IF EXISTS cases_fts_update",
        "DROP TABLE IF EXISTS cases_fts",
    ]


def sqlite_rebuild_ddl() -> str:
    """Re-read every case into the FTS index (after a migration filled search_text)."""
    return "INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')"


def postgresql_ddl() -> list[str]:
    return [
        "CREATE INDEX ix_cases_search_text ON cases USING gin (to_tsvector('simple', search_text))"
    ]


def postgresql_drop_ddl() -> list[str]:
    return ["DROP INDEX IF EXISTS ix_cases_search_text"]


def is_search_index(name: str | None) -> bool:
    """Objects made by the DDL above, which the models cannot describe (for alembic check)."""
    return bool(name) and (name == PG_INDEX or str(name).startswith(FTS_TABLE))


def _attach_ddl() -> None:
    cases = Case.__table__
    for statement in sqlite_ddl():
        event.listen(cases, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgresql_ddl():
        event.listen(cases, "after_create", DDL(statement).execute_if(dialect="postgresql"))
    # The FTS table is not part of cases: drop it with cases so drop_all leaves nothing behind.
    drop_fts = DDL("DROP TABLE IF EXISTS cases_fts").execute_if(dialect="sqlite")
    event.listen(cases, "before_drop", drop_fts)


def install() -> None:
    """Keep priority and search_text up to date on every flush, and attach the full-text index
    to the cases table's DDL. Once per process (cases.init_app); a second call does nothing."""
    if event.contains(Session, "before_flush", _keep_derived_columns):
        return
    event.listen(Session, "before_flush", _keep_derived_columns)
    _attach_ddl()


# ---------------------------------------------------------------- queries


def _is_lone_cjk(token: str) -> bool:
    return len(token) == 1 and re.fullmatch(f"[{CJK}]", token) is not None


def query_tokens(query: str) -> list[str]:
    return list(dict.fromkeys(tokenize(query[:MAX_QUERY_LENGTH])))[:MAX_QUERY_TOKENS]


def _fts5_query(tokens: list[str]) -> str:
    """Each token as an FTS5 string ("..." with quotes doubled); juxtaposed means AND."""
    return " ".join('"' + token.replace('"', '""') + '"' for token in tokens)


def _tsquery(tokens: list[str]) -> str:
    """Each token as a tsquery quoted lexeme ('...' with quotes and backslashes escaped)."""
    quoted = ("'" + token.replace("\\", "\\\\").replace("'", "''") + "'" for token in tokens)
    return " & ".join(quoted)


def _sqlite_match(tokens: list[str], connection: Connection) -> ColumnElement[bool]:
    """Cases whose FTS5 row matches, in whichever way is quicker for this query.

    SQLite keeps no statistics to choose between "fetch every hit, then sort them" (quick for
    a few hits) and "walk the inbox's order index, keeping the hits" (quick when hits are
    common, and then only as long as a page needs). So count the hits, up to a point, and
    choose: `id + 0` keeps SQLite from driving the query by the hit list.
    """
    fts = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))
    hits = select(fts.c.rowid).where(fts.c[FTS_TABLE].op("MATCH")(_fts5_query(tokens)))
    counted = select(func.count()).select_from(hits.limit(FEW_HITS + 1).subquery())
    if (connection.scalar(counted) or 0) <= FEW_HITS:
        return Case.id.in_(hits)
    return (Case.id + 0).in_(hits)


def _indexed_match(tokens: list[str], connection: Connection) -> ColumnElement[bool]:
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return _sqlite_match(tokens, connection)
    if dialect == "postgresql":
        simple: ColumnElement[str] = literal_column("'simple'")
        document = func.to_tsvector(simple, Case.search_text)
        return document.op("@@")(func.to_tsquery(simple, _tsquery(tokens)))
    # Any other database: correct, if slow.
    return and_(*(Case.search_text.contains(token, autoescape=True) for token in tokens))


def search_condition(query: str, connection: Connection) -> ColumnElement[bool] | None:
    """A WHERE clause for cases matching every token of `query`; None if it has none.

    A lone CJK character is in no pair by itself, so it falls back to a substring match on
    search_text (slower on a big table, but one character is a rare query).
    """
    tokens = query_tokens(query)
    if not tokens:
        return None
    indexed = [token for token in tokens if not _is_lone_cjk(token)]
    lone = [token for token in tokens if _is_lone_cjk(token)]
    conditions = [Case.search_text.contains(token, autoescape=True) for token in lone]
    if indexed:
        conditions.insert(0, _indexed_match(indexed, connection))
    return and_(*conditions)


# ---------------------------------------------------------------- finding a case by what staff know

PHONE_LIKE = re.compile(r"[\d\s+\-().]+")
MIN_PHONE_DIGITS = 4  # "the number ending 0001": the last four digits name a number
MIN_NAME_LENGTH = 2  # one character would name half the directory
CASE_NUMBER_MARKS = "#№"  # "#10023" is how a case number is often written down


class Match(enum.StrEnum):
    """Why a case was found, shown beside it."""

    NUMBER = "number"
    PHONE = "phone"
    RESIDENT = "resident"
    WORDS = "words"


@dataclass(frozen=True)
class PhoneQuery:
    """A typed phone number: its digits (a suffix to look for) and, when it is a whole number,
    its E.164 form (looked up exactly, on the index)."""

    suffix: str
    e164: str | None


def case_id_in(query: str) -> int | None:
    """The case id of a query that is a case number ("10023", "#10023"), else None."""
    text = unicodedata.normalize("NFKC", query).strip().lstrip(CASE_NUMBER_MARKS).strip()
    return Case.id_from_number(text) if text.isascii() else None


def phone_query(query: str, region: str) -> PhoneQuery | None:
    """The query as a phone number, if it is one: "138 0000 0001", "+86-138-0000-0001",
    "(010) 1234 5678" or the last digits "0001"; None for anything with letters in it."""
    text = unicodedata.normalize("NFKC", query).strip()
    if not PHONE_LIKE.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    try:
        e164: str | None = normalise_phone(text, region)
    except NotAPhoneNumber:
        e164 = None
    # A whole national number keeps its trunk 0 ("010 ...", "010-5555-0001" for a Korean
    # mobile), which the stored +country form does not have.
    national = digits[1:] if text.startswith("0") and len(digits) >= 8 else digits
    return PhoneQuery(national, e164)


def phone_condition(column: Any, phone: PhoneQuery) -> ColumnElement[bool]:
    ends = column.endswith(phone.suffix, autoescape=True)
    return or_(column == phone.e164, ends) if phone.e164 else ends


def resident_condition(query: str, phone: PhoneQuery | None) -> ColumnElement[bool] | None:
    """Residents whose name, address or building holds the query, or whose phone it is."""
    text = query.replace("\x00", "").strip()
    conditions = []
    if len(text) >= MIN_NAME_LENGTH:
        fields = (Resident.name, Resident.address, Resident.building)
        conditions += [field.icontains(text, autoescape=True) for field in fields]
    if phone is not None:
        conditions.append(phone_condition(Resident.phone, phone))
    return or_(*conditions) if conditions else None


def _newest(condition: ColumnElement[bool], scope: ColumnElement[bool], limit: int) -> Any:
    return (
        select(Case)
        .where(scope, condition)
        .options(joinedload(Case.resident), joinedload(Case.assignee))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )


def find_cases(
    query: str, scope: ColumnElement[bool], region: str, limit: int = 50
) -> list[tuple[Case, tuple[Match, ...]]]:
    """The newest cases within `scope` (cases.permissions.case_scope) that `query` names: by
    number, phone, resident (name, address, building, phone) or words, each with why."""
    ways: list[tuple[Match, ColumnElement[bool]]] = []
    case_id = case_id_in(query)
    if case_id is not None:
        ways.append((Match.NUMBER, Case.id == case_id))
    phone = phone_query(query, region)
    if phone is not None:
        ways.append((Match.PHONE, phone_condition(Case.phone, phone)))
    residents = resident_condition(query, phone)
    if residents is not None:
        ways.append((Match.RESIDENT, Case.resident_id.in_(select(Resident.id).where(residents))))
    words = search_condition(query, db.session.connection())
    if words is not None:
        ways.append((Match.WORDS, words))
    found: dict[int, tuple[Case, list[Match]]] = {}
    for match, condition in ways:
        for case in db.session.scalars(_newest(condition, scope, limit)).unique():
            found.setdefault(case.id, (case, []))[1].append(match)
    newest = sorted(found.values(), key=lambda item: (item[0].created_at, item[0].id), reverse=True)
    return [(case, tuple(matches)) for case, matches in newest[:limit]]
