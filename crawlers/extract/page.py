"""One page parsed once: decoded text, the selectolax tree, locale, and page-level signals.

Every step of the cascade reads this same :class:`Page`, so the HTML is decoded and parsed a single
time (parsing dominates the cost on real 430 KB pages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from selectolax.lexbor import LexborDocumentOptions, LexborHTMLParser, LexborNode

from crawlers.extract.stylesheet import StyleHiding
from pricewarden.locales import country_of_host, locale_for_territory

__all__ = ["PRICE_NAME", "STRUCK", "USER_CONTENT_NAME", "Page", "decode_html", "shown_longer"]

# Elements showing a struck-through or was/list-labelled amount (the list price beside the current one).
STRUCK = ("del, s, strike, [style*=line-through], [class*=line-through i], [class*=was i], [class*=old i], "
          "[class*=strike i], [class*=list i], [class*=compare i], [class*=original i], [class*=regular i], "
          "[class*=msrp i]")

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.I)
_LANG = re.compile(
    r"""<html[^>]*\slang=["']?([A-Za-z]{2,3}(?:[-_][A-Za-z]{4})?(?:[-_](?:[A-Za-z]{2}|\d{3}))?)(?![\w-])""", re.I)
_OG_LOCALE = re.compile(r"""<meta[^>]+property=["']og:locale["'][^>]+content=["']([A-Za-z_\-]+)""", re.I)


# What shoppers write (reviews, ratings' texts, questions and answers, comments) is not what the shop offers: an amount
# quoted there ("paid 899,95 kr in November") is never the price, nor confirms one. Found by schema.org markup
# (Review, Question, Answer, Comment; ``itemprop="review"``, ``reviewBody``) and by the names themes give such blocks
# (class, id, aria-label) in several languages, where the word stands as a word ("product-reviews", "ProductReviews",
# never "preview").
USER_CONTENT_NAME = re.compile(
    # (a long stem of one language anywhere in a name: compounds, "kundenbewertungen", "produktanmeldelser")
    r"(?i:bewertung|rezension|anmeldelse|omdöm|arvostel|recensi|recenz|értékel|yorum|отзыв)|"
    r"(?:(?<![^\W_])|(?<=[a-zà-ÿ])(?=[A-Z]))(?i:reviews?|comments?|questions?|answers?|testimonials?|avis|"
    r"opini[oó]n(?:es|i)?|otzyv(?:y)?|kommentar(?:e|er)?|comentarios?|preguntas?|fragen?|(?-i:qa)|q-?and-?a)"
    r"(?:(?![^\W_])|(?=[A-Z]))")
# Never taken for what shoppers write, whatever its names: the page itself, an element holding the title or the
# offer's machine-readable price (a wrapper named "has-reviews"), and one its names also call a price (a tile's
# "productReviewPrice", its stars beside its price)
_NOT_USER_CONTENT = frozenset({"html", "body", "main"})
_OFFER_DATA = "h1, [itemprop=price], [itemprop=offers]"
PRICE_NAME = re.compile(r"price|preis|prix|precio|prezzo|pre[cç]o|prijs|fiyat|cijena", re.I)


def _written_by_shoppers(node: LexborNode) -> bool:
    """Whether ``node`` holds what shoppers write (:data:`USER_CONTENT_NAME`, schema.org markup) and not the offer."""
    attrs = node.attributes
    marked = (attrs.get("itemprop") in {"review", "reviewBody", "comment", "acceptedAnswer", "suggestedAnswer"}
              or any(kind in (attrs.get("itemtype") or "") for kind in ("Review", "Question", "Answer", "Comment"))
              or any(USER_CONTENT_NAME.search(attrs.get(name) or "") for name in ("class", "id", "aria-label")))
    names = f"{attrs.get('class')} {attrs.get('id')}"
    return (marked and node.tag not in _NOT_USER_CONTENT and not PRICE_NAME.search(names)
            and node.css_first(_OFFER_DATA) is None)


def _in_user_content(node: LexborNode | None) -> bool:
    """Whether ``node`` or an ancestor holds what shoppers write (:func:`_written_by_shoppers`)."""
    while node is not None and node.tag not in _NOT_USER_CONTENT:
        if _written_by_shoppers(node):
            return True
        node = node.parent
    return False


def decode_html(data: bytes | str, encoding: str | None = None) -> str:
    """HTML bytes as text: the given encoding, else the declared ``<meta charset>``, else UTF-8, else a guess."""
    return _decode(data, encoding)[0]


_UTF8 = {"utf-8", "utf8", "utf_8"}
_BOM = b"\xef\xbb\xbf"
_INVISIBLE = "script, style, noscript, template"
_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template"})
# The controls a shopper buys with (:attr:`Page.buy_button` reads the first that says so)
_BUY_CONTROLS = ("button, input[type=submit], input[type=button], a[class*=cart i], a[id*=cart i], a[class*=buy i], "
                 "[role=button]")
# Elements a shopper cannot see: the ``hidden`` attribute, an inline ``display: none`` / ``visibility: hidden``, a
# class that hides at every width in the common toolkits (Tailwind, Bootstrap, Foundation, Bulma, Shopify's themes:
# ``hidden``, ``hide``, ``d-none``, ``is-hidden``, ``invisible``). Themes print the other states of a product in
# such templates (a sale block, a members' price, an out-of-stock variant's price and "Sold out" label) for their
# scripts to show. Never a screen reader's text (``sr-only``, ``visually-hidden``: a shopper's assistive technology
# reads it), nor a class that hides at one width only (``hidden-xs``, ``d-md-none``). Buy controls and the title
# are not searched as such (``:not(...)``): a control is judged by its own state, and a node is listed either as one
# of them or as a hiding element, never both.
_HIDING_CLASSES = frozenset({"hidden", "hide", "d-none", "is-hidden", "invisible"})
_HIDING = (":is([hidden], [style*=none], [style*=hidden], dialog:not([open]), "
           + ", ".join(f".{name}" for name in sorted(_HIDING_CLASSES)) + "):not(h1, button, input, a, [role])")
_HIDING_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)
# A class that shows the element again from some width on ("hidden md:block", "d-none d-lg-flex", "invisible
# sm:visible"): the element is hidden only on a narrow screen
_SHOWN_AT_WIDTH = re.compile(r"(?:max-)?(?:sm|md|lg|xl|2xl):(?:block|flex|grid|inline|inline-\w+|table|contents|"
                             r"visible)|d-(?:sm|md|lg|xl|xxl)-(?!none)[\w-]+|visible-\S+|show-for-\S+")
