"""Scoping: channel managers see only their partners, partners only their own data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from pricewarden.errors import AccessDenied
from pricewarden.keys import digest_key
from store import Observation, Partner, Role, Source, User, session_scope
from store.access import check_partner, scope, visible_partner_ids


@pytest.fixture
def world(db: Engine) -> dict[str, int]:
    with session_scope(db) as s:
        carl = User(username="carl", role=Role.CHANNEL_MANAGER, regions=["US"])
        elena = User(username="elena", role=Role.CHANNEL_MANAGER, regions=["EU"])
        bianca = User(username="bianca", role=Role.BRAND_MANAGER)
        s.add_all([carl, elena, bianca])
        s.flush()
        p1 = Partner(code="P1", name="One", regions=["US"], channel_manager_id=carl.id)
        p2 = Partner(code="P2", name="Two", regions=["EU"], channel_manager_id=elena.id)
        p3 = Partner(code="P3", name="Orphan", regions=["EU"])  # no manager: EU region fallback
        s.add_all([p1, p2, p3])
        s.flush()
        portal = User(username="p1-portal", role=Role.PARTNER, partner_id=p1.id)
        lost = User(username="lost", role=Role.PARTNER)
        ex = User(username="ex", role=Role.PARTNER, partner_id=p2.id, active=False)
        s.add_all([portal, lost, ex])
        now = datetime.now(UTC)
        for i, partner in enumerate([p1, p2, p3, None]):
            s.add(Observation(obs_key=digest_key(f"k{i}"), source=Source.CRAWL, observed_at=now,
                              partner_id=partner.id if partner else None))
        s.flush()
        return {"P1": p1.id, "P2": p2.id, "P3": p3.id}


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("bianca", {"P1", "P2", "P3", None}),
        ("carl", {"P1"}),
        ("elena", {"P2", "P3"}),
        ("p1-portal", {"P1"}),
        ("lost", set()),
        ("ex", set()),
    ],
)
def test_each_role_sees_exactly_its_scope(db: Engine, world: dict[str, int], username: str, expected: set) -> None:
    names = {v: k for k, v in world.items()}
    with session_scope(db) as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        rows = s.scalars(scope(s, user, select(Observation), Observation.partner_id)).all()
        assert {names.get(o.partner_id) for o in rows} == expected


def test_check_partner_refuses_other_partners(db: Engine, world: dict[str, int]) -> None:
    with session_scope(db) as s:
        portal = s.scalar(select(User).where(User.username == "p1-portal"))
        assert portal is not None
        check_partner(s, portal, world["P1"])
        with pytest.raises(AccessDenied, match="p1-portal"):
            check_partner(s, portal, world["P2"])
        with pytest.raises(AccessDenied):
            check_partner(s, portal, None)
        bianca = s.scalar(select(User).where(User.username == "bianca"))
        assert bianca is not None
        assert visible_partner_ids(s, bianca) is None


def test_a_manager_who_sees_most_partners_sees_exactly_them(db: Engine, world: dict[str, int]) -> None:
    # Past half the partners the scope names the hidden ones (P1 and P5, one of them between visible ids).
    with session_scope(db) as s:
        carl = s.scalar(select(User).where(User.username == "carl"))
        assert carl is not None
        added = [Partner(code="P4", name="Four", regions=["EU"]),
                 Partner(code="P5", name="Five", regions=["US"], channel_manager_id=carl.id),
                 Partner(code="P6", name="Six", regions=["EU"])]
        s.add_all(added)
        s.flush()
        for i, partner in enumerate(added):
            s.add(Observation(obs_key=digest_key(f"more{i}"), source=Source.CRAWL, observed_at=datetime.now(UTC),
                              partner_id=partner.id))
    with session_scope(db) as s:
        elena = s.scalar(select(User).where(User.username == "elena"))
        assert elena is not None
        codes = {p.id: p.code for p in s.scalars(select(Partner))}
        seen = s.scalars(scope(s, elena, select(Observation.partner_id), Observation.partner_id)).all()
        assert sorted(codes.get(pid or 0, "none") for pid in seen) == ["P2", "P3", "P4", "P6"]
