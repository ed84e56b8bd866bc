"""A page that says its price is not given online shows no price, whatever its structured data still carries.

heldout23's pharmacy lists a prescription-only medicine with "Prezzo non disponibile online" and a link to
reserve it in the pharmacy; its JSON-LD nevertheless has an offer at 9.80 (InStoreOnly), and the carousel of
over-the-counter products below has prices. The page charges nothing online: no price, said so.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawlers.extract import extract

_PAGE = """<!doctype html><html lang="{lang}"><head><title>{title}</title>
<script type="application/ld+json">{ld}</script></head><body>
<div class="product-info"><h1>{title}</h1>
<div class="price-box">{buy}</div></div>
<section class="related"><h2>{related}</h2>
<div class="card"><a href="/p/2">Paracetamolo 500 mg 20 compresse</a> <span class="price">4,90 €</span>
<s>5,50 €</s> <button>{button}</button></div>
<div class="card"><a href="/p/3">Vitamina C 1000 mg</a> <span class="price">8,90 €</span>
<button>{button}</button></div>
</section></body></html>"""


def _page(lang: str, title: str, buy: str, related: str, button: str) -> str:
    ld = json.dumps({"@context": "https://schema.org", "@type": "Product", "name": title,
                     "offers": {"@type": "Offer", "price": "9.80", "priceCurrency": "EUR",
                                "availability": "https://schema.org/InStoreOnly"}})
    return _PAGE.format(lang=lang, title=title, buy=buy, related=related, button=button, ld=ld)


@pytest.mark.parametrize(("lang", "host", "buy", "related", "button"), [
    ("it", "www.farmacia.example.it",
     '<p class="rx">Medicinale soggetto a prescrizione medica. Prezzo non disponibile online.</p>'
     '<a href="/prenota">Prenota in farmacia</a>', "Potrebbe interessarti anche", "Aggiungi al carrello"),
    ("de", "www.apotheke.example.de",
     '<p>Verschreibungspflichtig: Preis nicht online verfügbar.</p><a href="/reservieren">In der Apotheke '
     'reservieren</a>', "Das könnte Sie auch interessieren", "In den Warenkorb"),
    ("fr", "www.pharmacie.example.fr",
     '<p>Médicament sur ordonnance – prix non disponible en ligne.</p><a href="/reserver">Réserver</a>',
     "Vous aimerez aussi", "Ajouter au panier"),
])
def test_a_price_not_given_online_is_no_price(lang: str, host: str, buy: str, related: str, button: str) -> None:
    ext = extract(_page(lang, "Amoxiclan 1 g 12 compresse", buy, related, button), f"https://{host}/amoxiclan")
    assert ext.price is None, (ext.price, ext.flags, ext.candidates)
    assert "no_price_shown:on_request" in ext.flags


def test_a_price_shown_with_an_in_store_pickup_stands() -> None:
    """A page that shows its price in the buy box keeps it, pickup in the pharmacy or not."""
    ext = extract(_page("it", "Amoxiclan 1 g 12 compresse",
                        '<span class="price">9,80 €</span> <a href="/prenota">Ritiro in farmacia</a>'
                        '<button class="add-to-cart">Aggiungi al carrello</button>',
                        "Potrebbe interessarti anche", "Aggiungi al carrello"),
                  "https://www.farmacia.example.it/amoxiclan")
    assert ext.price == Decimal("9.80"), (ext.flags, ext.undecided)