# What a hidden element may hold that is not shown to be read: the product's title (a page does not hide the title
# of what it sells: a class read wrongly, or one a script removes), machine-readable data (microdata, RDFa, read by
# the structured step) and a variant selector's state (a native select behind swatches)
# A screen reader's text: a shopper's assistive technology reads it (never hidden by a stylesheet's rule either)
_SCREEN_READER = re.compile(r"(?:^|[\W_])(?:sr-only|visually-?hidden|screen-reader-text|a11y-hidden)(?:$|[\W_])",
                            re.I)
_KEPT_HIDDEN = "h1, select, option, input[type=radio], [itemprop], [itemtype], [property], [typeof]"
# All in one search: lexbor's cost is the walk over the tree, not these selectors (0.6 ms a page either way; the
# buy controls' own search was 0.45 ms more, the first h1's 0.15)
_SEARCHED = f"{_INVISIBLE}, {_BUY_CONTROLS}, h1, {_HIDING}"
_CONTROL_TAGS = frozenset({"button", "input", "a"})
_DIGIT = re.compile(r"\d")  # (what every selector of _BUY_CONTROLS names, with [role])
# Without the DOM mutation events (selectedcontent mirroring and the like): a shopper's text needs none.
_PARSE = LexborDocumentOptions.WO_EVENTS


def _hides(node: LexborNode) -> bool:
    """Whether ``node`` (listed by :data:`_HIDING`) is hidden from a shopper at every width."""
    attrs = node.attributes
    if "hidden" in attrs or (node.tag == "dialog" and "open" not in attrs):
        return True
    style = attrs.get("style")
    if style and _HIDING_STYLE.search(style):
        return True
    names = (attrs.get("class") or "").lower().split()
    return not _HIDING_CLASSES.isdisjoint(names) and not any(map(_SHOWN_AT_WIDTH.fullmatch, names))


def _leave_hidden(hiding: list[LexborNode]) -> list[LexborNode]:
    """Take the hidden elements that print a number out of the tree, but those holding what :data:`_KEPT_HIDDEN`
    names; those taken out. Their amounts are then neither read as shown nor confirm anything, like a script's.

    A hidden element without a digit stays: a label a theme hides from sight names the amount beside it as a
    screen reader's does (``<span class="hidden">Was</span> $24.99``)."""
    left = []
    for node in hiding:
        if _prints_a_number(node):
            node.decompose(recursive=False)  # (out of the tree, as scripts are; a hidden one inside goes with it)
            left.append(node)
    return left


def _takes_out(node: LexborNode) -> bool:
    """Whether ``node``, hidden by the page's stylesheet, leaves the tree (:func:`_leave_hidden`'s test: a number,
    nothing kept, and neither a buy control nor the title, which :data:`_HIDING` never lists, nor a screen reader's
    text, whatever a stylesheet says of it)."""
    attrs = node.attributes
    return (node.tag not in _CONTROL_TAGS and node.tag != "h1" and "role" not in attrs
            and not _SCREEN_READER.search(attrs.get("class") or "") and _prints_a_number(node))


def _prints_a_number(node: LexborNode) -> bool:
    """Whether a hidden ``node`` prints a digit and holds nothing :data:`_KEPT_HIDDEN` names (what makes a hidden
    element leave the tree, whatever hid it)."""
    return _DIGIT.search(node.text(deep=True)) is not None and node.css_first(_KEPT_HIDDEN) is None


def disabled(node: LexborNode) -> bool:
    """Whether a control says it cannot be pressed: the ``disabled`` attribute, ``aria-disabled="true"``, or the class
    every stylesheet convention draws a disabled control with (Bootstrap's ``btn disabled``, WooCommerce's
    ``single_add_to_cart_button disabled`` until a variation is chosen)."""
    attrs = node.attributes
    return ("disabled" in attrs or (attrs.get("aria-disabled") or "").strip().lower() == "true"
            or not {"disabled", "is-disabled"}.isdisjoint((attrs.get("class") or "").split()))


