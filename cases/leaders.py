"""楼栋长: building leaders, who hear a building's problems first and pass them on.

小事不出楼栋: a leader is a resident (or a staff member) marked as the leader of one or more
buildings (`BuildingLeader`). A building is the name residents' records give it
(`Resident.building`): only a building some resident lives in can have a leader.

A leader who texts the hotline or leaves a voicemail reports for their building
(`take_leader_report`, called by cases.intake for those channels): the case is the building's
(the one named in the words if they lead several, else their own, else the first they lead),
and when the words name a neighbour, a resident of that building (by name, by "王阿姨" when
only one 王 lives there, or by a room such as "302室", "302호", "room 302" that their address
holds), the neighbour is the case's resident, the person affected. The leader is kept as its
reporter (`CaseReporter`) and hears its progress and resolution (outreach.schedule). A
voicemail's words come after its case opened: `name_from_new_words` (cases.intake.apply_triage)
names the neighbour then, as it does for a second text.

Notices for a building go to its leaders too: `leaders_of(building)`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, func, or_, select

from accounts.models import User
from cases.errors import Refused
from cases.events import EventKind
from cases.models import BuildingLeader, Case, CaseReporter, Resident
from cases.services import add_event
from hotline.db import db

LEADER = "building_leader"  # CaseReporter.role
MAX_BUILDING = 50  # the building columns

# ---------------------------------------------------------------- who leads what


def leaders_of(building: str) -> list[BuildingLeader]:
    """The leaders of a building (residents, and staff whose account is active)."""
    if not building:
        return []
    return list(
        db.session.scalars(
            select(BuildingLeader)
            .outerjoin(User, BuildingLeader.user_id == User.id)
            .where(
                BuildingLeader.building == building,
                or_(BuildingLeader.resident_id.is_not(None), User.active.is_(True)),
            )
            .order_by(BuildingLeader.id)
        )
    )


def led_by_phone(phone: str) -> list[BuildingLeader]:
    """What the person texting or calling from `phone` leads, first building first."""
    if not phone:
        return []
    return list(
        db.session.scalars(
            select(BuildingLeader)
            .outerjoin(Resident, BuildingLeader.resident_id == Resident.id)
            .outerjoin(User, BuildingLeader.user_id == User.id)
            .where(or_(Resident.phone == phone, and_(User.phone == phone, User.active.is_(True))))
            .order_by(BuildingLeader.building, BuildingLeader.id)
        )
    )


def led_by(*, resident: Resident | None = None, user: User | None = None) -> list[BuildingLeader]:
    """The buildings a resident or a staff member leads."""
    if resident is not None:
        where = BuildingLeader.resident_id == resident.id
    elif user is not None:
        where = BuildingLeader.user_id == user.id
    else:
        return []
    return list(
        db.session.scalars(select(BuildingLeader).where(where).order_by(BuildingLeader.building))
    )


def known_buildings() -> list[str]:
    """Every building some resident lives in: the only ones a leader can lead."""
    return list(
        db.session.scalars(
            select(Resident.building)
            .where(Resident.building != "")
            .distinct()
            .order_by(Resident.building)
        )
    )


def is_known_building(building: str) -> bool:
    found = select(Resident.id).where(Resident.building == building).limit(1)
    return bool(building) and db.session.scalar(found) is not None


def appoint(
    building: str | None, *, resident_id: int | None = None, user_id: int | None = None
) -> BuildingLeader:
    """Make a resident (or a staff member) a leader of `building`; Refused says why not.

    The caller commits. The building must be one a resident's record names, so that a typo
    ("3号搂") does not make a leader of a building nobody lives in.
    """
    name = (building or "").strip()
    if not name:
        raise Refused("leaders.refused.no_building")
    if len(name) > MAX_BUILDING:
        raise Refused("leaders.refused.too_long", limit=MAX_BUILDING)
    resident = db.session.get(Resident, resident_id) if resident_id is not None else None
    user = db.session.get(User, user_id) if user_id is not None else None
    if resident is None and user is None:
        raise Refused("leaders.refused.unknown_person", id=resident_id or user_id or "")
    if not is_known_building(name):
        raise Refused("leaders.refused.unknown_building", building=name)
    person = resident or user
    assert person is not None
    if name in {leadership.building for leadership in led_by(resident=resident, user=user)}:
        raise Refused("leaders.refused.already", name=person.name, building=name)
    leadership = BuildingLeader(building=name, resident=resident, user=user)
    db.session.add(leadership)
    return leadership


def set_buildings(resident: Resident, buildings: Iterable[str]) -> None:
    """The resident leads exactly these buildings (the residents' CSV import); the caller
    has checked that they are known and commits."""
    wanted = set(buildings)
    for leadership in led_by(resident=resident):
        if leadership.building not in wanted:
            db.session.delete(leadership)
        wanted.discard(leadership.building)
    for building in sorted(wanted):
        db.session.add(BuildingLeader(building=building, resident=resident))


def grid_of(building: str) -> str:
    """The grid the residents of a building are in (the most of them, if records differ)."""
    count = func.count(Resident.id)
    return (
        db.session.scalar(
            select(Resident.grid)
            .where(Resident.building == building, Resident.grid != "")
            .group_by(Resident.grid)
            .order_by(count.desc(), Resident.grid)
            .limit(1)
        )
        or ""
    )


# ---------------------------------------------------------------- reading what they said

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER = re.compile("[零〇一二两三四五六七八九十百千]+")
# A space next to a Chinese or Korean character separates nothing (Vosk writes "三 号 楼").
SPACE_BY_WIDE = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")
ROOM = re.compile(
    r"(?:room|rm\.?|flat|apt\.?|#|房间)\s*(\d{3,4})(?!\d)"
    r"|(?<!\d)(\d{3,4})(?:室|호|號|房|号(?![楼樓院]))"
)
ANY_ROOM = re.compile(r"(?<!\d)\d{3,4}(?!\d)")
# How a neighbour is spoken of without their given name: 王阿姨, 老王, 김 할머니, Mrs Smith.
# Not 师傅: that is the plumber who came, not a neighbour.
CN_AFTER_SURNAME = (
    *("阿姨", "奶奶", "爷爷", "大爷", "大妈", "大娘", "婆婆", "老师"),
    *("叔叔", "伯伯", "大姐", "大哥", "姐", "哥", "叔", "姨"),
)
KO_AFTER_SURNAME = ("할머니", "할아버지", "아주머니", "아저씨", "어르신", "씨", "님")
EN_TITLES = ("mr", "mrs", "ms", "miss", "dr")


def _chinese_number(run: str) -> str:
    """三零二 -> 302 (read digit by digit), 三百零二 -> 302, 十二 -> 12."""
    if not any(char in CN_UNITS for char in run):
        return "".join(str(CN_DIGITS[char]) for char in run)
    total = digit = 0
    for char in run:
        if char in CN_UNITS:
            total += (digit or 1) * CN_UNITS[char]
            digit = 0
        else:
            digit = CN_DIGITS[char]
    return str(total + digit)


def fold(text: str) -> str:
    """Words as compared: full-width and case folded, Chinese numbers as digits, no spaces
    inside Chinese or Korean ("三 号 楼" is "3号楼"), other spaces single."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = SPACE_BY_WIDE.sub("", " ".join(folded.split()))
    return CN_NUMBER.sub(lambda match: _chinese_number(match.group()), folded)


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def mentions(folded_text: str, term: str) -> bool:
    """Whether the words hold `term` (folded) as a whole: "3号楼" is not in "13号楼", nor
    "building 3" in "building 30"."""
    if not term:
        return False
    before = r"(?<![0-9a-z])" if _latin(term[0]) else ""
    after = r"(?![0-9a-z])" if _latin(term[-1]) else ""
    return re.search(before + re.escape(term) + after, folded_text) is not None


def rooms_in(folded_text: str) -> set[str]:
    """The room numbers said: 302室, 302号, 302호, room 302."""
    return {first or second for first, second in ROOM.findall(folded_text)}


def room_of(address: str) -> str:
    """The room of an address: the one it names as such, else its last 3-4 digit number."""
    folded = fold(address)
    named = rooms_in(folded)
    if len(named) == 1:
        return named.pop()
    numbers = ANY_ROOM.findall(folded)
    return numbers[-1] if numbers else ""


def polite_forms(name: str) -> list[str]:
    """How neighbours name this person by surname (folded): 王阿姨, 老王, 김할머니, mrs smith."""
    folded = fold(name)
    if 2 <= len(folded) <= 4 and all("\u4e00" <= char <= "\u9fff" for char in folded):
        return [folded[0] + word for word in CN_AFTER_SURNAME] + ["老" + folded[0]]
    if 2 <= len(folded) <= 4 and all("\uac00" <= char <= "\ud7a3" for char in folded):
        return [folded[0] + word for word in KO_AFTER_SURNAME]
    words = folded.split()
    if len(words) >= 2 and all(_latin(char) for char in words[-1]):
        return [f"{title}{dot} {words[-1]}" for title in EN_TITLES for dot in ("", ".")]
    return []


def _one(found: Sequence[Resident]) -> Resident | None:
    return found[0] if len({resident.id for resident in found}) == 1 else None


def _narrowed(people: list[Resident], numbers: set[str]) -> list[Resident]:
    """Namesakes told apart by the room the words give, if they give one of theirs."""
    if len(people) > 1 and numbers:
        return [person for person in people if room_of(person.address) in numbers] or people
    return people


def find_neighbour(folded_text: str, residents: Sequence[Resident]) -> Resident | None:
    """The one resident the words name: by full name (the longest), else by room, else by
    surname and a polite word; a room number tells namesakes apart ("501的王阿姨": a bare
    number only does that). None when the words name nobody, or several people equally."""
    rooms = rooms_in(folded_text)
    numbers = rooms or set(ANY_ROOM.findall(folded_text))
    named = [r for r in residents if len(fold(r.name)) >= 2 and mentions(folded_text, fold(r.name))]
    if named:
        longest = max(len(fold(r.name)) for r in named)
        return _one(_narrowed([r for r in named if len(fold(r.name)) == longest], numbers))
    in_rooms = [r for r in residents if rooms and room_of(r.address) in rooms]
    if len(in_rooms) == 1:
        return in_rooms[0]
    people = in_rooms or residents  # several in the flat: the polite name may tell them apart
    polite = [r for r in people if any(mentions(folded_text, f) for f in polite_forms(r.name))]
    return _one(_narrowed(polite, numbers))


def named_building(folded_text: str, buildings: Sequence[str]) -> str:
    """The building among `buildings` the words name ("" if none); the longest name wins."""
    named = [building for building in buildings if mentions(folded_text, fold(building))]
    return max(named, key=len, default="")


# ---------------------------------------------------------------- a leader's report


def _residents_of(buildings: Sequence[str], leaders: Sequence[BuildingLeader]) -> list[Resident]:
    """The people the leader may be speaking of: the buildings' residents, not the leader."""
    themselves = [leader.resident_id for leader in leaders if leader.resident_id is not None]
    query = select(Resident).where(Resident.building.in_(buildings)).order_by(Resident.id)
    if themselves:
        query = query.where(Resident.id.not_in(themselves))
    return list(db.session.scalars(query))


def _own_building(leaders: Sequence[BuildingLeader]) -> str:
    """The building the leader lives in, if they lead it; else the first they lead."""
    for leader in leaders:
        if leader.resident is not None and leader.resident.building == leader.building:
            return leader.building
    return leaders[0].building


def _read(text: str, leaders: Sequence[BuildingLeader]) -> tuple[str, Resident | None]:
    """The building the words name and the neighbour they name ("", None: neither)."""
    folded = fold(text)
    if not folded:
        return "", None
    buildings = list(dict.fromkeys(leader.building for leader in leaders))
    building = named_building(folded, buildings)
    people = _residents_of([building] if building else buildings, leaders)
    neighbour = find_neighbour(folded, people)
    return building or (neighbour.building if neighbour else ""), neighbour


def _place(case: Case, building: str, neighbour: Resident | None) -> dict[str, str]:
    """Put the case in the building (and the neighbour's grid); returns what changed."""
    grid = (neighbour.grid if neighbour else "") or grid_of(building) or case.grid
    changes = {}
    if case.building != building:
        case.building = changes["building"] = building
    if case.grid != grid:
        case.grid = changes["grid"] = grid
    return changes


def _link_neighbour(case: Case, neighbour: Resident | None) -> None:
    if neighbour is None:
        return
    case.resident = neighbour
    add_event(case, EventKind.RESIDENT_LINKED, resident_id=neighbour.id, by=LEADER)


def take_leader_report(case: Case, phone: str, text: str) -> CaseReporter | None:
    """A case opened by a text or voicemail from `phone`: if a building leader sent it, the
    case is their building's, the neighbour the words name is its resident (else nobody
    yet), and the leader its reporter. None (nothing changed) for anyone else."""
    leaders = led_by_phone(phone)
    if not leaders:
        return None
    leader = leaders[0]
    building, neighbour = _read(text, leaders)
    building = building or _own_building(leaders)
    reporter = CaseReporter(
        case=case,
        role=LEADER,
        building=building,
        resident=next((lead.resident for lead in leaders if lead.resident), None),
        user=next((lead.user for lead in leaders if lead.user), None),
        name=leader.name,
        phone=phone,
        locale=case.locale,
    )
    db.session.add(reporter)
    case.resident = None  # the leader speaks for the building, not of themselves
    _place(case, building, neighbour)
    add_event(case, EventKind.LEADER_REPORT, leader=leader.name, building=building)
    _link_neighbour(case, neighbour)
    return reporter


def leader_reporter(case: Case) -> CaseReporter | None:
    return next((reporter for reporter in case.reporters if reporter.role == LEADER), None)


def name_from_new_words(case: Case, text: str) -> None:
    """New words on a leader's case (the voicemail's transcript, another text): the building
    and the neighbour they name, while the case has no resident yet."""
    if case.resident_id is not None or case.resident is not None:
        return
    reporter = leader_reporter(case)
    if reporter is None:
        return
    leaders = led_by_phone(reporter.phone)
    if not leaders:
        return
    building, neighbour = _read(text, leaders)
    if not building:
        return
    reporter.building = building
    changes = _place(case, building, neighbour)
    if changes:
        add_event(case, EventKind.LOCATION_CHANGED, **changes)
    _link_neighbour(case, neighbour)
