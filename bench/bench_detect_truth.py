"""Precision and recall of the detection rules against the demo world's ground truth.

The demo world (``demo.World``) knows, for every day, the violations and deviations a perfect
monitor raises. This bench assumes a perfect crawler: it writes the world's workspace (catalog and
both policy versions) into a fresh SQLite database, stores one observation per page (or per
marketplace offer) as the truth says it was shown, runs the rules pass, and compares the findings
with the truth by (day, rule, partner or seller, SKU). So it measures detection alone; the whole
pipeline (crawl → extract → detect) is measured by the demo's own end-to-end run.

    .venv/bin/python bench/bench_detect_truth.py [--seed 7] [--products 50] [--days 1-28]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The demo world names rules after its scenarios; detection names them after what they test.
RULES = {"map": "below_map", "recommended": "below_recommended", "maximum": "above_maximum",
         "hidden_price": "hidden_price", "unauthorised_seller": "unauthorised_seller"}


def _key(day: int, rule: str, party: str | None, seller: str | None, sku: str) -> tuple[int, str, str, str]:
    return (day, rule, party or f"seller:{seller}", sku)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--days", default="1-28", help="range of simulated days, e.g. 1-28")
    args = parser.parse_args()
    first, _, last = args.days.partition("-")
    days = range(int(first), int(last or first) + 1)

    tmp = Path(tempfile.mkdtemp(prefix="pw-truth-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(tmp)
    os.environ.pop("PRICEWARDEN_DATABASE_URL", None)
    from pricewarden.settings import get_settings

    get_settings.cache_clear()

    from demo.catalog import TIMEZONE, day_date
    from demo.workspace import write_workspace
    from demo.world import World
    from detection.frames import observations_frame
    from detection.policy_bridge import load_rule_frames
    from detection.rules import judge
    from policies import publish_policy
    from pricewarden.keys import digest_key
    from store import Listing, Observation, Partner, Product, session_scope, upgrade
    from store.catalog import import_catalog

    world = World(seed=args.seed, products=args.products)
    write_workspace(tmp, world)
    upgrade()
    import_catalog(tmp / "catalog")
    zone = ZoneInfo(TIMEZONE)
    truth: set[tuple[int, str, str, str]] = set()
    with session_scope() as session:
        for path in sorted((tmp / "policies").glob("*.yaml")):
            publish_policy(session, path)
        products = {p.sku: p.id for p in session.query(Product)}
        partners = {p.code: p.id for p in session.query(Partner)}
        listings = {listing.url: listing for listing in session.query(Listing)}
        n = 0
        for day in days:
            t = world.truth(day)
            for v in t["violations"]:
                truth.add(_key(day, RULES[v["rule"]], v["partner"], v["seller_id"], v["sku"]))
            # Noon New York time: inside the day whatever the policy's own windows are.
            at = datetime.combine(day_date(day), dtime(12), tzinfo=zone)
            for page in t["pages"]:
                failure = page["failure"]
                if (failure and failure["persistent"]) or page.get("page_type") not in ("product", "offers"):
                    continue
                listing = listings.get(page["url"])
                offers = page["offers"] or [{"seller_id": None, "seller": page["seller"], "partner": page["partner"],
                                             "price": page["cart_price"] or page["price"]}]
                hidden = page["price_visibility"] == "cart"
                for offer in offers:
                    price = offer["price"] if not hidden else page["cart_price"]
                    n += 1
                    session.add(Observation(
                        obs_key=digest_key(f"{page['url']}|{offer['seller_id']}|{day}"),
                        source="crawl", listing_id=listing.id if listing else None, product_id=products[page["sku"]],
                        partner_id=partners.get(offer["partner"] or ""), seller_id=offer["seller_id"],
                        seller_name=offer["seller"], url=page["url"], observed_at=at,
                        price=Decimal(price) if price else None, currency=page["currency"],
                        raw_text=price, visibility="cart_only" if hidden else "visible"))
        session.flush()
        obs = observations_frame(session).reset_index(drop=True)
        frames = load_rule_frames(session)
        started = time.perf_counter()
        judgement = judge(obs, frames)
        elapsed = time.perf_counter() - started
    found: set[tuple[int, str, str, str]] = set()
    day_of = {d: d for d in days}
    first_date = day_date(days[0])
    for record in judgement.findings.to_dict("records"):
        o = obs.iloc[int(record["pos"])]
        day = (o["observed_at"].tz_convert(zone).date() - first_date).days + days[0]
        found.add((day_of.get(day, day), str(record["rule"]), str(o["party"]), str(o["sku"])))
    hits = truth & found
    print(f"seed {args.seed}, {args.products} products, days {days[0]}-{days[-1]}: {n:,} observations, "
          f"rules pass {elapsed * 1000:.0f} ms")
    print(f"truth {len(truth)} findings, detected {len(found)}, matched {len(hits)}")
    precision = len(hits) / len(found) if found else 1.0
    recall = len(hits) / len(truth) if truth else 1.0
    print(f"precision {precision:.3f}, recall {recall:.3f}")
    by_rule: dict[str, Counter[str]] = {}
    for label, items in (("truth", truth), ("found", found), ("hit", hits)):
        for key in items:
            by_rule.setdefault(key[1], Counter())[label] += 1
    for rule, c in sorted(by_rule.items()):
        print(f"  {rule:22s} truth {c['truth']:4d}  found {c['found']:4d}  matched {c['hit']:4d}")
    from detection.anomaly import AnomalyParams, features, fit, score

    params = AnomalyParams.from_settings()
    res = judgement.resolved
    obs = obs.assign(in_window=(res["floor_e4"] != -1) & (res["floor_e4"] < res["base_floor_e4"]))
    feats = features(obs, params)
    flagged = score(fit(feats[feats["history"] >= params.min_history], params), feats, params)
    print(f"anomalies (not in the truth's violations; the world's price war is AC-120, days 8-12): "
          f"{len(flagged)} points")
    for rule, group in flagged.groupby("rule"):
        points = obs.loc[group["index"]]
        days_seen = sorted({(t.tz_convert(zone).date() - first_date).days + days[0] for t in points["observed_at"]})
        print(f"  {rule:14s} {len(group):3d}: SKUs {sorted(set(points['sku']))[:6]}, days {days_seen[:10]}")
        if os.environ.get("PW_TRUTH_VERBOSE"):
            for index, drivers in zip(group["index"], group["drivers"], strict=True):
                o = obs.loc[index]
                print("     ", o["sku"], o["party"], o["observed_at"].date(), o["price_e4"] / 10_000,
                      [(d["feature"], d["value"]) for d in drivers])
    missed, extra = sorted(truth - found)[:5], sorted(found - truth)[:5]
    if missed:
        print("  missed (first 5):", missed)
    if extra:
        print("  not in truth (first 5):", extra)


if __name__ == "__main__":
    main()