def shown_longer(text: str, limit: int) -> bool:
    """Whether ``text`` as shown (every run of blanks one space) is longer than ``limit`` characters, without
    collapsing a long text: n words show at least 2n - 1 characters, so only the first words are split."""
    if len(text) <= limit:
        return False
    words = text.split(None, limit // 2 + 1)
    return len(words) > limit // 2 + 1 or len(" ".join(words)) > limit


def _in_tree(node: LexborNode) -> bool:
    """Whether ``node`` is still in the page's tree (no hidden element around it was taken out)."""
    while node.parent is not None:
        node = node.parent
    return node.is_document_node


def _utf8_as_is(data: bytes, encoding: str | None) -> bool:
    """True when ``data`` is declared UTF-8 and has no BOM: the parser reads such bytes as they are."""
    return encoding is not None and encoding.lower() in _UTF8 and not data.startswith(_BOM)


def _decode(data: bytes | str, encoding: str | None) -> tuple[str, bytes | None]:
    """The text, and the UTF-8 bytes it was decoded from (``None`` when it was not UTF-8).

    The parser reads UTF-8 bytes as they are; handing it text instead makes it encode all of a
    non-ASCII page again (a third of the parse on real pages).
    """
    if isinstance(data, str):
        return data, None
    if encoding:
        text = data.decode(encoding, errors="replace")
        return text, (data if _utf8_as_is(data, encoding) else None)
    if data.startswith(_BOM):
        return data[3:].decode("utf-8", errors="replace"), data[3:]
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        if name in {"gb2312", "gbk"}:
            name = "gb18030"  # GB2312/GBK pages routinely use characters only GB18030 defines
        try:
            return data.decode(name), (data if name in _UTF8 else None)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        return data.decode(best.encoding if best else "latin-1", errors="replace"), None


# --- page-level signals: kept as data so that new languages are a line, not code ---------------------
_CAPTCHA = re.compile(
    r"captcha|are you a (?:human|robot)|verify you are (?:a )?human|not a robot|unusual traffic|"
    r"bot detection|人机验证|验证码|请完成安全验证",
    re.I,
)
_BLOCKED = re.compile(r"access denied|request (?:was )?blocked|pardon our interruption|you have been blocked|"
                      r"访问被拒绝", re.I)
_LOGIN = re.compile(
    r"(?:please |you must )?(?:log ?in|sign ?in) to (?:continue|view|see|access)|请登录|登录后查看", re.I
)
# Said by a page that is not (or no longer) the product; a heading says it only in words (a product
# may be called "404").
_GONE_WORDS = (
    r"page (?:not found|cannot be found|you requested)|(?:product|item) (?:is )?(?:not found|no longer "
    r"(?:exists|available))|we couldn'?t find (?:that|this|the) page|can'?t find what you'?re looking for|"
    r"(?:doesn'?t|does not) exist any ?more|(?:item|product) (?:has been|is|was) discontinued|"
    r"页面不存在|商品已下架|找不到"
)
_NOT_FOUND = re.compile(r"\b404\b|" + _GONE_WORDS, re.I)
_NOT_FOUND_HEADING = re.compile(_GONE_WORDS, re.I)
_CART_ONLY = re.compile(
    r"(?:add|place|put)(?: (?:it|this|item|items))? (?:to|in) (?:your )?(?:cart|bag|basket) to (?:see|view|get)"
    r"(?: (?:the|our|final))? price|see (?:the )?(?:final )?price in (?:your )?(?:cart|bag|checkout)|"
    r"price (?:shown|revealed|available) in (?:the )?cart|too low to (?:show|display)|"
    r"in den warenkorb legen,? um den preis|加入购物车(?:后)?查看价格|购物车中查看价格|カートに入れて価格|"
    r"click (?:here )?(?:for|to (?:see|view|reveal)) (?:the |our )?price|"
    # (the same in the other languages of the shops read: add to the cart to see the price, the price in the
    # cart, too low to show)
    r"(?:añad|agreg|adicion|ajout|aggiung|voeg|leg|dodaj)\w* (?:\w+ )?(?:al|ao|au|à|in|aan|toe aan|do) "
    r"(?:el |o |le |il |la |de |je )?"
    r"(?:carrito|cesta|carrinho|sacola|panier|carrello|winkelwagen|winkelmand|koszyka),? "
    r"(?:para|pour|per|om|aby) (?:ver|voir|vedere|visualizzare|zobaczyć|de prijs te zien|onze prijs te zien)|"
    r"precio (?:en el carrito|demasiado bajo)|preço (?:no carrinho|visível no carrinho)|"
    r"prix (?:dans le panier|trop bas)|"
    r"prezzo (?:nel carrello|troppo basso)|prijs (?:in (?:de |je )?winkelwagen|te laag)|cen[aęy] w koszyku|"
    r"preis (?:im warenkorb|zu niedrig)|장바구니에\s?담(?:으면|아야)\s?(?:가격|할인가)",
    re.I,
)
_LOGIN_PRICE = re.compile(
    r"(?:log ?in|sign ?in|register)(?: now)? (?:to|for) (?:see|view|get)?\s*(?:the |your |our )?(?:price|pricing)|"
    r"price (?:available )?(?:after|upon) (?:log ?in|sign ?in)|登录(?:后)?查看价格|会员价.{0,6}登录|"
    # (log in, sign up or register to see the prices, in the other languages of the shops read)
    r"(?:inicia(?:r)? sesión|regístrate|identifícate|accede|faça (?:o )?login|cadastre-se|connectez-vous|"
    r"identifiez-vous|inscrivez-vous|accedi|registrati|log in|inloggen|meld je aan|zaloguj się|"
    r"melden sie sich an|anmelden|einloggen|registrieren)(?: \w+)?,? (?:para|pour|per|om|aby|um) "
    r"(?:ver|voir|afficher|consulter|vedere|visualizzare|zobaczyć|(?:de |uw |je )?prijz|(?:die |ihre )?preis)\w*|"
    r"preise? (?:nur )?nach (?:der )?anmeldung|ログインして価格|로그인\s?(?:후|하시면)\s?가격|"
    # (and in the Nordic languages, through a national login or not: "Log ind med MitID for at se din pris", "Logga in
    # med BankID för att se ditt pris", "Logg inn for å se dine priser", "Kirjaudu sisään nähdäksesi hinnat")
    r"(?:log ind|logga in|logg inn)(?: med [\w-]+)? (?:for at|för att|for å) (?:se|visa|vise) "
    r"(?:din |dine |ditt |dina |vores |våra |våre )?pris|kirjaudu(?: sisään)? nähdäksesi hin",
    re.I,
)
_OUT_OF_STOCK = re.compile(
    r"out of stock|sold out|currently unavailable|no longer available|ausverkauft|nicht verfügbar|"
    r"épuisé|agotado|esaurito|缺货|售罄|无货|在庫切れ|품절",
    re.I,
)
_IN_STOCK = re.compile(r"in stock|add to (?:cart|bag|basket)|buy now|auf lager|en stock|有货|现货|在庫あり", re.I)
_BUY_BUTTON = re.compile(
    r"add to (?:cart|bag|basket|trolley)|buy (?:it )?now|add to order|in den warenkorb|ajouter au panier|"
    r"añadir al carrito|aggiungi al carrello|加入购物车|立即购买|カートに入れる|장바구니|"
    # (the same in the other languages of the shops read: cart, basket, bag, trolley)
    r"(?:agregar|añadir) a(?:l| la) (?:carrito|cesta|bolsa)|adicionar (?:ao|à) (?:carrinho|sacola)|"
    r"in den (?:einkaufswagen|korb)|in (?:de )?winkel(?:wagen|mand)|aan winkelwagen|do koszyka|"
    r"lägg i (?:varukorg|kundvagn)(?:en)?|legg i handlekurv(?:en)?|læg i (?:indkøbs)?kurv(?:en)?|"
    r"lisää ostoskoriin|do košíku|kosárba|"
    r"adaugă în coș|sepete ekle|в корзину|до кошика|στο καλάθι|vào giỏ|ke keranjang|ke troli|ลงตะกร้า|"
    r"masukkan keranjang|ใส่รถเข็น|ไปยังรถเข็น|ใส่ตะกร้า|カートへ入れる|かごに入れる|かごに追加|הוספה לסל|أضف للسلة|"
    r"أضف إلى السلة|הוסף לסל|加入購物車|立即購買|カートに追加|"
    # (and "buy now" in those languages: a marketplace's buy box may have no cart button)
    r"comprar (?:ahora|agora|ya)|acheter maintenant|jetzt kaufen|(?:acquista|compra) ora|kup (?:teraz|teď)|"
    r"koop nu|köp nu|kjøp nå|køb nu|osta nyt|koupit (?:teď|nyní)|kúpiť teraz|vásárlás most|cumpără acum|"
    r"hemen al|şimdi al|купить сейчас|купити зараз|mua ngay|beli sekarang|ซื้อเลย|ซื้อทันที|ซื้อสินค้า|"
    r"اشتر(?:ي)? الآن|קנה עכשיו|구매하기|"
    r"今すぐ購入|今すぐ買う|바로\s?구매",
    re.I,
)

# Said just below the title of a product page that shows no price for it: the price is given on request
# (a quote, a call), or the product is no longer sold (not "sold out": a script may draw the price of an
# item out of stock for now). Kept as data: a language is a line.
_ON_REQUEST = re.compile(
    r"price\s?:?\s?(?:up)?on (?:request|application)|call (?:us )?for (?:a )?pric(?:e|ing)|"
    r"contact us for (?:a )?(?:price|pricing|quote)|pricing\s?:?\s?on request|preis\s?:?\s?auf anfrage|"
    r"preis nach vereinbarung|prix\s?:?\s?sur (?:demande|devis)|prix\s?: nous consulter|precio\s?:?\s?a consultar|"
    r"consultar (?:el )?precio|precio\s?:?\s?(?:bajo|sobre|a) (?:consulta|pedido|convenir)|"
    r"prezzo\s?:?\s?su (?:richiesta|preventivo)|pre[çc]o\s?:?\s?sob consulta|consulte o pre[çc]o|"
    r"prijs\s?:?\s?op aanvraag|pris\s?:?\s?på (?:förfrågan|forespørsel|forespørgsel|begäran)|hinta\s?:?\s?pyynnöstä|"
    r"kysy hintaa|cena\s?:?\s?na (?:zapytanie|vyžádání|dotaz|vyžiadanie|požiadanie|upit|zahtev)|zapytaj o cenę|"
    r"cijena\s?:?\s?na upit|cena\s?:?\s?po dogovoru|ár\s?:?\s?kérésre|preț\s?:?\s?la cerere|"
    r"kaina\s?:?\s?pagal užklausą|cena\s?:?\s?pēc pieprasījuma|hind\s?:?\s?päringul|"
    r"цена\s?:?\s?по (?:запросу|запитване)|ціна\s?:?\s?за запитом|уточняйте цену|цена договорная|"
    r"τιμή\s?:?\s?κατόπιν|fiyat (?:sorunuz|için (?:arayınız|arayın|iletişime geçin))|価格はお問い合わせ|価格応相談|"
    r"要見積|要問合せ|询价|價格面議|价格面议|電話詢價|가격\s?문의|가격\s?협의|السعر عند الطلب|اتصل للسعر|"
    r"מחיר לפי בקשה|harga\s?:?\s?(?:hubungi|atas permintaan)|hubungi kami untuk harga|giá\s?:?\s?liên hệ|"
    r"liên hệ (?:để biết giá|báo giá)|"
    r"สอบถามราคา|"
    # (the same said otherwise, each a wording that puts the price itself on request: Hebrew "contact us for a (price)
    # quote", "price: on request"; Arabic "price on demand", "contact us to know the price"; Persian "price inquiry",
    # "negotiable price", "price: call us"; Turkish "price on request"; Greek "contact us for the price"; Thai
    # "price: contact / ask"; Vietnamese "contact us to be quoted"; Korean "price: ask / consult"; Japanese "price:
    # please ask", "price: ASK"; Chinese "price: negotiable / call", "ask for the price". Not a bare "request a
    # quote": a button trade shops put beside the prices they show. Each alternative opens with one letter, never a
    # choice of letters: one such choice makes the search try every alternative at every character, six times the cost)
    r"(?:צור|צרו|צרי) קשר לקבלת (?:הצעת )?מחיר|התקשרו לקבלת (?:הצעת )?מחיר|מחיר\s?:\s?(?:לפי בקשה|בהתקשרות)|"
    r"السعر (?:حسب|بناء على) الطلب|اتصل(?: بنا)? (?:لمعرفة|للاستفسار عن) السعر|"
    r"تواصل معنا (?:لمعرفة|للاستفسار عن) السعر|اتصل بنا للسعر|"
    r"استعلام قیمت|قیمت توافقی|برای (?:اطلاع از|استعلام) قیمت|قیمت\s?:\s?تماس بگیرید|"
    r"talep üzerine fiyat|fiyat\s?:?\s?talep üzerine|fiyat için bize ulaşın|"
    r"επικοινωνήστε (?:μαζί μας )?για (?:την )?τιμή|ราคา\s?:\s?(?:ติดต่อ|สอบถาม)|để được báo giá|"
    r"가격\s?:\s?(?:문의|상담)|価格\s?[:：]\s?(?:お?問い?合わせ|ask)|"
    r"价格\s?[:：]?\s?(?:面议|电询|来电)|價格\s?[:：]?\s?(?:面議|電詢|來電)|售价\s?[:：]?\s?面议|售價\s?[:：]?\s?面議|詢價|来电咨询价格|來電洽詢|"
    # (the price is not given online: a prescription medicine, an in-store-only item)
    r"price (?:is )?not (?:available|shown|displayed) online|prezzo non (?:disponibile|visibile) online|"
    r"preis nicht online (?:verfügbar|sichtbar)|prix non (?:disponible|affiché) en ligne|"
    r"precio no disponible (?:online|en l[ií]nea)|preço não disponível online|prijs niet online beschikbaar|"
    # (the price is not set yet: a launch or pre-order page, "price to be announced", "Preis folgt", "価格未定")
    r"price (?:to be|will be) (?:announced|confirmed)|price\s?:?\s?tba\b|price coming soon|"
    r"price announced (?:at|on) launch|preis folgt|preis wird (?:noch )?bekannt ?gegeben|"
    r"prix (?:à venir|bientôt communiqué|communiqué (?:prochainement|ultérieurement))|"
    r"precio (?:por (?:anunciar|confirmar|definir)|a (?:anunciar|confirmar)|próximamente)|"
    r"preço (?:em breve|a (?:confirmar|definir|anunciar))|prezzo (?:in arrivo|da (?:definire|confermare|annunciare))|"
    r"prijs (?:volgt|wordt (?:nog )?bekendgemaakt)|cena (?:wkrótce|zostanie ogłoszona)|"
    r"pris (?:kommer snart|meddelas senare|følger)|fiyat (?:yakında|açıklanacak)|"
    r"цена (?:уточняется|будет объявлена)|ціна (?:уточнюється|буде оголошена)|"
    r"価格未定|価格\s?[:：]\s?未定|价格待定|價格待定|售价待定|售價待定|가격\s?미정|가격\s?추후\s?공개|"
    r"السعر\s?:?\s?س?يُ?علن|"
    r"המחיר (?:יפורסם|ייקבע) בהמשך|giá (?:sẽ được công bố|đang cập nhật)|harga (?:segera hadir|akan diumumkan)|"
    r"ราคาจะแจ้งภายหลัง")
_NO_LONGER_SOLD = re.compile(
    r"discontinued|no longer (?:available|sold|stocked|carried|in production)|"
    r"nicht mehr (?:erhältlich|lieferbar|verfügbar|im sortiment)|ausgelaufen|"
    r"n'est plus (?:disponible|commercialisé)|plus commercialisé|ya no (?:está disponible|se vende)|"
    r"descatalogado|discontinuado|fuori produzione|non più disponibile|fora de linha|descontinuado|"
    r"niet meer leverbaar|uit assortiment|\butgått|\budgået|ei enää myynnissä|"
    r"wycofany z (?:oferty|produkcji|sprzedaży)|již se neprodává|už sa nepredáva|ukončen[ýá]? prodej|"
    r"nebeparduodama|nebegaminama|vairs netiek pārdots|enam ei müüda|više (?:nije dostupn|se ne prodaje)|"
    r"már nem (?:kapható|forgalmazott)|nu mai este disponibil|снят с производства|"
    r"больше не (?:продаётся|продается|доступен)|знят з виробництва|більше не продається|вече не се предлага|"
    r"δεν διατίθεται πλέον|üretimi durdu|artık satılmıyor|販売終了|生産終了|取り扱い終了|停产|停產|停售|停止销售|"
    r"판매\s?종료|단종|لم يعد متوفر|tidak dijual lagi|sudah tidak diproduksi|ngừng (?:kinh doanh|bán|sản xuất)|"
    r"เลิกผลิต|หยุดจำหน่าย")
_BELOW_TITLE = 1200  # visible characters after the title read for those
_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—]\s+|\s+::\s+")  # between a product's name and the shop's in <title>
# Said in the buy area of a product out of stock at every seller ("Sold out", "Agotado", "在庫切れ"): on its own
# not a page without a price (a shop may print the last price beside it); with structured data that says so and a
# buy box that shows no price, it is (the cascade decides). Lower case, as :meth:`Page.no_price_said` reads.
SOLD_OUT = _SOLD_OUT = re.compile(
    r"sold out|out of stock|currently unavailable|temporarily unavailable|not in stock|"
    r"agotado|sin stock|sin existencias|fuera de stock|esgotado|sem estoque|fora de estoque|produto indispon[ií]vel|"
    r"ausverkauft|nicht (?:auf lager|vorrätig|lieferbar)|derzeit nicht verfügbar|vergriffen|"
    r"épuisé|rupture de stock|actuellement indisponible|esaurito|(?:momentaneamente|attualmente) non disponibile|"
    r"uitverkocht|niet (?:leverbaar|op voorraad)|brak w magazynie|brak towaru|wyprzedan[ye]|chwilowo niedostępny|"
    r"slutsåld|tillfälligt slut|(?:finns )?ej i lager|slut i lager|utsolgt|udsolgt|ikke på lager|loppuunmyyty|"
    r"ei varastossa|vyprodáno|není skladem|vypredané|nie je skladom|elfogyott|nincs készleten|stoc epuizat|"
    r"nu (?:este|e) în stoc|tükendi|stokta yok|εξαντλήθηκε|нет в наличии|распродан|немає в наявності|"
    r"изчерпан|stok habis|habis terjual|stok kosong|hết hàng|สินค้าหมด|หมดสต็อก|在庫切れ|売り切れ|品切れ|在庫なし|"
    r"缺货|缺貨|售罄|无货|無貨|已售完|품절|نفدت الكمية|نفذت الكمية|غير متوفر|אזל (?:מה|ב)מלאי")

