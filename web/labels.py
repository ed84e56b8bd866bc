"""People's words for the store's codes (statuses, kinds, rules, severities), marked for translation."""

from __future__ import annotations

from web.i18n import N_, Translator

LABELS: dict[str, str] = {
    # statuses
    "open": N_("open"), "acknowledged": N_("acknowledged"), "resolved": N_("resolved"), "dismissed": N_("dismissed"),
    # kinds
    "violation": N_("violation"), "deviation": N_("deviation"), "anomaly": N_("anomaly"),
    # rules
    "below_map": N_("below MAP"), "above_msrp": N_("above MSRP"), "max_discount": N_("over the maximum discount"),
    "below_recommended": N_("below the recommended price"), "above_maximum": N_("above the maximum price"),
    "hidden_price": N_("hidden price"), "unauthorised_seller": N_("unauthorised seller"),
    "partner_misreport": N_("misreported price"), "stale_listing": N_("stale listing"), "price_war": N_("price war"),
    "sudden_drop": N_("sudden drop"), "market_drag": N_("below the market"), "report_drift": N_("report drift"),
    # severities
    "low": N_("low"), "medium": N_("medium"), "high": N_("high"), "critical": N_("critical"),
    # modes
    "map": N_("MAP"), "recommended": N_("recommended"), "maximum": N_("maximum"), "observe": N_("observe"),
    # snooze view
    "hide": N_("hide snoozed"), "only": N_("only snoozed"), "all": N_("with snoozed"),
    # roles
    "admin": N_("administrator"), "brand_manager": N_("brand manager"), "channel_manager": N_("channel manager"),
    "partner": N_("partner"),
    # delivery statuses
    "sent": N_("sent"), "queued": N_("queued"), "sending": N_("sending"), "failed": N_("failed"),
    "refused": N_("refused"),
    # partner responses and their re-crawl (the same words serve a complaint's progress)
    "corrected": N_("price corrected"), "dispute": N_("disputed"),
    "recrawl_queued": N_("waiting"), "recrawl_running": N_("being checked"), "recrawl_done": N_("checked"),
    "recrawl_failed": N_("the page could not be read"), "recrawl_none": N_("no page to check"),
    # complaint outcomes
    "outcome_violation": N_("violation found"), "outcome_compliant": N_("compliant"),
    "outcome_not_our_product": N_("not the brand's product"), "outcome_unreadable": N_("the page could not be read"),
    # policy windows
    "promotion": N_("promotion"), "exemption": N_("exemption"),
    # price confirmation (failed: as delivery statuses)
    "not_needed": N_("not needed"), "pending": N_("waiting for a second reading"), "agreed": N_("agreed"),
    "disagreed": N_("readings disagree"), "confirmed": N_("confirmed by a person"),
    # evidence check
    "verified": N_("verified"), "mismatch": N_("MISMATCH"), "missing": N_("missing"),
}


def label(translator: Translator, code: str | None) -> str:
    """The translated word for ``code`` (the code itself when it has none)."""
    if code is None:
        return "–"
    return translator(LABELS[code]) if code in LABELS else code


__all__ = ["LABELS", "label"]
