"""A product page written for one principle of the extraction cascade, and its JSON-LD (for the tests that need
nothing of a page but a header, a main part holding the buy box and a footer)."""

from __future__ import annotations

import json


def page(body: str, lang: str, ld: dict | None = None, *, name: str = "Producto") -> str:
    """A page in ``lang`` whose ``<main>`` is ``body``, with ``ld`` as its JSON-LD when given; ``name`` is its title."""
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{name}</title>{script}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Shop</footer></body></html>")


def product(price: str, currency: str, availability: str = "InStock", *, name: str = "Producto") -> dict:
    """A schema.org Product named ``name`` with one Offer of ``price`` in ``currency``."""
    return {"@context": "https://schema.org", "@type": "Product", "name": name, "sku": "SKU-1",
            "offers": {"@type": "Offer", "price": price, "priceCurrency": currency,
                       "availability": f"https://schema.org/{availability}"}}