# Offered in the buy box of a product out of stock instead of a buy button: an alert when it is back ("Notify me",
# "Avísame cuando esté disponible", "Benachrichtigen", "入荷お知らせ"). Lower case, as :attr:`Page.below_title` is read.
_BACK_IN_STOCK = re.compile(
    r"notify me|email me when|let me know when|alert me when|avísame|avisarme|avise-me|me avise|avisa-me|"
    r"benachrichtig|m'alerter|me prévenir|prévenez-moi|m'avertir|avvisami|powiadom mnie|powiadomienie o dostępności|"
    r"houd me op de hoogte|mail mij|meld mij|bevaka|meddela mig|gi meg beskjed|giv mig besked|ilmoita kun|"
    r"upozornit|hlídat dostupnost|értesítést kérek|anunță-mă|haber ver|gelince haber|сообщить о поступлении|"
    r"уведомить о поступлении|повідомити про наявність|ειδοποίησέ με|"
    r"入荷お知らせ|再入荷|재입고\s?알림|到货通知|到貨通知|báo khi có hàng|"
    r"แจ้งเตือนเมื่อ|beri tahu saya|أعلمني|أبلغني عند|הודיעו לי")

_BUY_IDENT = re.compile(r"add[-_]?to[-_]?(?:cart|bag|basket)|buy[-_]?now|addtocart", re.I)  # in id, class or name


# Every wording of _CART_ONLY / _LOGIN_PRICE contains one of these (lower case): the patterns are
# tried only around them, not at each of the 100,000+ characters of a page's text.
_CART_WORDS = ("cart", "bag", "basket", "checkout", "too low", "warenkorb", "购物车", "カート", "click", "carrito",
               "cesta", "carrinho", "sacola", "panier", "carrello", "winkel", "koszyk", "demasiado bajo", "trop bas",
               "troppo basso", "te laag", "zu niedrig", "장바구니")
_LOGIN_WORDS = ("log", "sign", "regist", "登录", "sesión", "identif", "login", "cadastr", "connect", "inscri",
                "kirjaudu", "acced", "regíst", "meld je", "zaloguj", "melden", "anmeld", "einlog", "ログイン", "로그인")
_NEAR = 200  # characters either side of a key word; every wording is shorter


def _search_near(pattern: re.Pattern[str], text: str, lowered: str, words: tuple[str, ...]) -> bool:
    """``pattern.search(text)``, tried only in windows around the key ``words`` (found in ``lowered``)."""
    if len(lowered) != len(text):  # a rare letter whose lower case is longer: search it all
        return pattern.search(text) is not None
    for word in words:
        at = lowered.find(word)
        while at >= 0:
            if pattern.search(text, max(0, at - _NEAR), at + len(word) + _NEAR):
                return True
            at = lowered.find(word, at + _NEAR)
    return False


# A selector a stylesheet rule names, simple enough to hand to lexbor: tags, classes, ids, descendants, children;
# never a pseudo-class (":hover" strikes nothing a shopper sees at first), at least one class or id.
_PLAIN_SELECTOR = re.compile(r"[A-Za-z0-9_\-.#>\s]*[.#][A-Za-z_\-][\w\-]*[\w\-.#>\s]*")


def _line_through_selectors(css: str) -> list[str]:
    """The selectors of the rules of ``css`` that draw their elements struck through (``line-through``).

    CSS-in-JS and CSS modules name classes by a hash (``css-1x8f2k``): the stylesheet, not the name, says
    which element is the struck-through list price.
    """
    found: list[str] = []
    at = css.find("line-through")
    while at >= 0:
        start = css.rfind("{", 0, at)
        if start > css.rfind("}", 0, at):  # (inside a rule's declarations, not a comment between rules)
            comment = css.rfind("*/", 0, start)
            head = css[max(css.rfind("}", 0, start), css.rfind("{", 0, start), comment + 1 if comment >= 0 else -1)
                       + 1:start]
            found += [sel for sel in (" ".join(part.split()) for part in head.split(","))
                      if _PLAIN_SELECTOR.fullmatch(sel)]
        at = css.find("line-through", at + 12)
    return found


@dataclass
class Page:
    """A parsed page, its text when a step asks for it, and what the cascade needs to know about it."""

    source: bytes | str = field(repr=False)  # as fetched
    encoding: str | None  # the caller's (the HTTP header's), if any
    url: str
    tree: LexborHTMLParser = field(repr=False)
    ld_json: list[str] = field(default_factory=list, repr=False)  # the text of each JSON-LD script
    # The selectors the page's own stylesheets draw struck through (``text-decoration: line-through``)
    line_through: list[str] = field(default_factory=list, repr=False)
    # The text of the page's own ``<style>`` elements (font sizes: :mod:`crawlers.extract.emphasis`)
    styles: list[str] = field(default_factory=list, repr=False)
    # The elements :data:`_BUY_CONTROLS` finds once the invisible ones are out, in page order (None: not searched)
    buy_controls: list[LexborNode] | None = field(default=None, repr=False)
    # The hidden elements taken out of the tree (:func:`_leave_hidden`), in page order: a site profile's selector
    # written for one of them still finds it (:mod:`crawlers.extract.site`)
    hidden: list[LexborNode] = field(default_factory=list, repr=False)

    @classmethod
    def parse(cls, data: bytes | str, url: str, encoding: str | None = None) -> Page:
        """Parse ``data`` once; decode it now only when the parser needs text (not UTF-8 bytes)."""
        if isinstance(data, bytes) and _utf8_as_is(data, encoding):
            # Declared UTF-8: the parser reads the bytes. Most pages never need all of them as
            # text (JSON-LD and the tree say enough), so ``html`` is decoded on first use.
            tree, html = LexborHTMLParser(data, options=_PARSE), None
        else:
            html, utf8 = _decode(data, encoding)
            tree = LexborHTMLParser(utf8 if utf8 is not None else html, options=_PARSE)
        # The tree is for what a shopper sees: scripts and styles leave it before any text is read.
        # The JSON-LD scripts are read on the way out (a regex over all of ``html`` cost more);
        # other script state is read from ``html`` by regex. One pass over the tree does both
        # (``strip_tags`` would walk it once per tag name), removing the same nodes as it.
        ld_json = []
        line_through: list[str] = []
        styles: list[str] = []
        # (a page read from its UTF-8 bytes searches all of them only once a stylesheet's text holds the word: most
        # pages' stylesheets do not; else the source says first whether any may)
        styled = None if html is None else (b"line-through" if isinstance(data, bytes) else "line-through") in data  # type: ignore[operator]
        # (the same search finds the buy controls and the first ``h1``, in page order: one inside a ``noscript``
        # leaves the tree with it, so the ids under each ``noscript`` are noted before it goes; a template's content
        # is not searched. lexbor lists a node once for each selector it matches, in a row: an invisible one goes once,
        # an h1 is a control when listed again.)
        controls: list[LexborNode] = []
        hiding: list[LexborNode] = []
        heading: LexborNode | None = None
        gone: set[int] = set()
        removed: set[int] = set()
        titles: set[int] = set()
        for node in tree.css(_SEARCHED):
            tag = node.tag
            if tag not in _INVISIBLE_TAGS:
                if gone and node.mem_id in gone:
                    continue
                if tag == "h1" and node.mem_id not in titles:
                    titles.add(node.mem_id)  # (listed once more for each control selector it matches)
                    heading = heading or node
                    continue
                if tag in _CONTROL_TAGS or tag == "h1" or node.attributes.get("role") == "button":
                    controls.append(node)
                elif _hides(node):
                    hiding.append(node)
                continue
            if node.mem_id in removed:
                continue
            removed.add(node.mem_id)
            if tag == "noscript":
                gone.update(inner.mem_id for inner in node.traverse(include_text=False))
            if tag == "script" and "ld+json" in (node.attributes.get("type") or "").lower():
                ld_json.append(node.text())
            elif tag == "style":
                styles.append(node.text())
                if styled is None and "line-through" in styles[-1]:
                    styled = b"line-through" in data
                if styled:
                    line_through += _line_through_selectors(styles[-1])
            node.decompose(recursive=False)
        hidden = _leave_hidden(hiding) if hiding else []
        if hidden:
            controls = [node for node in controls if _in_tree(node)]
        page = cls(source=data, encoding=encoding, url=url, tree=tree, ld_json=ld_json, line_through=line_through,
                   styles=styles, buy_controls=controls, hidden=hidden)
        page.__dict__["heading"] = heading
        if html is not None:
            page.__dict__["html"] = html
        elif styled is not None:  # (the source's bytes, as :meth:`mentions` reads them: not searched again for it)
            page.__dict__["_mentioned"] = {"line-through": styled}
        return page

    @cached_property
    def style_hiding(self) -> StyleHiding | None:
        """The page's own stylesheet rules that hide elements (:mod:`crawlers.extract.stylesheet`; None: none
        does)."""
        return StyleHiding.of(self.styles) if self.styles else None

    def shown(self, nodes: list[LexborNode]) -> list[LexborNode]:
        """``nodes`` but those the page's own stylesheet hides, by themselves or with an ancestor (``nodes``: the
        elements that may be read as amounts; the page's other elements are never asked). A hidden element that
        prints a number leaves the tree, as one hidden by its attributes did at parse (:func:`_leave_hidden`), and
        the page's text is read anew without it."""
        rules = self.style_hiding
        if rules is None or not nodes:
            return nodes
        known: dict[int, bool] | None = self.__dict__.get("_style_hidden")  # (an element: hidden, or inside one)
        if known is None:
            body = self.tree.body
            known = self.__dict__["_style_hidden"] = {body.mem_id: False} if body is not None else {}
        names = rules.where
        kept = []
        taken = len(self.hidden)
        for node in nodes:
            chain: list[LexborNode] = []
            above: LexborNode | None = node
            while above is not None and (mem := above.mem_id) not in known:
                chain.append(above)
                above = above.parent
            hidden = above is not None and known[mem]
            for element in reversed(chain):
                if not hidden and element.is_element_node:
                    attrs = element.attributes
                    if (not (names.keys().isdisjoint((attrs.get("class") or "").split())
                             and attrs.get("id") not in names) and rules.hides(element) and _takes_out(element)):
                        hidden = True
                        self._take_out(element)
                known[element.mem_id] = hidden
            if not hidden:
                kept.append(node)
        if len(self.hidden) > taken and self.buy_controls:
            # (once for all the elements taken out: each control's climb to the root is the cost, not the filter)
            self.buy_controls = [control for control in self.buy_controls if _in_tree(control)]
        return kept

    def _take_out(self, element: LexborNode) -> None:
        """Take a hidden ``element`` out of the tree (:meth:`shown`), and forget what was read with it (the buy
        controls inside it leave :attr:`buy_controls` once :meth:`shown` has asked about every element)."""
        element.decompose(recursive=False)
        self.hidden.append(element)
        for name in ("body_text", "visible_text", "buy_button"):
            self.__dict__.pop(name, None)

    @cached_property
    def struck_css(self) -> str:
        """The page's own line-through selectors joined for lexbor (``""`` when its stylesheets strike nothing)."""
        return ", ".join(dict.fromkeys(self.line_through))

    @cached_property
    def html(self) -> str:
        """The page as text (declared charset, else UTF-8, else a guess)."""
        return _decode(self.source, self.encoding)[0]

    def mentions(self, word: str) -> bool:
        """Whether the page's source holds the ASCII ``word`` (in tags, scripts or text), without decoding
        all of it when it is not yet: an ASCII byte of UTF-8 is never part of another character.

        (Each word is searched for once a page: a search reads all of a 600 KB source, ~0.25 ms, and the cascade
        asks some words in each scan.)"""
        known: dict[str, bool] = self.__dict__.setdefault("_mentioned", {})
        said = known.get(word)
        if said is None:
            # (the bytes also once the text is decoded, when it was decoded from them as UTF-8: a byte search costs
            # half of one over the text, whose characters take two or four bytes on most pages)
            if isinstance(self.source, bytes) and word.isascii() and (
                    "html" not in self.__dict__ or _utf8_as_is(self.source, self.encoding)):
                said = word.encode("ascii") in self.source
            else:
                said = word in self.html
            known[word] = said
        return said

    @property
    def head(self) -> str:
        """The first 20,000 characters of :attr:`html`, without decoding the rest when it is not yet."""
        if "html" in self.__dict__ or not isinstance(self.source, bytes):
            return self.html[:20000]
        # A character takes at most 4 bytes in UTF-8 (the only encoding ``html`` is left lazy for).
        return _decode(self.source[:80000], self.encoding)[0][:20000]

    @cached_property
    def host(self) -> str:
        """Host (and port) of the page URL, lower case."""
        return urlsplit(self.url).netloc.lower()

    @cached_property
    def locale(self) -> str | None:
        """``lang`` of ``<html>``, else ``og:locale``, else the likely locale of the URL's country-code domain.

        A language without a country (``lang="es"``) takes the country of a country-code domain
        (``es`` on ``tienda.cl`` is ``es_CL``: ``$12.990`` there is Chilean pesos).
        """
        head = self.head
        m = _LANG.search(head) or _OG_LOCALE.search(head)
        country = country_of_host(self.host)
        if m:
            tag = m.group(1).replace("-", "_")
            if "_" not in tag and country is not None:
                return locale_for_territory(country, tag) or f"{tag}_{country}"
            return tag
        return locale_for_territory(country) if country is not None else None

    @property
    def country(self) -> str | None:
        """The shop's country: its country-code domain's, else its locale's territory (``lang="ro-RO"``); None
        when neither says (not cached: a profile may set the locale after the page is parsed)."""
        country = country_of_host(self.host)
        if country is None and self.locale and "_" in self.locale:
            country = self.locale.rsplit("_", 1)[1].upper()
        return country if country and len(country) == 2 else None

    @cached_property
    def title(self) -> str | None:
        """The page's main heading (first ``h1``), else ``<title>``."""
        for selector in ("h1", "title"):
            node = self.heading if selector == "h1" else self.tree.css_first(selector)  # (the h1: found once)
            if node is not None:
                text = " ".join(node.text(separator=" ").split())
                if text:
                    return text[:300]
        return None

    @cached_property
    def body_text(self) -> str:
        """The body's text without scripts and styles, as is (one C call; whitespace not collapsed)."""
        body = self.tree.body
        return body.text(separator=" ") if body is not None else ""

    @cached_property
    def visible_text(self) -> str:
        """The body's text with whitespace collapsed (for phrase matching; costs a pass over the text)."""
        return " ".join(self.body_text.split())

    @cached_property
    def heading(self) -> LexborNode | None:
        """The first ``h1``: the product's title on a product page (found once; each search walks the tree)."""
        return self.tree.css_first("h1")

    @cached_property
    def heading_text(self) -> tuple[str, int]:
        """The ``h1``'s text and where it starts in :attr:`body_text` (-1 if it has none)."""
        said = self.heading.text(deep=True, separator=" ").strip() if self.heading is not None else ""
        return said, self.body_text.find(said) if said else -1

    def printed_by_shoppers(self, printed: str) -> bool:
        """Whether every element whose own text holds ``printed`` (an amount's digits) is in what shoppers write (a
        review, a question, a comment: :func:`_written_by_shoppers`, it or an ancestor); False when none holds it."""
        nodes = self.tree.css(f':lexbor-contains("{printed}")') if '"' not in printed else []
        return bool(nodes) and all(_in_user_content(node) for node in nodes)

    @cached_property
    def buy_button(self) -> LexborNode | None:
        """The first add-to-cart / buy-now control, the anchor shoppers read the price beside."""
        for node in self.tree.css(_BUY_CONTROLS) if self.buy_controls is None else self.buy_controls:
            # (as shown, blanks collapsed: a pretty-printed "Add\n  to\n  cart" says "Add to cart")
            text = node.attributes.get("value") or node.text(deep=True) or ""
            if not shown_longer(text, 59) and _BUY_BUTTON.search(" ".join(text.split())):
                return node
            ident = " ".join(filter(None, (node.attributes.get("id"), node.attributes.get("class"),
                                           node.attributes.get("name"))))
            if _BUY_IDENT.search(ident):
                return node
        return None

    def failure(self) -> str | None:
        """``captcha`` / ``blocked`` / ``login_wall`` / ``not_found`` when the page is that instead of a product."""
        title_node = self.tree.css_first("title")
        title = (title_node.text() if title_node is not None else "") or ""
        # A real product page has menus, descriptions, reviews: long text. Only short pages are
        # read in full for block / login / not-found wording.
        short = len(self.body_text) < 12000 and len(self.visible_text) < 3000
        text = self.visible_text if short else ""
        if _CAPTCHA.search(title) or (short and _CAPTCHA.search(text)):
            return "captcha"
        if _BLOCKED.search(title) or (short and _BLOCKED.search(text)):
            return "blocked"
        # The password field last: looking for it walks the whole tree when there is none.
        if short and _LOGIN.search(text + title) and self.tree.css_first("input[type=password]") is not None:
            return "login_wall"
        if _NOT_FOUND.search(title) or (short and _NOT_FOUND.search(text[:1500])):
            return "not_found"
        # A long page (menus, other products' cards) says it in its heading or just below it.
        said, at = self.heading_text
        if said:
            # (the text as is: collapsing the whole of it costs a pass)
            below = self.body_text[at:at + len(said) + 600] if at >= 0 else said
            if _NOT_FOUND_HEADING.search(" ".join(below.split())[:len(said) + 300]):
                return "not_found"
        return None

    def no_price_said(self, shown: str | None = None) -> str | None:
        """``on_request`` / ``unavailable`` when the text just below the title says the price is given on
        request, or that the product is no longer sold; else None (also without an ``h1``).

        ``shown``: the amount the buy box shows as the current price, as printed. A "price on request"
        that comes after it, between the title and that amount nothing saying so, is another product's
        (a related item's "call for price", a sidebar's): short pages reach their related items within
        the window.
        """
        below = self.below_title
        if below is None:
            return None
        request = _ON_REQUEST.search(below)
        if request is not None:
            # (blanks aside: the scan joins an amount's elements without one, "31,500원" shown as "31,500 원")
            printed = "".join(shown.split()).lower() if shown else ""
            if not printed or not 0 <= "".join(below.split()).find(printed) < len(
                    "".join(below[:request.start()].split())):
                return "on_request"
        if _NO_LONGER_SOLD.search(below):
            return "unavailable"
        return None

    @cached_property
    def below_title(self) -> str | None:
        """The title and the visible text just below it (:data:`_BELOW_TITLE` characters), blanks collapsed, in
        lower case; None when the page names no title it shows.

        The title is the ``h1``; a page without one (a table layout, a shop that heads its product with a ``div``)
        is read from where its text first shows the product's name as its ``og:title`` or ``<title>`` gives it."""
        shown = self.below_title_shown
        # (lower case, and patterns without re.I: a case-blind alternation of this size costs ten times more)
        return shown.lower() if shown is not None else None

    @cached_property
    def below_title_shown(self) -> str | None:
        """:attr:`below_title` as the page writes it (its case kept: "CHF", "EUR" are currencies)."""
        said, at = self.heading_text
        if at < 0:
            return self._below_named_title()
        return " ".join(self.body_text[at:at + 8 * _BELOW_TITLE].split())[:len(said) + _BELOW_TITLE]

    @cached_property
    def named_title(self) -> str | None:
        """The product's name as the page's ``og:title``, else its ``<title>``, gives it (the part before a " | ",
        " - " or " – " that names the shop), blanks collapsed; None without one of 8 characters or more."""
        meta = self.tree.css_first('meta[property="og:title"]')
        node = self.tree.css_first("title")
        for said in ((meta.attributes.get("content") if meta is not None else None),
                     (node.text() if node is not None else None)):
            name = " ".join(_TITLE_SEPARATOR.split(said or "")[0].split())
            if len(name) >= 8:
                return name
        return None

    @cached_property
    def title_node(self) -> LexborNode | None:
        """The element that heads the product: the ``h1``, else the first element whose own text shows the product's
        name as :attr:`named_title` gives it, outside links (a table cell, a ``div`` heading a layout without an
        ``h1``; a breadcrumb's or a menu's link to the product is not its heading); None without either."""
        if self.heading is not None:
            return self.heading
        name = self.named_title
        body = self.tree.body
        if name is None or body is None:
            return None
        wanted = name.lower()
        for node in body.traverse(include_text=True, skip_empty=True):
            text = node.text_content
            if text is not None and wanted in " ".join(text.split()).lower():
                parent = node.parent
                if parent is not None and parent.tag != "a":
                    return parent
        return None

    def _below_named_title(self) -> str | None:
        name = self.named_title
        if name is None:
            return None
        text = self.visible_text
        lowered = text.lower()
        # (found case-blind, where lower case keeps every offset: a rare letter's lower case is longer)
        at = lowered.find(name.lower()) if len(lowered) == len(text) else text.find(name)
        return text[at:at + len(name) + _BELOW_TITLE] if at >= 0 else None

    @cached_property
    def sold_out_said(self) -> bool:
        """Whether the text just below the title says the product is sold out or out of stock ("Agotado",
        "Ausverkauft", "在庫切れ"); False when the page names no title it shows."""
        below = self.below_title
        # (after the title: a product may be named "Sold Out")
        return below is not None and _SOLD_OUT.search(below, self.title_length) is not None

    @property
    def title_length(self) -> int:
        """How many characters of :attr:`below_title` are the title itself."""
        if self.heading_text[1] >= 0:
            return len(" ".join(self.heading_text[0].split()))
        return len(self.named_title or "")

    @cached_property
    def sold_out_box(self) -> str | None:
        """The text from the title to the product's disabled buy control, as :attr:`below_title` reads it: the first
        control after the title whose label says the product is sold out ("Out of stock", "Agotado"), or that is
        disabled and says "add to cart" or "buy now"; without one, to the alert when it is back that follows the page's
        saying it is sold out ("Notify me", "Avísame"); None without either. Read by the words and the control's state,
        never by class names (a shop's may be hashed): a price the buy box shows for such a product is printed
        there, and amounts past it are other products' or other offers'."""
        below = self.below_title
        if below is None:
            return None
        start = self.title_length
        for node in self.buy_controls or ():
            attrs = node.attributes
            label = " ".join((attrs.get("value") or node.text(deep=True) or "").split()).lower()
            if len(label) < 3 or len(label) > 60:
                continue
            if _SOLD_OUT.search(label) or (disabled(node) and _BUY_BUTTON.search(label)):
                at = below.find(label, start)
                if at > 0:
                    return below[:at]
        # (or where the buy box of a product the page says is sold out offers an alert when it is back instead of a
        # way to buy: "Agotado · Avísame cuando esté disponible")
        sold_out = _SOLD_OUT.search(below, start)
        alert = _BACK_IN_STOCK.search(below, sold_out.end()) if sold_out is not None else None
        return below[:alert.start()] if alert is not None else None

    def price_visibility(self, *, shows_price: bool = False) -> str:
        """``cart_only`` / ``login_only`` when the page withholds the price, else ``visible``.

        ``shows_price``: the buy box clearly shows a current price, so a "see price in cart" line
        elsewhere (a related item, a footer for business accounts) does not hide this product's price.
        """
        if shows_price:
            return "visible"
        text = self.visible_text
        lowered = text.lower()
        if _search_near(_CART_ONLY, text, lowered, _CART_WORDS):
            return "cart_only"
        if _search_near(_LOGIN_PRICE, text, lowered, _LOGIN_WORDS):
            return "login_only"
        return "visible"

    def availability_from_text(self) -> str | None:
        """``OutOfStock`` / ``InStock`` read from the buy box text when structured data did not say."""
        button = self.buy_button
        if button is not None:
            return "OutOfStock" if disabled(button) else "InStock"
        text = self.visible_text[:20000]
        if _OUT_OF_STOCK.search(text):
            return "OutOfStock"
        if _IN_STOCK.search(text):
            return "InStock"
        return None
