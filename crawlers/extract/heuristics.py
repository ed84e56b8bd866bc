"""Step 4 of the cascade: read the current price off an unknown page the way a shopper does.

One pass over the body's nodes finds every short element showing money. Each is scored on general
signals, never on a site: it says "price" in its class/id, sits shortly after the title (``h1``)
and near the buy button, is not struck through (``<del>``, ``<s>``, line-through, "was", "list",
原价), is not an instalment ("$49/mo", "4 payments of"), a shipping threshold ("free shipping over
$50"), a saving ("you save $10") or a related product's price (carousels, "customers also
bought"). The best score is the price; struck-through prices near it give the regular price.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

from crawlers.extract.amounts import (
    COLON_ALONE,
    SIGN,
    ParsedAmount,
    currency_for_symbol,
    currency_symbols,
    find_amounts,
    local_symbols,
    reads_colon_decimals,
)
from crawlers.extract.emphasis import weigh
from crawlers.extract.model import Candidate
from crawlers.extract.page import PRICE_NAME, USER_CONTENT_NAME, Page, shown_longer
from crawlers.extract.tables import WITH_DELIVERY, other_products, price_labels, row_label, struck_digits
from pricewarden.locales import territory_of
from pricewarden.money import minor_units, sole_currency

__all__ = ["AFTER_COUPON", "CARD_ALT", "CONDITIONAL", "CONDITIONAL_TAIL", "CONVERTED", "COUPON_LABEL", "FEE", "FROM",
           "FROM_AFTER", "GROSS_AFTER_TAIL",
           "INSTALMENT", "INSTALMENT_LOCAL", "IN_HAND", "LOWEST_30", "MULTI_BUY", "NET_TEXT", "PRICE_LABEL", "SAVING",
           "SAVING_LOCAL", "SET_OF", "SHIPPING", "SUBSCRIPTION_WORDS", "THRESHOLD", "UNIT_TAIL", "WAS_TEXT", "Visible",
           "discount_of", "home_currency", "language_currency", "other_options", "read_visible", "shown_longer"]

# Quick filter for text nodes worth a closer look (a currency sign or code).
_HAS_CURRENCY = re.compile(r"[$€£¥￥₹₩₽₺₴฿₫₱₪₦円元원₸৳₡₾֏₼₲₮₭៛₵]|"
                           r"\b(?:USD|EUR|GBP|CHF|CAD|AUD|JPY|CNY|RMB|SEK|NOK|DKK|PLN|INR)\b"
                           r"|\bkr\b|zł|Kč|\bRs\.?|\b(?:Rp|RM|KD|Ft|[Ll]ei|LEI)\b")
_QUICK = re.compile(r"[0-9$€£¥￥₹₩₽₺₴฿₫₱₪円元원]")
_PRICE_ATTR = re.compile(r"price|preis|prix|precio|prezzo|cost|amount|jiage", re.I)
# The block that holds the add-to-cart button and the seller's price ("buy box"): on a marketplace page
# it names the winning offer; the other sellers' offers below it repeat prices that are not it.
_BUY_BOX_ATTR = re.compile(r"buy-?box|buying-?box|buy_box", re.I)
_CURRENT_ATTR = re.compile(r"sale|now|current|final|special|our|deal|actual|offer|selling|promo", re.I)
_WAS_ATTR = re.compile(
    # (not "with-list-price", "has-list-price": Shopware marks so the current price that a list price accompanies)
    # (nor Bootstrap's "list-unstyled", "list-inline", "list-group", which OpenCart's price list is)
    r"(?:^|[\W_])(?<!with[-_])(?<!has[-_])(?:was|old|list(?![-_](?:unstyled|inline|group))|compare|strike|strikethrough|through|crossed|deleted|original|origin(?=[-_]?price)|orig|org|"
    r"msrp|rrp|retail|before)"
    r"(?:[\W_]|price|Price|$)", re.I
)
# "regular" is the list price next to a sale price, but the only price when there is no sale (Magento).
_WEAK_WAS_ATTR = re.compile(r"(?:^|[\W_])(?:regular|reg|base|full|standard)(?:[\W_]|price|Price|$)", re.I)
_NOISE_ATTR = re.compile(
    r"related|recommend|similar|carousel|upsell|up-sell|cross-?sell|recent|also|sponsor|footer|header|"
    r"menu|mini-?cart|minibasket|flyout|bundle|review|rating|accessor|slick|swiper|slider|tile|"
    r"compare-products|suggest|trending|bestseller|banner|modal|popup|shipping", re.I
)
WAS_TEXT = re.compile(
    r"\b(?:was|list(?: price)?|reg\.?|regular(?: price)?|original(?:ly)?|msrp|rrp|compare at|retail(?: price)?|"
    r"before|value|typical price|m\.?r\.?p\.?|au lieu de|avant|prima|antes|vorher|voorheen|cena regularna)\b|"
    r"原价|原價|划线价|参考价|吊牌价|市场价|市價|建議售價|建议零售价|定价|定價|定価|通常価格|参考価格|希望小売価格|参考上代|정가|소비자가|시중가|"
    r"statt|uvp|streichpreis|prix barré|prix initial|prix conseillé|prezzo consigliato|prezzo di listino|"
    r"precio (?:de )?lista|preço (?:de )?lista|cena katalogowa|adviesprijs|\bfør\b|ord(?:inarie|\.) ?pris|"
    r"veil(?:edende|\.) ?pris|vejl(?:edende|\.) ?pris|rek(?:ommenderat|\.) ?pris|cirkapris|"
    # (Finnish: a recommended retail price, "Ovh. 2 190,00 €", "Suositushinta")
    r"\bovh\b\.?|ohjehinta|suositus(?:vähittäis)?hinta|"
    r"běžná cena|původní cena|piyasa fiyatı|старая цена|"
    r"αρχική τιμή|המחיר המקורי|מחיר מקורי|מחיר קודם|السعر الأصلي|السعر القديم|"
    # (the same in more languages: "Стара цена", "Redovna cena", "Stará cena", "Verð áður", "Sena kaina", "Giá gốc")
    r"стара цена|stara cijena|stara cena|stará cena|redovna cij?ena|regularna cij?ena|prejšnja cena|sena kaina|"
    r"vana hind|iepriekšējā cena|verð áður|\bharga (?:awal|normal|asli|coret)\b|"
    r"\báður\b|giá gốc|giá cũ|giá niêm yết|ราคาปกติ|eski fiyat|"
    # ("Vecā cena", "Tavahind", "Ancien prix", "Precio normal", "Bei ya zamani", "Хуучин үнэ")
    r"vecā cena|\btavahind|ancien prix|precio normal|preço normal|bei ya zamani|хуучин үнэ|"
    r"\bpvpr\b|p\.v\.p\.r\.|pvp recomendado|pre[çc][oi]o? recomendado|"
    # previous and suggested prices ("Unser bisheriger Preis", "建议售价", "정상가", "メーカー希望小売価格" is
    # above, "Suggested price", "SRP", "Precio sugerido"): a stale feed gives them as the price
    r"bisheriger preis|\balter preis|früherer preis|ursprünglicher preis|listenpreis|normalpreis|preisempfehlung|"
    r"建议售价|建議價|建议价|市場價|參考價|專櫃價|专柜价|通常販売価格|参考小売価格|"
    r"suggested (?:retail )?price|\bsrp\b|prix de référence|precio sugerido|precio anterior|prezzo precedente|"
    r"pre[çc]o sugerido|pre[çc]o anterior|oude prijs|poprzednia cena|cena sugerowana|рекомендуемая цена|"
    r"liste fiyatı|"
    # (a former price in the Nordic languages: "Tidligere kr 429,90", "Tidigare pris 349 kr", "Aiempi hinta")
    r"\btidligere\b|\btidigare\b|\baiempi hinta|\baiemmin\b|"
    # "van € 49,99 voor € 39,99", "de R$ 1.299,00 por R$ 899,90": the word right before the sign
    r"\bvan(?=\s?€)|\bde(?=\s?R\$)", re.I
)
# Amounts beside the price that are not what this item costs a shopper now:
# a unit price ("$1.99 / 100 g", "Grundpreis 12,48 € / 1 kg"), the price without tax next to the
# price with it, a conversion into another currency ("approx. $131.50"), the EU's "lowest price in
# the last 30 days" notice, and a price for members, subscribers or card holders only.
_UNIT_TAIL = re.compile(
    r"\s*\*?\s*\)?\s*(?:/|per|pro|je|за|pr\.)\s*(?:\d+(?:[.,]\d+)?\s*)?(?:k?g|mg|oz|lbs?|m?l|cl|dl|l|ct|count|pcs?|pieces?|"
    r"units?|kilogramm|gramm|liter|litre|gallons?|gal|stück|stk|sq\.?\s?ft|m²|m2|m|"
    # (the piece, box and kilo in other languages: "/szt.", "/ks", "/kpl", "/шт", "/кг", "/бр", "/adet")
    r"szt|ks|kpl|st|un|und|ud|pz|шт|кг|г|л|м|м²|бр|adet|kom|"
    # (the bottle and the can, a case's or a carton's price per piece: "5 490 Ft / palack", "€3.00 per bottle",
    # "10,90 € je Flasche"; and Hungary's piece, "/db")
    r"bottles?|btl|flasche|bouteille|bottiglia|botella|garrafa|fles|flaske|flaska|pullo|butelk[aę]|l[aá]hev|fľaša|"
    r"palack|sticlă|μπουκάλι|бутылк[ау]|пляшк[ау]|şişe|cans?|dose|canette|lattina|lata|blik|dåse|burk|tölkki|"
    r"puszk[aę]|plechovk[ay]|db|darab)(?![^\W\d_])", re.I)
_UNIT_TEXT = re.compile(r"unit price|price per|per (?:kg|100 ?g|l|litre|liter|oz|lb)\b|grundpreis|prix au (?:kg|litre)|"
                        # ("Precio por tableta", "prix à l'unité", "cena za kus", "jämförpris", "цена за кг")
                        # (by the unit named: "Cena za opakowanie", the price for the pack, is the price)
                        r"\b(?:precio (?:por|x)|preço por|prix par|prezzo (?:per|al)|cena za|cijena za|цена за|"
                        r"prijs per) (?:1 |100 )?(?:kg|g|l|ml|m|m²|m2|unidad|unidade|unité|unità|pezzo|tableta|"
                        r"c[aá]psula|dosis|litro|metro|szt|sztukę|ks|kus|kom|komad|шт|кг|л|stuk|kilo|liter|pieza|pza|"
                        r"galón|gal[oó]n)\b|"
                        r"\bprix (?:à l'unité|unitaire)|jämförpris|\bkilopris|\bliterpris|\bstykpris|"
                        r"\beinzelpreis|\bbirim fiyat|单价|単価|(?:\d\s?|\b)(?:ml|g|kg|l|m|매|개|정|장)\s?당", re.I)
# (a rate between the word and the tax's name: "zzgl. 19 % MwSt.", "excl. 21% btw", "+ 18% GST")
_RATE = r"(?:\d{1,2}(?:[.,]\d{1,2})?\s?%\s*)?"
NET_TEXT = re.compile(rf"\bex(?:cl)?\.?\s*{_RATE}(?:vat|tax|mwst|gst)|excluding {_RATE}(?:vat|tax)|"
                       rf"without (?:vat|tax)|before tax|plus {_RATE}(?:vat|tax|gst)|"
                       rf"\+\s*{_RATE}(?:vat|gst|iva|tva|btw|mwst|moms|mva|alv|dph|áfa|pvm|pdv|ddv|kdv|ppn|sst)\b|"
                       rf"zzgl\.?\s*{_RATE}(?:mwst|ust)|netto|nettó|(?-i:\bHT\b)|税抜|税別|本体価格|"
                       r"\bbez (?:DPH|VAT|ДДС)|\bsin IVA|\bsin impuestos|impuestos nacionales|\bsem IVA|\bsenza IVA|"
                       rf"hors taxes?|excl\.? {_RATE}BTW|без НДС|"
                       # (Balkan, Nordic, Turkish, Greek, Romanian, Ukrainian wordings)
                       r"\bbez PDV|\bbrez DDV|\bohne MwSt|\bex(?:kl)?\.? moms|\beks(?:kl)?\.? (?:moms|mva)|\bilman ALV|"
                       r"ÁFA nélkül|\bKDV hariç|χωρίς ΦΠΑ|\bfără TVA|без ПДВ|без ДДВ|\bsans TVA|"
                       # (the Americas' value-added taxes by their own names: ITBIS in the Dominican Republic, ITBMS
                       # in Panama, IGV in Peru, ISV in Honduras, IVU in Puerto Rico, ICMS in Brazil)
                       r"\bsin (?:ITBIS|ITBMS|IGV|ISV|IVU)\b|\bsem ICMS\b|"
                       # (Finnish "alv 0 %", Thai "ราคายังไม่รวม VAT 7%": not yet including VAT)
                       r"\balv\.?\s?0\s?%|ยังไม่รวม|ไม่รวม\s?(?:vat|ภาษี)|"
                       # (a tax-free price for visitors from abroad: "免税価格", "tax-free", "duty-free")
                       r"免税|\btax[- ]free\b|\bduty[- ]free\b|détaxe|"
                       # (Japan's book and goods prices before tax written as the body price plus tax:
                       # "本体1,800円＋税", "1,800円+税")
                       r"本体(?=\s?[\d¥￥])|[+＋]\s?税(?!込)", re.I)
# The same, named by the markup around the amount (Magento's price-excluding-tax, Shopware's
# price-unit, an "omnibus" lowest-price note, JD's plus-price).
_ASIDE_ATTR = re.compile(
    r"(?P<unit>unit[-_]?price|price[-_]?unit|price[-_]?per[-_]?unit|basis[-_]?price|grundpreis)|"
    # (not "withoutTax": BigCommerce marks every price so in stores that show prices before tax)
    r"(?P<net>excl(?:uding)?[-_]?(?:tax|vat)|(?:tax|vat)[-_]?excl|(?<![a-z])net[-_]?price|price[-_]?net\b)|"
    r"(?P<reference>omnibus|lowest[-_]?price|price[-_]?history|prior[-_]?price)|"
    r"(?P<conditional>plus[-_]?price|member[-_]?price|club[-_]?price|subscri(?:be|ption)[-_]?price|teiki|autoship|subscription|loyalty|vip[-_]?price|"
    r"price[-_]?(?:member|club|card)|(?<!product)(?<!product[-_])card[-_]?price)|"  # (not "productCardPrice")
    # (an add-on offered beside the product: a protection plan, an extended warranty, insurance)
    r"(?P<addon>protection[-_]?plan|__protection|[-_]protection\b|warranty|garantie|insurance|care[-_]?plan|add[-_]?ons?\b)|"
    # (a quantity calculator's total for an example area: "by-calc", "mulch-calculator", "Mengenrechner")
    r"(?P<multibuy>(?<![a-z])calc(?![a-z])|calculat(?:or|eur)|rechner|calculadora|kalkulator)",
    re.I)
_WITH_CARD = r"with (?:the |an? |your )?[\w\- ]{0,20}cards?"  # "with the Acme Card": a card holders' price
# An amount labelled as the price after a coupon, a voucher or a code ("券后价", "领券后", "クーポン利用で",
# "쿠폰적용가", "with code SAVE10", "Precio con cupón", "Z kodem AGD100 zapłacisz"): the coupon's result, never the
# price (the cascade reads it as the effective price when the coupon is shown: cascade._coupon).
AFTER_COUPON = (r"券后价?|券後價?|[领領用]券后|[领領用]券後|クーポン(?:利用|適用|使用)(?:後|時)?で?|"
                r"쿠폰\s?적용가?|쿠폰\s?할인가|"
                r"\bwith (?:a |the |this )?(?:coupon|(?:promo |discount )?code|voucher)|"
                r"\bafter (?:the )?(?:coupon|voucher)|\bcoupon price|"
                r"\bmit (?:dem |diesem )?(?:gutschein(?:code)?|rabattcode|code)|\bnach (?:dem )?gutschein|"
                r"\bavec (?:le )?(?:code|coupon)|\baprès (?:le )?(?:coupon|code)|"
                r"\bcon (?:el |il )?(?:cup[oó]n|c[oó]digo|codice|coupon)|\bcom (?:o )?(?:cupom|cupão|código)|"
                r"\bz (?:kodem|kuponem)|\bmet (?:de )?(?:kortings)?code|\bkuponla|\bkupon ile|"
                r"\bdengan (?:kode )?voucher|\bsetelah voucher")
# "到手价": the price "in hand" after whatever the shop deducts (a coupon to claim, a promotion), never the price
# shown before it; the coupon's result only when the page states a coupon that brings the price to it.
# (JD sets its labels' characters apart, "到 手 价": CJK text has no spaces between words, a blank there is layout)
IN_HAND = r"到\s?手\s?(?:[价價]|约|約)"
# A verb between such a label and its amount ("— pay AED 126.65", "zapłacisz 1 799,00 zł")
_PAY_VERB = r"pay|paga|pagas|pague|zapłacisz|zahlst du|zahlen sie|payez|betaal je|betaalt u|bayar"
# The label, a code in capitals after it ("with code SAVE10", "con cupón BIENVENIDA:"), words up to a verb: all that
# stands between the label and the amount it names (a code's digits cut the text before the amount short).
COUPON_LABEL = (rf"(?:(?P<hand>{IN_HAND})|{AFTER_COUPON})\s*[:：]?\s*(?:(?-i:[A-Z][A-Z0-9_-]{{2,19}})\b)?"
                rf"\s*[:：—–-]?\s*(?:\D{{0,25}}?\b(?:{_PAY_VERB})\b)?\s*[:：]?\s*")
_COUPON_LABEL_END = re.compile(f"(?:{COUPON_LABEL})$", re.I)
# "with coupon", "con cupón", "クーポン利用で": said right after an amount, a price after a code or coupon
_WITH_COUPON = (r"\bwith (?:a |the )?(?:coupon|code|voucher)|\bcon (?:el )?cup[oó]n|\bcom cupom|"
                r"\bavec (?:le )?(?:code|coupon)|\bmit (?:dem )?(?:gutschein|code)|クーポン(?:利用|適用)|쿠폰 ?적용")
# a price for paying one way only: by bank transfer, Pix, boleto, cash ("pagando con transferencia")
_PAYING = (r"(?:pagando |paying |if you pay )?(?:con|com|with|by|no|via|por|en|em) (?:una? |el |la |o )?"
           r"(?:transferencia|transferência|bank transfer|pix|boleto|efectivo|dinero en efectivo|débito|cash)\b")
# "4 490 ₽ с картой", "$ 9.990 con tarjeta": a card holders' price named after the amount
_CARD_AFTER = (r"с картой|по карте|con (?:la |tu |tus |las )?tarjetas?|com (?:o |os )?cart(?:[aã]o|ões|oes)|"
               # (Brazil's drugstores: a price for the customer who gives the CPF, their tax number, to the club)
               r"(?:com|no|pelo) cpf|"
               r"avec (?:la |votre )?carte|mit (?:der )?\w*karte|med \w*kort|kartą|kartla|kart ile|"
               # (a price for paying one way, whatever the way: "$ 22.491 pagando con tarjetas OCA"; and the
               # card in more languages: "s kartico zvestobe", "kliendikaardiga", "kanta-asiakaskortilla",
               # "törzsvásárlói kártyával", "με την κάρτα", "met de klantenkaart", "dengan kartu", "với thẻ")
               r"(?:pagando|paying|al pagar|pagar|payant|pagamento) (?:con|com|with|by|avec)\b|"
               r"s kartic\w*|sa karticom|\w*kaardiga|\w*kortilla|\w*kártyával|με (?:την )?κάρτα|"
               r"met (?:de |uw |je )?\w*kaart|dengan (?:kartu|kad)|(?:với|bằng) thẻ|カード(?:払い|決済|利用)|"
               r"카드 ?(?:결제|할인|청구)|(?:刷|用)卡|"
               # (a price in the shop's app only: "$21.99 in the app", "no app", "in der App", "dans l'appli")
               r"(?:in|on|via) (?:the |our )?app\b|no app\b|en (?:la )?app\b|in der app\b|dans l['’]appli?\b|"
               # (a price for one group of buyers: "$899.10 for eligible students, faculty or staff")
               r"for (?:eligible |verified |qualifying )?(?:students?|teachers?|educators?|military|veterans?|seniors?|"
               r"employees|members)\b|"
               # (a members-only price, the membership named first: "와우회원 전용", "プレミアム会員限定")
               r"\w{0,10}(?:회원\s?전용|会員限定|会員価格)|members?[- ]only\b|member[- ]exclusive\b")
# An invitation to join a members' programme right after the amount ("3.399,99 Lei · Abonează-te la Genius",
# "$234.99 · Join Prime", "Devenez membre", "Jetzt Mitglied werden", "Hazte socio"): the amount is the members' price.
_JOIN_TAIL = re.compile(
    # (not "Join the waitlist", "join our newsletter": a sold-out page's or the shop's)
    r"\s*[·•|,;:–—(-]?\s*(?:join\b(?!\s+(?:the\s+|our\s+)?(?:wait|queue|list|newsletter|mailing))|"
    r"become an? (?:\w+ )?member|"
    r"abonea(?:z|ză)-te|abona(?:ț|t)i-v[aă]|(?:devenez|deviens) (?:\w+ )?membre|adh[ée]re[zr]\b|rejoignez|"
    r"inscrivez-vous|jetzt [\w-]*\s?mitglied|mitglied werden|werde [\w-]*\s?mitglied|word (?:\w+ )?lid|"
    r"hazte (?:socio|miembro)|[úu]nete\b|"
    r"torne-se (?:membro|s[óo]cio)|assine\b|iscriviti|diventa (?:socio|membro)|abbonati|zosta(?:ń|n) członkiem|"
    r"dołącz|bli medlem|bliv medlem|liity\b|csatlakozz|legyen tag|staňte se členem|üye ol)", re.I)
# A price that starts later: a flash sale's or a time deal's before it opens ("Desde las 20:00: 219,00 €", "ab 20 Uhr",
# "20:00 오픈 특가 199,000원", "20:00 → 219,00 €", "오픈 예정"); what a shopper pays now is another amount.
_LATER = (r"\b(?:desde|a partir de|from|starting(?: at)?|starts? at|begins? at|opens? at|live at|ab|dès|dalle|alle|"
          r"vanaf|od|från|fra|alkaen|às|a las)\s+(?:las |les |the |ore |kl\.? )?"
          r"(?:\d{1,2}(?::\d{2}|h\d{2})(?:\s?(?:uhr|h|[ap]\.?m\.?))?|\d{1,2}\s?(?:[ap]\.?m\.?|uhr|h|godz\.?|時)(?!\w))|"
          r"\d{1,2}:\d{2}\s*(?:오픈|開始|开始|开抢|開搶|开售|開賣|スタート|から|→|->)|오픈\s?예정|即将开抢|即將開搶|開始前|"
          r"\bcoming soon\b|\bupcoming deal")
# ... and said after the amount: "¥459 11月10日20:00开抢", "199,000원 20:00 오픈"
_LATER_TAIL = (r"\s*(?:\d{1,2}月\d{1,2}日\s*)?\d{1,2}:\d{2}\s*(?:开抢|開搶|开始|開始|开售|開賣|から|スタート|오픈)|"
               r"\s*\(?(?:desde|a partir de|from|ab|dès|dalle|vanaf)\s+(?:las |les |the |ore )?\d{1,2}[:h.]\d{2}")
_CARD_TAIL = re.compile(r"\s*(?:" + _WITH_CARD + "|" + _WITH_COUPON + "|" + _PAYING + "|" + _CARD_AFTER + r")\b|"
                        + _LATER_TAIL, re.I)
# (the cascade reads it after an amount the structured data gives)
CONDITIONAL_TAIL = _CARD_TAIL
UNIT_TAIL = _UNIT_TAIL
_GROSS_TEXT = re.compile(rf"\binc(?:l)?\.?\s*{_RATE}(?:vat|tax|mwst|gst|btw)|including (?:vat|tax)|\binkl\.|"
                         r"(?-i:\bTTC\b)|税込|"
                         r"\bsis\.?\s*alv|\bcon iva\b|\biva incl|(?<!ไม่)รวม\s?(?:vat|ภาษี)", re.I)
_CONVERTED = re.compile(r"approx(?:imately|\.)?|\baprox(?:imadamente|\.)?|\baprox\b|≈|\bca\.|\bcirca\b|\benviron\b|"
                        # (a reference in another currency, Venezuela's "REF $ 12,50" beside "Bs. 787,38")
                        r"\bungefähr\b|约|(?-i:\bREF\b)|\bref\.\s*:|"
                        # (and an exchange rate, "Tasa BCV: Bs. 62,99 por dólar")
                        r"\btasa\b|tipo de cambio|exchange rate|taxa de c[âa]mbio|wechselkurs|\bkurs\b|"
                        r"汇率|匯率|환율|為替", re.I)
CONVERTED = _CONVERTED
LOWEST_30 = re.compile(r"(?:30|thirty|dreißig|trzydziestu)\s*(?:-\s*)?"
                       # ("des 30 derniers jours", "the 30 past days", Romanian "din ultimele 30 de zile")
                       r"(?:derniers\s|letzten\s|past\s|last\s|de\s)?(?:days?|tage[n]?|dni|dní|dnů|jours|días|dias|giorni|"
                       # (and Romanian, Croatian, Bulgarian, Macedonian, Greek, Lithuanian, Latvian, Estonian, Danish,
                       # Norwegian, Turkish days)
                        r"dagen|dagar|päivän|nap\b|zile\b|dana\b|дни|дена|ημερών|ημέρες|dien(?:ų|as|u|ām)|päeva|"
                        r"dage\b|dager\b|gün)", re.I)
# a price for a subscription (repeat delivery): "Subscribe & Save", "定期おトク便", "im Abo", "정기배송"; the one list
# of subscription words (crawlers.extract.promotions.SUBSCRIPTION is built from it, with a few wider wordings)
SUBSCRIPTION_WORDS = (r"auto[- ]?(?:replenish|delivery|ship)|repeat delivery|定期(?:便|購入|価格|お|コース|配送|購買)|"
                      r"\bi[mn] (?:spar-?)?abo\b|\babo-?preis|\bspar-?abo|\babonnement|\bsuscripci[oó]n|\bassinatura|"
                      r"\babbonamento|\bprenumeration|\babonament|\bherhaal\s?(?:bestelling|levering)|정기\s?(?:배송|구독|결제)|订阅|訂閱|定期购|定期購|"
                      # (Portuguese and Italian: "Subscrever e poupar 15%", "Iscriviti e risparmia")
                      r"\bsubscrev|\bsubscriç|\biscriviti e risparmi")
# (members: 회원 in Korean, 会員 in Japanese, สมาชิก in Thai, üye in Turkish, член/с картой in Russian,
# klubb/medlem in Swedish, jäsen in Finnish, מועדון in Hebrew; card holders: "con tarjeta", "precio
# tarjeta", "com cartão", "avec la carte")
CONDITIONAL = re.compile(_LATER + r"|"
                          # (a bid, an auction's or a classified's priced by bidding: "Höchstgebot", "السوم الحالي")
                          r"\b(?:current|highest|leading|top) bid\b|\bhoogste bod\b|\bhöchstgebot|\baktuelles gebot|"
                          r"\bledande bud\b|\bmaior lance\b|\blance atual\b|\bpuja actual\b|\bofferta attuale\b|السوم|"
                          # (and an auction's starting or reserve price, its next minimum bid)
                          r"\butropspris|\bstartpreis|\bstarting (?:bid|price)\b|\bmindestgebot|\bprix de départ|"
                          r"\bmise à prix|\bprecio de salida|\blance inicial|\bprezzo di partenza|\bminimum bid\b|"
                          r"\bnext bid\b|\bminst\b|"
                          r"\bmember(?:s|ship)?\b(?: price)?|plus\s*(?:会员|會員|价|價)|会员价|會員|"
                          r"club price|"
                          # (a store card's name alone as the amount's label: "Tarjeta Cóndor $169.990")
                          r"(?:^|\s)(?:tarjeta|cart[aã]o)\s+(?!regalo|presente|de\b)\w+\s*:?(?:\W|S/|R\$){0,4}$|"
                          r"\bsubscri(?:be|ption)|"
                          r"実質|"  # (the price less the points it earns: "実質価格 ¥35,820")
                          r"autoship|" + SUBSCRIPTION_WORDS + "|" + _WITH_CARD +
                          r"|prime price|loyalty|회원|멤버십|会員|สมาชิก|"
                          r"\bcon (?:la )?tarjeta|\bprecio tarjeta|\bcom (?:o )?cart[aã]o|\bavec (?:la )?carte|"
                          r"\bmit (?:der )?\w*karte|\bmitglied|\bklubbpris|\bmedlemspris|\bjäsenhinta|"
                          r"\büye(?:lere)? özel|с картой|по карте|для членов|מחיר מועדון|חברי מועדון|"
                          r"\bledenprijs|\bprix adhérent|\bpentru membri|\bpre[țţt] (?:de )?membru|"
                          # (not a price for members and everyone: "Precio socio y público")
                          r"\bprezzo soci|(?:\bprecio (?:de )?(?:socio|afiliado|miembro)|\bsocios?\b)"
                          r"(?!\s*(?:y|e|and|&|/)\s*(?:p[úu]blico|no socios?|todos|general))|"
                          r"\bpreço (?:de )?s[óo]cio|"
                          r"\bprix (?:membre|fidélité)|\bprix carte\b|"
                          # ("Клубна цена", "Precio afiliado Club", "cena klubowa", "s kartou", "ფასი ბარათით")
                          r"\bclub\b|клубн|клубна|\bklubow|\bklubsk|\bklubov|\bs kartou|\bz kartą|\bs karticom|"
                          r"\bс карта|ბარათით|بالبطاقة|kartlı|\bcu cardul|الأعضاء|للأعضاء|"
                          # (Slovenian, Estonian, Finnish, Hungarian card prices; a price on credit, paid over
                          # time: "Precio a crédito", "preço a prazo")
                          r"\bs kartic\w*|kaardiga|kortilla|kártyával|törzsvásárló|"
                          r"\bprecio a cr[eé]dito|\ba cr[eé]dito\b|"
                          r"\bpreço a prazo|\ba prazo\b|카드\s?할인|카드\s?결제가|혜택가|\bhavale\b|\beft ile\b|"
                          # (Latvian "ar lojalitātes karti", Lithuanian "su lojalumo kortele")
                          r"\bar (?:\w+ )?karti\b|\bsu (?:\w+ )?kortele\b|τιμή μελών|για μέλη|"
                          # (card holders', rewards and app-only prices, said so in many words: "Card price",
                          # "Rewards price", "App-only price", "Preço exclusivo no app", "App-Preis", "Prezzo Carta
                          # Fedeltà", "Cena w aplikacji", "アプリ価格", "APP专享价", "앱 전용가")
                          r"\bcard ?(?:holders?['’]? )?price|\bcardholders?\b|\brewards? (?:price|members?)|"
                          r"\bclub ?card|\binsider (?:price|deal)|\bapp[- ]?(?:only|exclusive|price|deal)s?\b|"
                          r"\bin[- ](?:the )?app\b|\bexclusiv[oa]s? (?:(?:no|en|na|del?|para) )?(?:la |o |a )?app\b|"
                          r"\bpre(?:ço|cio) (?:(?:no|en|na) )?(?:la )?app\b|\bapp-?preis|\bw aplikacji|"
                          r"\bkundenkart\w*|kartenpreis|\bcarta fedelt[aà]|\bprezzo carta|\bprix (?:carte|appli)|"
                          r"アプリ(?:価格|限定|会員|専用)|"
                          r"app\s?(?:专享|專享|价|價)|앱\s?(?:전용|할인)|" + AFTER_COUPON + "|" + IN_HAND + "|"
                          # (the same in the languages of East and South-East Asia's marketplaces and of Latin America
                          # and Turkey: a VIP's or newcomer's price ("88VIP", "新人价"), paying a card or a way
                          # ("결제 시", "즉시할인", "khi thanh toán"), a members' ("thành viên", "anggota", "Preço do
                          # Clube", "üye fiyatı") or app price ("uygulamaya özel", "ผ่านแอป"), a coupon or code ("áp
                          # mã", "pakai voucher", "หลังใช้โค้ด", "kuponlu"))
                          r"(?<![a-z])vip(?![a-z])|新人[价價]|新客[价價]|首[单單][价價]|粉[丝絲][价價]|学生[价價]|學生價|"
                          r"결제\s?시|즉시\s?할인|쿠폰가|카드\s?혜택|カード(?:価格|特価|限定)|"
                          r"\bexclusiv[oa] (?:para )?(?:socios|miembros|clientes)|\bpre[çc]o (?:d[oe] )?clube|"
                          r"\bclube\b\D{0,20}:?\s*$|\bassinantes?\b|"
                          r"\bpre[çc]o (?:de )?membro|\büye(?:lere|ye)? fiyat|uygulama(?:ya)? özel|\bkuponlu|"
                          r"thành viên|hội viên|áp (?:dụng )?mã|sau (?:khi )?(?:áp mã|dùng mã|voucher)|khi thanh toán|"
                          r"หลังใช้(?:โค้ด|คูปอง)|ใช้โค้ด|คูปอง|บัตรเครดิต|ผ่านแอป|เฉพาะแอป|"
                          r"\b(?:dengan|pakai|setelah) (?:kupon|voucher|kode)|\banggota\b|\bkhusus (?:member|pengguna)|"
                          + _PAYING,
                          re.I)
_INSTALMENT = re.compile(
    r"/\s*mo\b|/\s*month|per month|a month|monthly|/\s*月|payments? of|instal?lments?|interest[- ]free|"
    r"\brata\b|\btabby|\btamara|\bpostpay|"  # (Balkan "na 12 rata", the Gulf's split-payment services)
    r"\bna rate\b|\b\d+\s?rat[ae]?\b|"  # (Bosnian/Croatian "na rate (do 24 rate)", Polish "10 rat")
    r"\bmeses (?:de|x)\b|"  # ("12 meses de $ 99": the months count cuts the label off at the number)
    r"afterpay|klarna|affirm|sezzle|zip pay|laybuy|\bhumm\b|openpay|payments? from|(?:weekly|fortnightly) payments?|"
    r"\bx\s?\d+\b|\d+\s?x\b|分期|月供|每期|as low as|due at signing|"
    r"down ?payment|deposit|lease|per year|/\s*(?:yr|year|wk|week)\b|for \d+ months|"
    # (the same in other languages: cuotas, parcelas, meses sin intereses, raty, taksit, cicilan, /hó)
    r"\bcuotas?\b|\bparcelas?\b|sin intereses|sem juros|\braty\b|\btaksit|\bcicilan|/\s*hó\b|"
    r"\bEMI\b|splát|měsíčně|mesačne|havonta|kuukaudessa|/\s*kk\b|i månaden|per måned|per maand|\brate da\b|monatlich|"
    r"ratenzahlung|תשלומים|par mois|al mes\b|por mes\b|ao mês|al mese|miesięcznie|в месяц|/\s*мес|ayda", re.I
)
# (the same in Vietnamese, Japanese, Korean, Thai, Arabic, Hungarian, Balkan, Bulgarian, Icelandic, Georgian:
# looked for only in text that is not ASCII)
# Labels that name an amount an instalment price outright ("Cijena na rate", "en cuotas", "installment price").
INSTALMENT_LABEL = re.compile(r"instal?lments?|\bna rate\b|\b\d+\s?rat[ae]?\b|\brata\b|\bcuotas?\b|\bparcelas?\b|"
                              r"\braty\b|\btaksit|\bcicilan", re.I)
_INSTALMENT_LOCAL = re.compile(r"trả góp|分割|할부|ผ่อน|تقسيط|أقساط|\bقسط|részlet|\bmesečno|\bmjesečno|"
                               r"месечно|ежемесячно|вноск|greiðsludreifing|á mánuði|/\s*mán|განვადება|თვეში|"
                               # (Greek "36 άτοκες δόσεις των 40,25 €": interest-free instalments)
                               r"δόσεις|δόσεων|άτοκ|"
                               # (the word for months after their count: "ผ่อน 0% 10 เดือน ฿499", "12 شهر")
                               r"เดือน|\bشهر|\bأشهر|месяцев|месеца|ヶ月|か月|个月|個月|개월|tháng\b",
                               re.I)
_INSTALMENT_TAIL = re.compile(r"\s*(?:/\s*(?:bulan|bln|mes|mês|monat|mois|mese|miesiąc|mies\.|ay|月|개월|lun[aă]|"
                              r"tháng|мес|mán|mån|md|mnd|mdr|mēn|mėn|kuu|сар)\b|"
                              r"/\s*mo|"
                              r"(?:mesečno|mjesečno|месечно|á mánuði|mỗi tháng)\b|"
                              r"/\s*month|per month|a month|x\s?\d|for \d+ months|due at signing|"
                              # (a month's price said after it in Hebrew, Arabic, Thai, Chinese, Korean)
                              r"לחודש|בחודש|شهري[ًا]*|في الشهر|ต่อเดือน|/\s*เดือน|每月|/\s*월\b)", re.I)
INSTALMENT_TAIL = _INSTALMENT_TAIL
_INSTALMENT_ATTR = re.compile(r"monthly|instal?lment|financ|afterpay|klarna|affirm|laybuy|per-?month|lease", re.I)
_RANGE_HIGH = re.compile(r"\d\s*(?:[-–—~]|to|bis)\s*$", re.I)
_RANGE_SIGN = re.compile(r"\s*(?:[-–—~]|to|bis)\s*", re.I)
_THRESHOLD = re.compile(
    r"(?:free|standard) (?:shipping|delivery)|shipping on|orders? (?:over|above|of|\$)|spend|"
    r"minimum|\bover \$|包邮|满\s?\d|送料無料|gratis versand|livraison gratuite|env[ií]o gratis|frete gr[aá]tis|"
    r"spedizione gratuita|darmowa dostawa|ücretsiz kargo|gratis ongkir|무료배송|"
    r"fri (?:frakt|fragt|levering)|gratis (?:frakt|fragt|levering|verzending)|ilmainen toimitus|kostenloser versand|"
    r"versandkostenfrei|doprava zdarma|ingyenes szállítás|бесплатная доставка|משלוח חינם|شحن مجاني", re.I
)
# The price of a set of several units, where the page sells one: "Set of 4: Rs 72,000", "Juego de 4", "Lot de 2",
# "Kit com 3", "Confezione da 6" (a structured price the buy box prints so confirms nothing: crawlers.extract.cascade)
_SET_OF = (r"\b(?:set|pack|box|case|bundle) of (?:[2-9]|\d{2})\b|\b(?:juego|paquete|jogo|lot) de (?:[2-9]|\d{2})\b|"
           r"\bkit com (?:[2-9]|\d{2})\b|\bconfezione da (?:[2-9]|\d{2})\b")
SET_OF = re.compile(_SET_OF, re.I)
# a price for buying several at once: "buy 3 for", "ab 3 Stück", "llevando 2", "單次購買10本85折 408元", "2개 이상"
_MULTI_BUY = re.compile(
    r"\bbuy \d+\b|\b\d+ for\b|\bwhen you buy \d+|\bab \d+ (?:stück|stk)|\bllevando \d+|\bleve \d+|"
    r"\bcomprando \d+|\ba partir de \d+ (?:unidades|uds|un\.|piezas|pzas|pz|art[ií]culos|productos)|"
    r"\bdès \d+ (?:articles|achetés|pièces)|"
    r"(?:購買|购买|買|买)\s?\d+\s?(?:本|件|個|个|盒|瓶|組|组|入)|\d+\s?(?:件|個|个|点)以上|"
    r"\d+\s?개\s?(?:이상|구매)|"
    # (a count the offer needs, however worded: "mix & match", "any 3", "lleve 2", "2 por", "2er-Pack", "2点で",
    # "第2件", "2개에", "2 für", "3 za", "2 Ħelwa Farms pestos for")
    r"mix\s?(?:&|and|'?n'?|\+)\s?match|\bany \d+\b|\blleve \d+|\bprendi \d+|"
    r"(?<![\d.,])(?:[2-9]|\d{2})\s?(?:er\b|点で|개에)|第\s?\d+\s?件|"
    r"(?<![\d.,/])(?:[2-9]|\d{2})\s+(?:[^\W\d]+\s+){0,4}(?:for|für|pour|voor|för|por|za|за)\s*$|"
    # (a quantity break: "3 cajas o más:", "10 or more", "10+ pcs:", "ab 5 oder mehr")
    r"(?<![\d.,/])(?:[2-9]|\d{2,4})\s+(?:[^\W\d]+\s+){0,2}(?:o más|or more|ou mais|oder mehr|ou plus|of meer|o più|"
    r"i więcej|eller fler|tai enemmän)\b|(?<![\d.,/+])(?:[2-9]|\d{2,4})\s?\+\s*(?:[^\W\d]+\.?\s*){0,2}:?\s*$|"
    + _SET_OF, re.I)
# "2 x €1.99", "3 × 0,99 €": the price of a count (an instalment's "12 x 116,58" is read as one first)
_TIMES_COUNT = re.compile(r"(?<![\d.,])(?:[2-9]|\d{2})\s?[x×]\s*$", re.I)
# an add-on offered beside the product, named before its price ("Protection plan: 3-year – $24.97")
_ADDON = re.compile(r"protection plan|extended warranty|warranty:|garantieverlängerung|extension de garantie|"
                    r"garantía extendida|garanzia estesa|garantia estendida|"
                    # (an option's or extra's surcharge, "Red (+Rs. 1,000.00)", "Paper liners (+4,90€)")
                    r"\(\s*\+\s*$|"
                    # (an amount added to the price: an option's "+1,980円", a deposit's "zzgl. 60,00 € Pfand")
                    r"(?:^|\s)\+\s*$|\bzzgl\.\s*$|\bzzgl\.\s*\w{1,12}\.?\s*$", re.I)
# A fee for the product's disposal, recycling or a levy, included in the price or added to it: French
# "dont éco-participation : 10,00 €", "éco-part.", "écotaxe", Romanian "taxa/timbru verde", Hungarian "termékdíj",
# Italian "contributo RAEE", Dutch "recyclingbijdrage", "verwijderingsbijdrage", Belgian "Recupel", German
# "Urheberrechtsabgabe", Swiss "vorgezogene Recyclinggebühr", Spanish "canon digital", Swedish "kemikalieskatt",
# English "eco fee", "environmental handling fee": a part of the price at most, never the price.
FEE = re.compile(
    r"\b(?:[ée]co|öko)[- ]?(?:participation|part|contribution|contributo|taxe?|tasa|taxa|valor|fee|levy|bijdrage)\b|"
    r"\b(?:DEEE|RAEE|WEEE|AEEE|Recupel|Bebat|Auvibel|Reprobel)\b|\bcontributo (?:ambientale|RAEE)|"
    r"\bta[xX][aă] (?:verde|de mediu|de reciclare)|\btimbru(?:l)? verde|termékdíj|"
    r"recyclingbijdrage|verwijderingsbijdrage|\bafvalbeheersbijdrage|"
    r"\b(?:recycling|disposal|environmental(?: handling)?|e-?waste(?: recycling)?) (?:fee|levy|charge|surcharge)\b|"
    r"\b(?:copyright|private copying) levy|"
    r"urheberrechtsabgabe|urheberabgabe|entsorgungsgebühr|recyclinggebühr|recyclingbeitrag|"
    r"\btaxe anticipée de recyclage|\bcontribution anticipée de recyclage|\btassa di riciclaggio anticipata|"
    r"\bcanon digital|\btasa de reciclaje|\btaxa de reciclagem|\bc[óo]pia privada|"
    r"\bopłat[aęy] (?:recyklingow|środowiskow)\w*|recyklační(?:m)? poplat\w*|recyklačn(?:ý|ým) poplat\w*|"
    r"\bautorsk(?:ý|é|ého|ým) poplat\w*|\bmiljöavgift|\bkemikalieskatt|\bmiljøgebyr|\bmiljøafgift|\bkierrätysmaksu|"
    r"\bекотакса|\bпродуктова такса|\bτέλος ανακύκλωσης|\bεισφορά ανακύκλωσης", re.I)
# ("10,00 € d'éco-participation", "25 Lei taxa verde": the fee named right after its amount; not "349,99 €
# éco-part. incluse", the price that includes it, nor "349,99 € éco-participation 10,00 €", a label of the next)
_INCLUDED = re.compile(r"\W{0,3}(?:incl|inclu|compris|inbegr|inkl|включ)", re.I)
_FEE_AFTER = re.compile(r"\W{0,3}(?:d['’]\s?|de\s|of\s|di\s|du\s|als\s|as\s)?(?:" + FEE.pattern + r")"
                        r"(?![^\d]{0,12}\d)(?!" + _INCLUDED.pattern + ")", re.I)
_PRICE_HEADINGS = frozenset({"h2", "h3", "h4"})
# A measure a unit price is per: "/ kg", "per 100 ml", "pro Liter", "je Stück", "por unidad", "1 kg ="
_PER_MEASURE = re.compile(r"/|\bper\b|\bpro\b|\bje\b|\bpor\b|\bpar\b|"
                          r"\b\d*\s?(?:kg|g|mg|l|ml|cl|m|m²|m2|oz|lb|stk|st)\b|"
                          r"grundpreis|unit|unidad|unité|stück", re.I)
# (and the same in more languages, read by :func:`crawlers.extract.tables.price_labels`: "Cena", "Ціна", "판매가")
_PRICE_LABEL = re.compile(r"\bprice\b|\bnow\b|preis|prix|precio|prezzo|价格|售价|价|価格|가격", re.I)
# "de R$ 2.199,90 por R$ 1.899,90": "por" right before the amount names the current price, as "de" names the
# list price in WAS_TEXT; not after a count, "Lleva 2 por S/ 45.00", a multi-buy
_POR = re.compile(r"\bpor\s*$", re.I)
_COUNT_POR = re.compile(r"(?<![\d.,])\d{1,2}\s*por\s*$", re.I)
_TOTAL_LABEL = re.compile(r"\b(?:sub)?total\b|合计|总价|小計|gesamt|\brazem\b|\błącznie\b|\binsgesamt\b|"
                          r"\btotaal\b|\byhteensä\b|\bcelkem\b|\bösszesen\b|\bитого\b|合計|총\s?합계", re.I)
_SAVING = re.compile(r"you save|save(?:d)?\b|savings|\boff\b|discount|reward|cash ?back|立减|省|减|优惠|"
                     r"\bworth\b|價值|价值|"  # (a free gift's worth: "free screen (worth HK$599)")
                     r"store credit|\btrade[- ]?in\b|"  # (what a trade-in earns: "for store credit (est. $150")
                     # ("Ušteda", "Sparar", "Hemat", "Tasarruf"; points and bonuses credited back, "Earn 500 points")
                     r"\busteda|\bsparar|\bsparer|\bhemat|tasarruf|\brisparmi|\bahorr|\bokoa\b|"
                     r"\bbonus|\bpoints?\b|\bpunkte|\bpontos|\bpuntos|\bpunti|"
                     # (store credit given back: "Monedero: te regresamos", "Acumule ... em cartão")
                     r"\bmonedero|regresamos|\bacumul[ea]|\bpoupe|\bahorra|\bspar\b|\bsparen", re.I)
# (the same in text that is not ASCII: "Ušteda", "Спестявате", "Экономия", "Úspora", "Oszczędzasz",
# "Tiết kiệm", "Giảm thêm", "Économisez", "+1 900 ₸ бонусами", "ポイント", "Εξοικονομείτε", "ประหยัด", "חיסכון")
_SAVING_LOCAL = re.compile(r"\bušteda|\bušetr|\búspora|спестява|экономия|економія|oszczędz|tiết kiệm|"
                           # (and a voucher's reduction right before its amount, "Giảm ₫20k", "Giảm tối đa ₫50k",
                           # "ลด ฿100"; not "ราคาลด", a reduced price)
                           r"giảm (?:thêm|ngay)|\bgiảm (?:tối đa )?$|(?<!ราคา)ลด\s?$|"
                           r"\béconomi|бонус|ポイント|포인트|积分|積分|點數|点数|баллы|"
                           r"وفر|توفير|εξοικονομ|ประหยัด|חיסכון|חסכון|תחסכו|חוסכים", re.I)
# A discount badge in per cent right before the price ("21% OFF $12,499"): it says the saving, the amount is the price.
_PERCENT_BADGE = re.compile(r"-?\d{1,2}(?:[.,]\d)?\s?%\s*(?:off|discount|descuento|de descuento|dto\.?|rabatt|remise|"
                            r"sconto|desconto)?\W*$", re.I)
_SAVING_TAIL = re.compile(r"\s*(?:(?:instant|extra|additional|bank)\s)?(?:off|discount|cash ?back)", re.I)
# Points or a bonus credited back, named right after the amount in its own element ("+1 900 ₸ бонусами";
# not a label of the next row, "<dd>17,600円</dd><dt>ポイント</dt>")
_POINTS_TAIL = re.compile(r"\s*(?:bonus\w*|бонус\w*|балл\w*|points?\b|pts\b|punkte\b|ポイント|포인트|điểm|"
                          r"积分|積分|點數|点数)", re.I)
# A table row or description term that names points ("<th>ポイント</th><td>3,980ポイント (￥3,980相当)</td>",
# "<dt>Punkte</dt><dd>…</dd>"): every amount in it is the points earned or their worth, never the price.
_POINTS_ROW = re.compile(r"^\W*(?:bonus\w*|бонус\w*|балл\w*|points?|punkte|pontos|puntos|punti|poäng|ポイント\w*|"
                         r"포인트|积分|積分|點數|点数)\W*$", re.I)
_THRESHOLD_TAIL = re.compile(r"\s*(?:or more|and (?:up|above)|\+\s*(?:orders|free))", re.I)
_FROM = re.compile(r"\bstarting (?:at|from)|\bas low as|"
                   r"\bfrom|starting|as low|\bdès\b|à partir de|\bdesde\b|a partir de|\bab\b|\bvanaf\b|\bfrån\b|"
                   r"\bod\b|\balkaen\b|\bот\b|\bmulai\b|\bhingga\b|から|起|\bαπό\b|"
                   # (Italian, Danish and Norwegian: "a partire da 6.900 €", "fra 1.299,-")
                   r"\ba partire da\b|\bfra\b", re.I)
# ... and the languages that write "from" after the amount ("329,000원부터", "1,980円から", "¥99起")
_FROM_AFTER_WORDS = ("부터", "から", "起")
# (and Japan's wave dash right after an amount with nothing after it, "189,800円～", "189,800円(税込)～": from; not a
# range's, "¥12,800〜¥14,800")
FROM_AFTER = re.compile(r"\s?(?:" + "|".join(_FROM_AFTER_WORDS)
                        + r"|(?:[（(]税[込抜別][)）]\s?)?[～〜](?!\s*[¥￥$\d]))")
_SHIPPING = re.compile(r"shipping|delivery|postage|freight|运费|配送料|送料|versand|livraison|lieferung|leverans|"
                       r"levering|frakt|env[ií]o|entrega|frete|spedizione|dostawa|doprava|kargo|toimitus|szállítás|доставка|"
                       r"배송|ongkir|pengiriman|運費", re.I)
_EFFECTIVE = re.compile(r"到手价|券后价?|after (?:coupon|discount|savings)|with coupon|final price|sale price", re.I)
_SPLIT_CENTS = re.compile(r"^\s*(\D{0,4}?)\s*(\d{1,3}(?:,\d{3})*|\d+)\s*[.,]?\s+(\d{2})\s*$")
_RANGE = re.compile(r"\s*(?:[-–—~]|to|bis|à|a)\s*", re.I)
_MANY = ParsedAmount(Decimal(0), None, "")
# (whole units may end with a dash for no minor units: "449,-", "449 <sup>-</sup>", "25.–")
_BARE_NUMBER = re.compile(r"\s*\d[\d.,'\s]*(?:[-–]\s*)?")
_SIGNS = ("$", "€", "£", "¥", "￥", "₹", "₩", "₽", "₺", "₴", "฿", "₫", "₱", "₪", "円", "元", "원", "USD", "EUR", "GBP",
          "CHF", "CAD", "AUD", "JPY", "CNY", "RMB", "SEK", "NOK", "DKK", "PLN", "INR", "kr", "zł", "Kč", "Rs")


@lru_cache(maxsize=256)
def _signs(locale: str | None, currency: str | None = None) -> tuple[str, ...]:
    """The signs a page scan looks for: the common ones, those of the locale's country ("TL" in TR, "Rp" in ID)
    and those of the page's own currency (``currency``, from its structured data or profile).

    (A country's own are looked for only on its pages: "kr" or "TL" is a word elsewhere.)
    """
    extra = (*local_symbols(locale), *currency_symbols(currency))
    return (*_SIGNS, *dict.fromkeys(s for s in extra if not any(sign in s for sign in _SIGNS)))


@lru_cache(maxsize=1024)
def _any_of(words: frozenset[str]) -> re.Pattern[str]:
    return re.compile("|".join(_LETTER_SIGNS.get(w, re.escape(w)) for w in sorted(words, key=lambda w: (-len(w), w))))


# A sign that is also a letter of its language counts only right after a number ("1.290.000đ"): "đ" is in
# most Vietnamese words, and a label holding one is no reason to read its parent's glued-together text.
_LETTER_SIGNS = {"đ": r"\d\s?đ(?![^\W\d_])"}
# A price notation without a sign, looked for beside the signs: a dash for no minor units ("349,-", "349:-"; amounts.py
# reads it in the page's currency). (Searched apart, and only in a text holding a dash: one pattern not of literals
# among the signs' made the walk's search three times as slow.)
_DASHED_TEXT = re.compile(r"(?<=\d[.,:])[-–—]")


def _dashed(text: str) -> bool:
    """Whether ``text`` shows a number with a dash for no minor units ("349,-")."""
    return ("-" in text or "–" in text or "—" in text) and _DASHED_TEXT.search(text) is not None


_PRICE_SELECTOR = "[itemprop=price], [class*=price i], [id*=price i], [class*=preis i], [class*=prix i]"
# A price slot a script has not filled yet: "Loading price…", a skeleton/spinner, "--", an empty data-price.
_PLACEHOLDER_TEXT = re.compile(
    r"^(?:-{2,}|—+|…|\.{3}|(?:loading|fetching|updating|calculating)\b.{0,20}|.{0,12}\b(?:wird geladen|laden|"
    r"chargement|cargando|caricamento|a carregar|carregando|ładowanie)\b.{0,8}|加载中.{0,6}|読み込み中.{0,6})$", re.I)
_PLACEHOLDER_ATTR = re.compile(r"skeleton|placeholder|shimmer|spinner|loading|loader", re.I)
_MIN_SCORE = 2.0
# Distances in elements (document order): how near the title / buy button a price must sit to count.
_NEAR_TITLE = 300
_NEAR_BUTTON = 200
_NEAR_BEST = 80
_FROM_MARGIN = 2.0  # (score points: 0.1 of a candidate's confidence)
_MAX_TEXT = 60
_MAX_RAW_TEXT = 1000
_MAX_CLIMB = 3
_ANCESTORS = 12


@dataclass
class _Seen:
    node: LexborNode
    index: int
    amount: ParsedAmount
    before: str = ""
    after: str = ""
    score: float = 0.0
    role: str = "current"
    reasons: list[str] = field(default_factory=list)
    junction: int = -1  # mem_id of the first of its ancestors that holds the title (-1: none within reach)


@dataclass
class Visible:
    """What the visible page shows: scored candidates, the buy-box price and what surrounds it."""

    candidates: list[Candidate] = field(default_factory=list)
    best: Candidate | None = None  # the best candidate outside other products' blocks and the page chrome
    regular: Candidate | None = None
    effective: Candidate | None = None
    shipping: ParsedAmount | None = None
    rejected: list[Candidate] = field(default_factory=list)
    placeholder: bool = False  # the buy box's price slot still loads ("Loading price…", skeleton, "--")
    # Amounts the product's block shows only as something else than its price: a list price, a members'
    # or coupon price, a unit price, an instalment (a structured price among them is contradicted).
    aside: frozenset[Decimal] = frozenset()
    # Amounts the product's block shows only as a conditional price (a coupon's, a card's, members', an app's, several
    # units')
    conditional: frozenset[Decimal] = frozenset()
    # The upper ends of price ranges the product's block shows ("7.499,00 kr. – 8.999,00 kr.")
    range_high: frozenset[Decimal] = frozenset()
    # Read from a part of the page (``read_visible``'s ``within``): whether every element within reach of the
    # best amount (where its list price and shipping are looked for) lies in that part.
    reach_inside: bool = True
    # When it does not: how many elements before and after the part that reach needs (:func:`widened`)
    reach_short: tuple[int, int] = (0, 0)
    # The net amount the buy box leads with, drawn larger than the gross one after it: (net, gross)
    # (:func:`crawlers.extract.emphasis.weigh`)
    net_lead: tuple[Candidate, Candidate] | None = None


_NAMING = ("class", "id", "itemprop", "data-testid", "data-automation-id", "data-hook", "aria-label")


def _attrs(node: LexborNode, a: dict[str, str | None] | None = None) -> str:
    """The attributes that name what an element is, joined (``a``: its attributes when the caller has them)."""
    a = node.attributes if a is None else a
    return " ".join(filter(None, map(a.get, _NAMING))) if a else ""


_CONDITIONS = frozenset({"conditional", "multibuy"})  # (the roles of amounts paid only under a condition)


def _money_in(node: LexborNode, page: Page, currency: str | None, sep: str | None,
              bare: bool, text: str | None = None) -> ParsedAmount | None:
    """The one amount ``node`` shows (``text``: its text when the caller has it), ``_MANY`` or ``None``."""
    text = node.text(deep=True) if text is None else text
    # (what counts is the text as shown: a price element may carry a page of indentation and an
    # empty reviews widget, "Now $52.00" + 200 blanks, pretty-printed to thousands; a long text is not collapsed
    # when its first words are already more than the limit can show, one character and a blank each)
    if len(text) > _MAX_RAW_TEXT and shown_longer(text, _MAX_TEXT):
        return None
    text = " ".join(text.split())
    if not text or len(text) > _MAX_TEXT:
        return None
    got = _money_in_text(node, page, currency, sep, bare, text)
    last = node.last_child
    # (or a discount badge after them: "<span>R$</span><span>279</span><span>90</span> <span>20% OFF</span>")
    badge = (last is not None and not last.is_text_node and last.prev is not None
             and (_PERCENT_PART.fullmatch(last.text(deep=True)) is not None
                  or _PER_PART.fullmatch(last.text(deep=True)) is not None))
    if ((text[-2:].isdigit() or (text[-1:] not in _DIGIT_CHARS and _MINOR_THEN_SIGN.search(text)) or badge)
            and last is not None and (not last.is_text_node or last.prev is not None)):
        # (the text read whole may lose the minor units in their own element, or run them into the whole ones)
        apart = _minor_apart(node, page, currency, sep, bare)
        if apart is not None and (got is None or got is _MANY or apart.amount != got.amount):
            return apart
    return got


def _money_in_text(node: LexborNode, page: Page, currency: str | None, sep: str | None, bare: bool,
                   text: str) -> ParsedAmount | None:
    """The one amount ``text`` (``node``'s, collapsed) shows, ``_MANY`` or ``None``."""
    found = find_amounts(text, decimal_separator=sep, locale=page.locale, currency=currency, allow_bare=bare)
    if not found:
        return None
    if len(found) > 1 and not (len(found) == 2 and _RANGE.fullmatch(text[found[0].end:found[1].start])):
        dual = _dual_display(found, text, page, currency)
        if dual is not None:
            return dual
        return _MANY  # several prices in one element: each is read from its own smaller element
    first = found[0]
    if first.amount == first.amount.to_integral_value() and "." not in first.raw and "," not in first.raw:
        # "$31<sup>57</sup>": cents in their own element read as one number without a separator.
        split = _SPLIT_CENTS.match(" ".join(node.text(deep=True, separator=" ").split()))
        if split and ((split.group(1) and _HAS_CURRENCY.search(split.group(1))) or bare):
            symbol = split.group(1).strip()
            iso = currency_for_symbol(symbol, locale=page.locale, default=currency) if symbol else currency
            amount = Decimal(f"{split.group(2).replace(',', '')}.{split.group(3)}")
            return ParsedAmount(amount, iso, text, 0, len(text))
    return first


_DUAL_OPEN = re.compile(r"\s*[(\[（/]\s*(?:≈|~|[^\W\d_]{1,6}\.?)?\s*")
_DUAL_CLOSE = re.compile(r"\s*[)\]）]?\s*$")


def _dual_display(found: list[ParsedAmount], text: str, page: Page, currency: str | None) -> ParsedAmount | None:
    """The one price of a dual display: an amount and its equivalent in another currency in parentheses (or after a
    slash) right after it, "389,00 € (760,82 лв.)" during a changeover, "12 990 Ft (kb. 33 EUR)", read as one
    element. The amount in the page's currency (``currency``, else its country's one legal tender) is the price;
    None when the element is no such pair, or neither amount is in that currency."""
    if len(found) != 2:
        return None
    first, second = found
    if first.currency is None or second.currency is None or first.currency == second.currency:
        return None
    if not _DUAL_OPEN.fullmatch(text[first.end:second.start]) or not _DUAL_CLOSE.match(text[second.end:]):
        return None
    own = currency or home_currency(page)
    return next((f for f in found if f.currency == own), None)


# A discount badge in an element of its own: "20% OFF", "-15 %", "30% de desconto"
_PERCENT_PART = re.compile(r"\s*[-−]?\d{1,2}\s?%\s*(?:off|de desconto|desconto|descuento|dto\.?|rabatt|korting|remise|"
                           r"sconto)?\s*", re.I)
# What an amount is per, in an element of its own after it: "/bag", "/ ea.", "/m²"
_PER_PART = re.compile(r"\s*/\s*[^\W\d]{1,10}[²³]?\.?\s*")
# The minor units of an amount in an element of their own, after the whole units: "21<sup>.99</sup>",
# "<span class=int>21</span><span class=dec>99</span>", "$8,999<sup>00</sup>" (optionally a sign after them).
_MINOR_ONLY = re.compile(r"[.,]?\s*(\d{2,3})")  # (on the text stripped: see _minor_only)
_SIGN_ONLY = re.compile(r"\s*(?:[A-Z]{0,3}[$€£¥₹₩₽₺₴฿₫₱₪₦]|S/\.?|Bs\.?|Rp\.?|RM|Rs\.?|Gs\.?|KM|kn|TL|kr\.?|"
                        r"zł|Kč|Ft|[Ll]ei|лв\.?|руб\.?|[A-Z]{3})\s*")
# The text of such an amount with its sign after the minor units: "1995€" read from "19<sup>95</sup>€".
_MINOR_THEN_SIGN = re.compile(r"\d\d" + _SIGN_ONLY.pattern + "$")
_DIGIT_CHARS = frozenset("0123456789")


def _text_of(node: LexborNode) -> str:
    return (node.text_content or "") if node.is_text_node else node.text(deep=True)


def _minor_apart(node: LexborNode, page: Page, currency: str | None, sep: str | None,
                 bare: bool) -> ParsedAmount | None:
    """The amount ``node`` shows with its minor units in an element of their own, the last one it holds
    (after them at most a currency sign): whole units, then as many digits as the currency has minor units
    ("$14<sup>99</sup>" is 14.99, "R$ <b>1.899</b><sup>90</sup>" 1,899.90, "129€<sup>90</sup>" 129.90); else None.

    Read as one text, the digits run together ("$8,99900") or the cents are lost ("$21"). A currency
    without minor units (JPY, CLP) never splits so.
    """
    parts = [child for child in node.iter(include_text=True) if _text_of(child).strip()]
    if len(parts) > 3 and (_PERCENT_PART.fullmatch(_text_of(parts[-1])) or _PER_PART.fullmatch(_text_of(parts[-1]))):
        parts = parts[:-1]  # (a discount badge after the amount, "20% OFF", or what it is per, "/bag")
    tail = ""
    if len(parts) > 2 and _SIGN_ONLY.fullmatch(_text_of(parts[-1])):
        tail = _text_of(parts[-1]).strip()
        parts = parts[:-1]
    if len(parts) < 2 or parts[-1].is_text_node:
        return None
    minor = _minor_only(_text_of(parts[-1]))
    if minor is None:
        return None
    # (a label before the whole units, a screen reader's "Price" in a span of its own, is not glued to them:
    # "Price$15" reads as no amount)
    lead = 0
    while lead < len(parts) - 2 and not _digit_or_sign(_text_of(parts[lead])):
        lead += 1
    units = " ".join("".join(_text_of(child) for child in parts[lead:-1]).split())
    found = find_amounts(units, decimal_separator=sep, locale=page.locale, currency=currency, allow_bare=bare)
    if not found and tail and not bare:
        # (the sign after the minor units is the whole amount's: "<span>19</span><sup>95</sup><span>€</span>")
        found = [f for f in find_amounts(f"{units} {tail}", decimal_separator=sep, locale=page.locale,
                                          currency=currency) if f.end > len(units)]
        found = [replace(f, end=min(f.end, len(units)), raw=units[f.start:]) for f in found]
    if not found:
        return None
    whole = found[-1]
    code = whole.currency or currency or (find_amounts(tail, locale=page.locale)[:1] or [whole])[0].currency
    digits = minor.group(1)
    if (whole.amount != whole.amount.to_integral_value() or units[whole.end:].strip() or code is None
            or minor_units(code) != len(digits)):
        return None  # (the whole units end the text before them: "$21", "R$ 1.899", "129€")
    raw = " ".join(f"{whole.raw} {digits} {tail}".split())
    return ParsedAmount(whole.amount + Decimal(digits).scaleb(-len(digits)), code, raw, 0, len(raw))


def _digit_or_sign(text: str) -> bool:
    return any(c.isdigit() for c in text) or SIGN.search(text) is not None


def _minor_only(text: str) -> re.Match[str] | None:
    r"""``text`` as minor units alone (".99", " 95 "), else None. Stripped first and bounded: blanks around it written
    into the pattern as ``\s*`` on both sides of an optional ``[.,]`` made a failing match try every split of a long
    run of blanks (a pretty-printed page's next element: 40,000 blanks took a minute)."""
    text = text.strip()
    return _MINOR_ONLY.fullmatch(text) if len(text) <= _MINOR_CHARS else None


_MINOR_CHARS = 12


def _minor_after(element: LexborNode) -> bool:
    """Whether the next element beside ``element`` (blanks between) shows only minor units ("$21" ".99")."""
    sib = element.next
    while sib is not None and sib.is_text_node and not (sib.text_content or "").strip():
        sib = sib.next
    return sib is not None and not sib.is_text_node and _minor_only(sib.text(deep=True)) is not None


def title_ancestors(page: Page) -> frozenset[int]:
    """``mem_id`` of every ancestor of the ``h1``: containers holding the title are the product, not noise."""
    node = page.heading
    ids: set[int] = set()
    while node is not None:
        ids.add(node.mem_id)
        node = node.parent
    return frozenset(ids)


def _record(seen: dict[int, _Seen], element: LexborNode, index: int, amount: ParsedAmount) -> None:
    # (The text around it is read where it counts, by _around and _label_before: not the parent's
    # whole text, which on a product grid is the grid's.)
    if element.mem_id not in seen:
        item = seen[element.mem_id] = _Seen(element, index, amount)
        item.before, item.after = _around(element, amount)


def _walk(body: LexborNode, signs: tuple[str, ...],
          dashes: bool = False) -> tuple[list[LexborNode], dict[int, int]]:
    """One walk over the body: the elements whose own text shows one of ``signs``, and every node's position.

    The elements are those ``*:lexbor-contains(sign)`` finds for any of the signs (one of their own
    text nodes holds the sign), and with ``dashes`` those whose own text shows a number with a dash for no minor units
    ("349,-"), in document order; positions count the nodes ``body.traverse()``
    yields (elements and comments, not text). One walk in Python costs less than lexbor's search,
    which reads every element's text once per sign, plus the walk that found positions.
    """
    search = _any_of(frozenset(signs)).search
    dashed = _DASHED_TEXT.search if dashes else None
    ids: list[int] = []  # every element's mem_id, in document order: its position is its index
    add = ids.append
    parents: list[LexborNode] = []
    # (A text node of blanks only never holds a sign: lexbor skips those in C. Only a text node has text content:
    # an element's and a comment's is None.)
    for node in body.traverse(include_text=True, skip_empty=True):
        text = node.text_content
        if text is None:
            add(node.mem_id)
        elif search(text) or (dashed is not None and ("-" in text or "–" in text or "—" in text) and dashed(text)):
            parent = node.parent
            if parent is not None:
                parents.append(parent)
    # (built in one C call rather than one store per node; a parent comes before its text, so it is there)
    positions = dict(zip(ids, range(len(ids)), strict=True))
    starts = [(positions[parent.mem_id], parent) for parent in parents]
    starts.sort(key=lambda start: start[0])  # (stable: an element comes where lexbor finds it)
    return [element for _, element in starts], positions


def _collect(page: Page, currency: str | None, sep: str | None, slots: list[LexborNode] | None = None,
             within: LexborNode | None = None) -> tuple[list[_Seen], int | None, int | None, int]:
    """Every short element showing one amount, with its position in document order (elements only), the
    positions of the title and the buy button, and how many positions there are.

    ``within``: an element whose subtree alone is read (the product's block), positions counted from it.

    One walk over the body finds the elements whose own text holds a currency sign, and lexbor
    finds, in C, the elements labelled as prices; Python then looks at those few dozen instead of
    every node of a 500 KB page.
    """
    body = page.tree.body if within is None else within
    if body is None:
        return [], None, None, 0
    seen: dict[int, _Seen] = {}
    # (and the signs of the page's own currency, as its structured data names it: "219 ر.س" on a page whose
    # language says no country, "ar")
    starts, positions = _walk(body, _signs(page.locale, currency), dashes=True)
    for node in starts:
        element: LexborNode | None = node
        for _ in range(_MAX_CLIMB):
            if element is None:
                break
            own = element.text(deep=True)
            amount = _money_in(element, page, currency, sep, False, own)
            if amount is None and _SIGN_ONLY.fullmatch(own) and element.parent is not None and _money_in(
                    element.parent, page, currency, sep, False) in {None, _MANY}:
                # "<span>¥</span><span>529.00</span> <del>¥699.00</del>": the sign in an element of its own, the amount
                # in the next, beside another amount or a long text (alone with the sign, their parent reads as the
                # amount)
                signed = _signed_next(element, own, page, currency, sep)
                if signed is not None:
                    _record(seen, *signed)
                    break
            if amount is _MANY:
                break
            if (amount is not None and amount.amount == amount.amount.to_integral_value()
                    and element.parent is not None and _minor_after(element)):
                # "<span>$21</span><span>.99</span>": the two are one amount, read from their parent
                whole = _minor_apart(element.parent, page, currency, sep, False)
                if whole is not None:
                    element, amount = element.parent, whole
            if amount is not None and not _continues(element, own):
                _record(seen, element, 0, amount)
                break
            if shown_longer(own, _MAX_TEXT):  # (as shown: an indent is no text)
                break
            element = element.parent
    for node in body.css(_PRICE_SELECTOR):
        # A bare number ("13.74") counts only in an element that says it is a price, and only when
        # neither it nor a near ancestor shows an amount with its currency sign.
        if node.mem_id in seen:
            continue
        own = node.text(deep=True)
        if not _BARE_NUMBER.fullmatch(own) and not (COLON_ALONE.fullmatch(own)
                                                     and reads_colon_decimals(page.locale, currency)):
            # (colon decimals alone, "24:90", are a price on a Nordic page: amounts.py reads them there)
            if slots is not None and len(own) <= 120 and not any(c.isdigit() for c in own):
                slots.append(node)  # a price element showing no number: maybe a slot still loading
            continue
        parent, covered = node.parent, False
        for _ in range(_MAX_CLIMB):
            if parent is None:
                break
            if parent.mem_id in seen:
                covered = True
                break
            parent = parent.parent
        if covered:
            continue
        bare = _money_in(node, page, currency, sep, True, own)
        if bare is not None and bare is not _MANY:
            _record(seen, node, 0, bare)
    if seen and page.style_hiding is not None:
        # (those the page's own stylesheet hides, with an ancestor or by themselves, leave the tree: never read)
        shown = {node.mem_id for node in page.shown([item.node for item in seen.values()])}
        seen = {mem_id: item for mem_id, item in seen.items() if mem_id in shown}
    h1 = page.heading
    button = page.buy_button
    if not seen:
        return [], None, None, len(positions)
    for mem_id, item in seen.items():
        item.index = positions.get(mem_id, 0)
    h1_index = positions.get(h1.mem_id) if h1 is not None else None
    button_index = positions.get(button.mem_id) if button is not None else None
    return sorted(seen.values(), key=lambda i: i.index), h1_index, button_index, len(positions)


def _signed_next(sign: LexborNode, own: str, page: Page, currency: str | None,
                 sep: str | None) -> tuple[LexborNode, int, ParsedAmount] | None:
    """The element right after ``sign`` (an element showing only a currency sign, ``own``) with the amount it shows
    when its text is a number alone, read with that sign; None otherwise (a number with its minor units in an element
    of its own is read from their parent)."""
    nxt = sign.next
    while nxt is not None and nxt.is_text_node and not (nxt.text_content or "").strip():
        nxt = nxt.next
    if nxt is None or nxt.is_text_node or _minor_after(nxt):
        return None
    text = nxt.text(deep=True)
    if len(text) > 40 or not (_BARE_NUMBER.fullmatch(text) or COLON_ALONE.fullmatch(text)):
        return None
    found = find_amounts(f"{own.strip()}{text.strip()}", decimal_separator=sep, locale=page.locale, currency=currency)
    if len(found) != 1 or found[0].currency is None:
        return None
    return nxt, 0, found[0]


def _continues(element: LexborNode, own: str) -> bool:
    """Whether ``element`` (its text ``own``) shows only the cents of an amount begun by bare digits right
    before it: "299<sup>€99</sup>" is 299,99 €, not 99 € (its parent, read whole, is the price)."""
    if shown_longer(own, 12) or not _CENTS_ONLY.match(own := _shown(own)):  # (as shown: "€\n    99" is "€ 99")
        return False
    prev = element.prev
    if prev is None or element.parent is None:
        return False
    text = (prev.text_content or "") if prev.tag == "-text" else prev.text(deep=True)
    return _BARE_UNITS.search(text) is not None


# "€99", ",99", ".99": cents after the units; "299", " 1 299": units without a sign
_CENTS_ONLY = re.compile(r"^(?:[€$£]|kr|zł|Kč)?\s?[.,]?\d{2}\s*$")
_BARE_UNITS = re.compile(r"(?:^|\s)\d[\d\s.']*\d$|(?:^|\s)\d$")


_PERCENT_LABEL = re.compile(r"\d+(?:[.,]\d+)?\s?%")


# Digits a label does not show: an amount's (three in a row, a separator between two, a currency sign beside them)
_NOT_LABEL = re.compile(r"\d{3}|\d[\s.,'\u00a0\u202f]\d|" + _HAS_CURRENCY.pattern)


def _another_amount(text: str) -> bool:
    """Whether ``text`` shows a number a label does not (:data:`_NOT_LABEL`; a percentage is part of a label)."""
    label = _PERCENT_LABEL.sub("", text)
    return any(c.isdecimal() for c in label) and _NOT_LABEL.search(label) is not None


def _sibling_text(node: LexborNode | None, forward: bool) -> str:
    """The nearest non-blank sibling's text, when it is a pure label (no amount: "Was:", "/mo", "ab 3 Stück")."""
    hops = 0
    while node is not None and hops < 3:
        text = node.text(deep=True) if node.tag != "-text" else (node.text_content or "")
        text = " ".join(text.split())
        if text:
            # (a percentage is part of a label: "Subscribe & Save 15%")
            # (a number is a decimal digit: "m²" and "m³" are labels)
            # (a count is part of a label too: "From 5 pieces:", "More sellers (2) from"; never an amount's digits)
            if len(text) > 40:
                if not forward or node.tag != "-text":
                    return ""
                # (the sentence the amount is in goes on with what it says of it: "<b>AED 1,000</b> off your monthly
                # bills when you trade in your old phone"; an element after it is another block)
                text = text[:40]
            if _another_amount(text):
                return ""
            return text
        node = node.next if forward else node.prev
        hops += 1
    return ""


def _raw_sibling(node: LexborNode, forward: bool) -> str:
    """The nearest non-blank sibling's text as shown, blanks collapsed (to spot "$" "79." "99" split into elements;
    its length is a label's only as shown: a pretty-printed label is no longer to a shopper)."""
    sib = node.next if forward else node.prev
    for _ in range(3):
        if sib is None:
            return ""
        text = (sib.text_content or "") if sib.tag == "-text" else sib.text(deep=True)
        if text.strip():
            return text.strip() if shown_longer(text, 400) else _shown(text)  # (a long text is no label either way)
        sib = sib.next if forward else sib.prev
    return ""


def _around(element: LexborNode, amount: ParsedAmount) -> tuple[str, str]:
    """Text just before and after the amount: inside its element, then a label beside it."""
    own = " ".join(element.text(deep=True, separator=" ").split())
    raw = amount.raw
    at = own.find(raw)
    if at < 0 and "<" not in raw:
        # (the amount was read across elements the separator now splits: "85折<b>408</b>元" is "408元")
        plain = " ".join(element.text(deep=True).split())
        at = plain.find(raw)
        if at > 0:
            own = plain
        else:
            at = -1
    before_own, after_own = (own[:at], own[at + len(raw):]) if at >= 0 else ("", "")
    if at < 0:
        # split cents ("$ 31 57"): the element is the price itself
        before_own = ""
    before = _sibling_text(element.prev, forward=False) + " " + before_own
    parent = element.parent
    if not before_own.strip() and parent is not None and not shown_longer(parent.text(deep=True), 79):
        before = _sibling_text(parent.prev, forward=False) + " " + before
    after = after_own + " " + _sibling_text(element.next, forward=True)
    if not after.strip() and parent is not None and element.prev is None and element.next is None:
        # (a suffix beside the amount's wrapper, which holds nothing else, its only child: WooCommerce's "<span
        # class=amount><bdi>8,26 €</bdi></span> <small class=woocommerce-price-suffix>/ caja sin IVA</small>")
        after = _sibling_text(parent.next, forward=True)
    if not before.strip():
        before = row_label(element, raw)  # (a table row's label cell: "<td>Cena brutto:</td><td><b>275,00 zł")
    return before.strip()[-40:], after.strip()[:30]


def _label_in_group(node: LexborNode, raw: str) -> str:
    """The words after the amount ``raw`` in its group, up to a number: the group is the largest of its element and
    that element's two nearest ancestors that shows no other number, and at most 80 characters ("<li><span>$
    299.990</span> <span>Precio con Tarjeta CMR</span></li>"). A label that ends the group is the group's amount's,
    wherever the next amount's label stands: a buy box that lists its prices as label-after rows (Falabella,
    Coupang) names each by it. Words with a number of their own say something else of it ("Extra 10% off with code
    SPRING": a coupon on the price, not the price after it)."""
    words = own = ""
    for _ in range(3):
        text = " ".join(node.text(deep=True, separator=" ").split())
        own = own or text  # (the amount's element, as shown)
        # (an amount read across elements, "<span>$</span><span>299</span><span>990</span>", is found as its element
        # shows it)
        at, size = (text.find(raw), len(raw)) if raw in text else (text.find(own), len(own))
        if len(text) > 80 or at < 0:
            break
        rest = f"{text[:at]} {text[at + size:]}"
        if _another_amount(rest) and _another_amount(_without_controls(node, rest)):
            break  # (another amount: the group is the element below)
        words = text[at + size:]
        if node.parent is None:
            break
        node = node.parent
    cut = next((i for i, c in enumerate(words) if c.isdigit()), len(words))
    return " ".join(words[:cut].split())[:40]  # (up to a number: "Extra 10% off with code SPRING" is said of it)


def _without_controls(node: LexborNode, text: str) -> str:
    """``text`` (``node``'s, as shown) without what its buttons and links say: a control's amount is what the action
    gives or leads to ("쿠폰 받기 10,000원", "3 more sellers from $91.50"), not an amount the group shows."""
    for control in node.css("button, a"):
        said = " ".join(control.text(deep=True, separator=" ").split())
        if said:
            text = text.replace(said, " ")
    return text


def _lead_after(node: LexborNode) -> str:
    """The first words of the text right after ``node`` when that text is too long to be a label of its own
    ("$ 1.709.910 pagando con tarjeta de crédito Banco Cafetero Visa."): what the amount is, is said first."""
    text = _raw_sibling(node, forward=True)[:60]
    digit = next((at for at, c in enumerate(text) if c.isdigit()), len(text))
    return " ".join(text[:digit].split())  # (up to a number: "con transferencia bancaria (10% de descuento)")


_HIDDEN_LABEL = re.compile(r"(?:^|[\W_])(?:sr-only|visually-hidden|screen-reader-text|a11y-hidden)(?:$|[\W_])", re.I)


def _labelled_after_as_was(node: LexborNode) -> bool:
    """Whether the element right after the amount's element is a screen-reader label naming it the list price
    ("<span>$1,499.00</span><span class=sr-only>Regular Price</span>") and no amount follows among its siblings:
    a label that trails the amounts names the one it follows (a label before the next amount names that one)."""
    sib = node.next
    while sib is not None and sib.tag == "-text" and not (sib.text_content or "").strip():
        sib = sib.next
    if sib is None or sib.tag == "-text" or not _HIDDEN_LABEL.search(sib.attributes.get("class") or ""):
        return False
    text = sib.text(deep=True)
    if shown_longer(text, 40) or not WAS_TEXT.match(text := _shown(text)):
        return False
    rest = sib.next
    while rest is not None:
        if any(c.isdigit() for c in ((rest.text_content or "") if rest.tag == "-text" else rest.text(deep=True))):
            return False
        rest = rest.next
    return True


_ENDS_IN_AMOUNT = re.compile(r"\d[\s\xa0]?(?:kr\.?|[$€£¥￥₹₩₽₺₴฿₫₱₪₦円元원৳]|[A-Z]{3}|Kč|zł|Ft|lei|Lei)$")


def _after_an_amount(node: LexborNode) -> bool:
    """Whether the text before the separator that precedes ``node`` ends with a number ("$89.00 – ")."""
    for _ in range(3):  # the amount's element, or the one or two around it (<span><bdi>$129.00</bdi></span>)
        texts: list[str] = []
        sib = node.prev
        while sib is not None and len(texts) < 2:
            text = ((sib.text_content or "") if sib.tag == "-text" else sib.text(deep=True)).strip()
            if text:
                texts.append(text)
            sib = sib.prev
        if texts:
            # (the low end may end with its currency: "7.499,00 kr. – 8.999,00 kr.", "129 € – 149 €")
            return (len(texts) == 2 and _RANGE_SIGN.fullmatch(texts[0]) is not None
                    and (texts[1][-1:].isdigit() or _ENDS_IN_AMOUNT.search(texts[1]) is not None))
        if node.parent is None:
            return False
        node = node.parent
    return False


def _label_before(node: LexborNode) -> str:
    """A label just before the amount's element or one of its two parents ("Lowest price in the last
    30 days: <span><span>119,00 €</span></span>"), back to the previous amount at most.

    The sibling texts of :func:`_around` stop at a number; such a label holds one ("30").
    """
    for _ in range(3):
        label = _raw_sibling(node, forward=False)
        if label:
            if len(label) > 160:
                return ""
            prior = list(_MONEYISH.finditer(label))
            return (label[prior[-1].end():] if prior else label)[-80:]
        if node.parent is None:
            return ""
        node = node.parent
    return ""


_MONEYISH = re.compile(r"\d[\d.,'\s]*[.,]\d{2}(?!\d)|[$€£¥₹]\s?\d+")
# (and back to any number of three digits or more: "Cicilan 0% mulai Rp104.083/bln" is the label of that amount)
_LABEL_CUT = re.compile(r"\d{3,}|" + _MONEYISH.pattern)


def _segment(context: str, raw: str) -> tuple[str, str]:
    """The text just before ``raw`` back to the previous amount, and just after it up to the next one."""
    at = context.find(raw)
    if at < 0:
        return context[-40:], ""
    before, after = context[:at], context[at + len(raw):]
    prior = list(_AMOUNT_EDGE.finditer(before))
    if prior:
        before = before[prior[-1].end():]
    nxt = _AMOUNT_EDGE.search(after)
    if nxt:
        after = after[:nxt.start()]
    return before[-40:], after[:30]


# (a percentage is no amount: "Cicilan 0% mulai Rp108.250" keeps its label, nor a discount rate, "88VIP 95折"; nor a
# time of day: "Desde las 20:00:", "ab 20 Uhr:")
_AMOUNT_EDGE = re.compile(r"(?<!\d:)(?<!:\d)\d(?:[\d,.]*\d)?(?![\d.,]*\d|\s?[%折]|:\d\d|\s?(?i:uhr|[ap]\.?m\.?)\b)")


@dataclass(slots=True)  # (not frozen: a frozen dataclass sets each field through object.__setattr__)
class _Box:
    """What one ancestor element says, computed once per page (ancestors are shared by candidates)."""

    tag: str
    attrs: str
    struck: bool
    price: bool
    was: bool
    weak_was: bool
    current: bool
    itemprop_price: bool
    noise: bool
    buy_box: bool
    user_content: bool


@lru_cache(maxsize=4096)
def _by_shoppers(attrs: str) -> bool:
    """Whether an element's names say it holds what shoppers write (a review, a question, a comment) and not a price:
    an amount quoted there is never a candidate (:data:`crawlers.extract.page.USER_CONTENT_NAME`)."""
    return USER_CONTENT_NAME.search(attrs) is not None and PRICE_NAME.search(attrs) is None


@lru_cache(maxsize=4096)
def _aside_kind(attrs: str) -> str | None:
    """unit, net, reference, conditional or addon: what kind of amount the markup says it holds, if any."""
    match = _ASIDE_ATTR.search(attrs) if attrs else None
    return match.lastgroup if match else None


@lru_cache(maxsize=4096)
def _attr_flags(attrs: str) -> tuple[bool, bool, bool, bool, bool, bool]:
    """price, was, weak_was, current, noise, buy_box: what an element's attributes say (a page
    repeats a few class names on hundreds of elements; each is read once)."""
    price = _PRICE_ATTR.search(attrs) is not None
    current = _CURRENT_ATTR.search(attrs) is not None
    return (price, _WAS_ATTR.search(attrs) is not None and not current,
            _WEAK_WAS_ATTR.search(attrs) is not None and not current, current and price,
            _NOISE_ATTR.search(attrs) is not None and not price, _BUY_BOX_ATTR.search(attrs) is not None)


_NO_FLAGS = (False, False, False, False, False, False)


def _box(node: LexborNode, cache: dict[int, _Box]) -> _Box:
    found = cache.get(node.mem_id)
    if found is None:
        a = node.attributes
        attrs = _attrs(node, a)
        tag = node.tag or ""
        price, was, weak_was, current, noise, buy_box = _attr_flags(attrs) if attrs else _NO_FLAGS
        found = _Box(
            tag=tag, attrs=attrs,
            struck=tag in {"del", "s", "strike"} or "line-through" in (a.get("style") or ""),
            price=price, was=was, weak_was=weak_was, current=current,
            itemprop_price=a.get("itemprop") in {"price", "lowPrice"},
            noise=noise, buy_box=buy_box, user_content=bool(attrs) and _by_shoppers(attrs),
        )
        cache[node.mem_id] = found
    return found


def _score(item: _Seen, h1: int | None, button: int | None,
           title_box: frozenset[int] = frozenset(), cache: dict[int, _Box] | None = None,
           holders: dict[int, int] | None = None) -> None:
    cache = {} if cache is None else cache
    node: LexborNode | None = item.node
    own = _box(item.node, cache).attrs
    depth = 0
    noise = shoppers = False
    attrs_near: list[str] = []  # the attributes of the amount's element and its three nearest ancestors
    while node is not None and depth < _ANCESTORS and (mem_id := node.mem_id) not in title_box:
        box = cache.get(mem_id) or _box(node, cache)
        if depth < 4:
            attrs_near.append(box.attrs)
            if box.struck:
                item.role = "regular"
                item.reasons.append("struck")
            if box.price:
                item.score += 3.0 if depth < 2 else 1.5
            if box.was and depth and holders is not None and holders.get(node.mem_id, 0) > 1:
                pass  # (a container of several amounts: "product-price-list" lists prices, it is no list price)
            elif box.was:
                item.role = "regular"
                item.reasons.append(f"was-attr:{box.attrs[:40]}")
            elif box.weak_was:
                item.score -= 2.0
                item.reasons.append("weak-was")
            elif box.current:
                item.score += 1.5
            if box.itemprop_price:
                item.score += 2.0
            if (depth < 2 and box.tag in _PRICE_HEADINGS and "heading" not in item.reasons
                    and len(_shown(node.text(deep=True))) <= len(item.amount.raw) + 3):
                # (a heading that holds the amount alone, OpenCart's "<h2>119,90€</h2>": the price shown largest)
                item.score += 1.5
                item.reasons.append("heading")
            if box.buy_box and "buy-box" not in item.reasons:
                item.score += 1.5
                item.reasons.append("buy-box")
        if not noise and box.noise:
            noise = True
            item.score -= 4.0
            item.reasons.append(f"noise:{box.attrs[:40]}")
        if box.tag in {"header", "footer", "nav", "aside"}:
            item.score -= 3.0
            item.reasons.append(box.tag)
        shoppers = shoppers or box.user_content
        node = node.parent
        depth += 1
    if node is not None and node.mem_id in title_box:
        item.junction = node.mem_id
    before, after = _segment(item.before + " " + item.amount.raw + " " + item.after, item.amount.raw)
    tail = item.after
    near = before + " " + own
    if _TOTAL_LABEL.search(before[-25:]):
        item.score -= 3.0  # "Total price" of a bundle or the cart, not this item
        item.reasons.append("total")
    elif _PRICE_LABEL.search(before[-25:]) or (_POR.search(item.before) and not _COUNT_POR.search(item.before)):
        item.score += 2.0
    if WAS_TEXT.search(before[-30:]):
        item.role = "regular"
        item.reasons.append("was-text")
    elif item.role == "current" and _labelled_after_as_was(item.node):
        item.role = "regular"
        item.reasons.append("was-label-after")
    label = ""  # (the label before the amount's element, read once for the "lowest price" and instalment tests)
    if _fee(before, item.after):
        item.role = "fee"
    elif _RANGE_HIGH.search(item.before) or (_RANGE_SIGN.fullmatch(item.before) and _after_an_amount(item.node)):
        # the upper end of "$19.99 - $39.99" (also with each end in its own element, the separator
        # between them): the "from" price is the low end
        item.role = "range-high"
    elif ((_UNIT_TAIL.match(tail) and not _own_piece_price(tail, own))
          or (_UNIT_TEXT.search(before[-30:]) and not _own_piece_label(before[-30:], item.node, cache))):
        item.role = "unit"
    elif NET_TEXT.search(before[-35:] + " " + after[:20]) and not _GROSS_TEXT.search(after[:15]):
        item.role = "net"
    elif _CONVERTED.search(before[-15:]):
        item.role = "converted"
    elif LOWEST_30.search(item.before) or (not noise and LOWEST_30.search(label := _label_before(item.node))):
        item.role = "reference"  # (not the segment, which stops at the "30"; another product's block: no matter)
    elif _MULTI_BUY.search(item.before[-30:]) or _MULTI_BUY.search(before):
        item.role = "multibuy"  # (also not the segment: it stops at the count, "10本")
    elif (CONDITIONAL.search(before[-30:]) or _CARD_TAIL.match(tail) or _JOIN_TAIL.match(tail)
          or (not noise and CONDITIONAL.search(_label_in_group(item.node, item.amount.raw)))
          or (not noise and _card_logo(item.node))
          or (not noise and _COUPON_LABEL_END.search(label) is not None)
          or (not tail.strip() and _CARD_TAIL.match(_lead_after(item.node)))):
        item.role = "conditional"
    elif (_INSTALMENT.search(before + " " + after) or _INSTALMENT_TAIL.match(tail) or _INSTALMENT_ATTR.search(own)
          or (not noise and INSTALMENT_LABEL.search(_LABEL_CUT.split(label)[-1]) is not None)
          or (not (before + after).isascii() and _INSTALMENT_LOCAL.search(before + " " + after))):
        item.role = "instalment"
    elif _TIMES_COUNT.search(item.before[-8:]):
        item.role = "multibuy"
    elif _THRESHOLD.search(near) or _THRESHOLD_TAIL.match(after):
        item.role = "threshold"
    elif (_SAVING.search(_PERCENT_BADGE.sub("", before[-20:])) or _SAVING_TAIL.match(after)
          or (not before[-20:].isascii() and _SAVING_LOCAL.search(before[-20:]))
          or (_POINTS_TAIL.match(after) is not None and _points_after(item)) or _points_row(item.node)):
        item.role = "saving"
    elif _SHIPPING.search(before[-25:] + " " + after[:15]) or WITH_DELIVERY.search(before[-25:]):
        item.role = "shipping"
    elif _ADDON.search(item.before):
        item.role = "addon"
    elif item.role == "current":
        aside = next(filter(None, map(_aside_kind, attrs_near)), None)
        if (aside == "unit" and _PRICE_LABEL.search(before[-25:])
                and not _PER_MEASURE.search(before[-25:] + " " + after[:20])):
            # (markup named "unitPrice" around an amount the text labels the price, with no measure it is per:
            # the price of one unit bought, "販売価格 ￥39,800（税込）", not a price per kilo or litre)
            aside = None
        if aside is not None:
            item.role = aside
    if item.amount.currency is not None:
        item.score += 1.0
    elif item.node.attributes.get("itemprop") not in {"price", "lowPrice"}:
        item.score -= 2.0  # a bare number in a "price" box is often a fragment ("99" of "$79.99")
        item.reasons.append("bare")
        prev, nxt = _raw_sibling(item.node, False), _raw_sibling(item.node, True)
        if (_HAS_CURRENCY.search(item.before[-2:]) or item.after.startswith((".", ","))
                or prev.endswith((".", ",", "$")) or nxt.startswith((".", ","))):
            item.role = "fragment"
    if h1 is not None:
        distance = item.index - h1
        if 0 < distance < _NEAR_TITLE:
            item.score += 4.0 * (1 - distance / _NEAR_TITLE)
        elif distance <= 0:
            item.score -= 1.0
    if button is not None:
        distance = abs(item.index - button)
        if distance < _NEAR_BUTTON:
            item.score += 3.0 * (1 - distance / _NEAR_BUTTON)
    if "+" in after[:2] or _FROM.search(before[-20:]) or FROM_AFTER.match(after):
        item.reasons.append("from-price")
    if shoppers:
        item.role = "user-content"  # (a review's "paid 899,95 kr in November": never the price)


# A piece as the unit an amount is per ("329,00 zł / szt.", "R$ 18,49 /un.", "$4.99 each"), and markup naming an
# element the price itself, not a unit price
_PIECE_TAIL = re.compile(r"\s*\*?\s*(?:/|per|pro|je|за)\s*(?:1\s*)?(?:szt|ks|kpl|st|un|und|ud|pz|шт|adet|kom|pcs?|"
                         r"pieces?|stück|stk)\b\.?", re.I)
_OWN_PRICE_NAME = re.compile(r"price|preis|prix|precio|preco|prezzo|cena|fiyat", re.I)


def _own_piece_price(tail: str, own: str) -> bool:
    """Whether an amount is per piece ("/ szt.", "/un.") in an element whose own markup names it the price (not a
    unit price): the price of the one piece a shopper buys, whatever total a quantity preset to four shows beside
    it ("Razem za komplet 1 316,00 zł") or a box of twenty costs."""
    return bool(_PIECE_TAIL.match(tail)) and _names_the_price(own)


def _names_the_price(attrs: str) -> bool:
    """Whether an element's markup (``attrs``) names it the price, not a unit price."""
    return _OWN_PRICE_NAME.search(attrs) is not None and "unit" not in attrs.lower()


# A label naming the price of one piece ("Preço por unidade:", "Precio por unidad", "Cena za kus", "Prix à l'unité")
_PIECE_LABEL = re.compile(r"(?:precio|preço|prix|prezzo|cena|cijena|prijs)\s(?:por|par|per|za)\s(?:1\s)?(?:unidad|"
                          r"unidade|unité|unità|pezzo|pieza|szt|sztukę|ks|kus|kom|komad|stuk)\b|prix à l'unité", re.I)


def _own_piece_label(label: str, node: LexborNode, cache: dict[int, _Box]) -> bool:
    """Whether the label before an amount names the price of one piece and the amount's element, or the element
    holding it, is named the price by its markup (``<p class="price">Preço por unidade: <span>64,90 €</span>``):
    the price of the one piece a shopper buys (a set of two beside it costs more), no unit price."""
    if not _PIECE_LABEL.search(label):
        return False
    return any(box is not None and _names_the_price(_box(box, cache).attrs) for box in (node, node.parent))


def _fee(before: str, after: str) -> bool:
    """Whether the label before an amount (``before``, back to the previous amount) or the words right after it
    (``after``) name it a recycling fee or a levy (:data:`FEE`): a label before it counts when no price label
    comes after it ("Éco-participation incluse. Prix : 349,99 €" is the price)."""
    tail = before[-40:]
    if FEE.search(tail):
        last = list(FEE.finditer(tail))[-1]  # (the last fee word counts: no price label may follow it)
        rest = tail[last.end():]
        # (nor is "Prix éco-part. incluse : 349,99 €" a fee: a price label, then the fee it includes)
        if not _PRICE_LABEL.search(rest) and not (_INCLUDED.match(rest) and _PRICE_LABEL.search(tail[:last.start()])):
            return True
    return _FEE_AFTER.match(after) is not None


# A store card's logo as the amount's label ("<img alt="Tarjeta Oh!"> Precio Oh! S/ 139.90"): its holders' price.
CARD_ALT = re.compile(r"tarjeta|\bcard\b|karte\b|\bcarte\b|cart[aã]o|\bkart[aeyı]?\b|карт", re.I)


def _points_after(item: _Seen) -> bool:
    """Whether the amount's own element names it points or a bonus right after it (:data:`_POINTS_TAIL`)."""
    own = item.node.text(deep=True, separator=" ")
    at = own.find(item.amount.raw)
    return at >= 0 and _POINTS_TAIL.match(own, at + len(item.amount.raw)) is not None


def _points_row(node: LexborNode) -> bool:
    """Whether the amount's table cell (``td``/``dd``, the element or one of its two parents) is in a row whose
    header names points (:data:`_POINTS_ROW`)."""
    cell: LexborNode | None = node
    for _ in range(3):
        if cell is None or cell.tag in {"td", "dd"}:
            break
        cell = cell.parent
    if cell is None or cell.tag not in {"td", "dd"}:
        return False
    header = cell.prev
    while header is not None and header.is_text_node:
        header = header.prev
    return header is not None and header.tag in {"th", "dt"} and _POINTS_ROW.match(header.text(deep=True)) is not None


def _has_element_child(node: LexborNode) -> bool:
    """Whether ``node`` holds anything but text (an amount's element mostly holds its text alone: no search then)."""
    child = node.first_child
    while child is not None:
        if not child.is_text_node:
            return True
        child = child.next
    return False


def _card_logo(node: LexborNode) -> bool:
    """Whether an image inside the amount's element, or in a label element just before it, is named as a card
    (its ``alt``)."""
    prev = node.prev
    while prev is not None and prev.tag == "-text" and not (prev.text_content or "").strip():
        prev = prev.prev
    for holder in (node, prev):
        if holder is None or holder.tag == "-text":
            continue
        if holder is prev and any(c.isdigit() for c in holder.text(deep=True)):
            continue  # (a previous element showing an amount of its own is another price's, logo and all)
        images = [holder] if holder.tag == "img" else holder.css("img[alt]") if _has_element_child(holder) else ()
        if any(CARD_ALT.search(img.attributes.get("alt") or "") for img in images):
            return True
    return False


def home_currency(page: Page) -> str | None:
    """The main currency of the page's country (its country-code domain's, else its ``lang``'s territory), when
    the cascade knows none from structured data or a profile: a shop on ``.ua`` charges in hryvnias, whatever
    dollar reference it prints beside them."""
    return sole_currency(page.country)


def language_currency(page: Page) -> str | None:
    """The currency of the country the page's language names (``pl-PL``: PLN), when it has one."""
    return sole_currency(territory_of(page.locale))


def _own_currency(items: list[_Seen], currency: str | None, home: str | None, h1: int | None,
                  button: int | None, spoken: str | None = None) -> str | None:
    """The currency the page charges in: its structured data's (``currency``), else its country's (``home``); but
    the country's when the structured data names another and the buy box (from the title to the buy button) leads
    with an amount in the country's: a shop's base currency in the data of its store for another market ("CHF
    129.90" and "In Österreich: € 109,00" beside JSON-LD's EUR 109.00, a Global-e store's zł beside the data's €; the
    country its language names, ``spoken``, counts as its own: a German shop's Polish store on a ``.de`` address)."""
    locals_ = {home, spoken} - {None}
    if currency is None or not locals_ - {currency} or h1 is None or (button is not None and h1 >= button):
        return currency or home
    end = button if button is not None else h1 + _NEAR_TITLE  # (no buy button the scan knows: the title's reach)
    lead = min((i for i in items if h1 < i.index < end and i.role in {"current", "regular"}
                and i.amount.currency is not None), key=lambda i: i.index, default=None)
    return lead.amount.currency if lead is not None and lead.amount.currency in locals_ else currency


def _other_currency(items: list[_Seen], currency: str | None, h1: int | None = None,
                    button: int | None = None) -> None:
    """Amounts in another currency than the page's own (its structured data's or profile's), where the page
    shows amounts in its own: a conversion or a reference ("Ref.: US$ 563" beside "Gs. 4.450.000"), not the price."""
    if currency is None or not any(i.amount.currency == currency for i in items if i.role == "current"):
        return
    if h1 is not None and button is not None and h1 < button and any(
            h1 < i.index < button and i.role == "current" for i in items) and not any(
            h1 < i.index < button and i.role == "current" and i.amount.currency == currency for i in items):
        return  # (the buy box prints its price in another currency only: a listing in US$ whose pesos are an
        # approximation, "aprox. $ 517.500", beside the seller's other items in pesos, is priced in dollars)
    for item in items:
        if item.role == "current" and item.amount.currency not in {None, currency}:
            item.role = "converted"
            item.reasons.append("other-currency")


# Reasons that put an amount in another product's block or the page chrome; an <aside> may be
# either that or the buy box itself.
_OTHER_BLOCK = ("noise:", "header", "footer", "nav")
_ELSEWHERE = (*_OTHER_BLOCK, "aside", "outside")
# Roles of amounts that are shown as rejected candidates (with the role as their note).
_NOT_THE_PRICE = frozenset({"instalment", "threshold", "saving", "unit", "net", "converted", "reference",
                            "conditional", "addon", "multibuy", "variant", "fee", "user-content"})

# A chosen option (a variant's swatch, button, size in a select, a radio): by ARIA (a toggle button's
# ``aria-pressed``, a swatch link's ``aria-current="true"``; never ``aria-current="page"``, a menu's), ``selected``
# or ``checked``, or a class saying so ("is-selected", "active"; each selector more costs a little on every page).
# The ARIA and form state survive a build that renames every class (CSS-in-JS, CSS modules); the class does not.
_CHOSEN = ("option[selected], [aria-checked=true], [aria-selected=true], [aria-pressed=true], [aria-current=true], "
           "input[checked], [class*=selected i], [class*=active i]")
_CHOSEN_ARIA = ("aria-checked", "aria-selected", "aria-pressed", "aria-current")
_CHOSEN_CLASS = re.compile(r"(?:^|[\s_-])(?:is-?)?(?:selected|active|checked)(?:$|[\s_-])", re.I)
_OPTION_TEXT = 120  # characters an option shows at most (a name and a price)


_NOT_CHOSEN_CLASS = re.compile(r"(?:not|non|un|in)[-_]?(?:selected|active|checked)", re.I)


def _chosen(node: LexborNode) -> bool:
    """Whether ``node`` is marked chosen (not a select's placeholder, "Select a size", whose value is empty)."""
    a = node.attributes
    if node.tag == "option":
        return "selected" in a and (a.get("value") is None or bool((a.get("value") or "").strip()))
    classes = a.get("class") or ""
    return "checked" in a or any((a.get(key) or "") == "true" for key in _CHOSEN_ARIA) or (
        _CHOSEN_CLASS.search(classes) is not None and _NOT_CHOSEN_CLASS.search(classes) is None)


def _shown(text: str) -> str:
    """``text`` as a browser shows it: every run of blanks one space, none at the ends."""
    return " ".join(text.split())


def other_options(page: Page) -> tuple[list[LexborNode], list[LexborNode]]:
    """The options not chosen beside a chosen one, and the chosen ones, found once per page: the other variants
    (sizes, capacities, colours) a shopper could pick, each with its own price ("41 mm – 799 ر.س" beside the
    selected "45 mm").

    Options are the chosen element's siblings of its tag (a radio's label), each of them short; only those
    showing a digit are kept. They are looked for in the block around the title (its third ancestor below
    ``body``), where a product page lets a shopper choose (one search of that block, not of the page).
    """
    found = page.__dict__.get("_other_options")
    if found is not None:
        return cast("tuple[list[LexborNode], list[LexborNode]]", found)
    others: list[LexborNode] = []
    chosen: list[LexborNode] = []
    done = set()
    block = page.heading
    for _ in range(3):
        if block is None or block.parent is None or block.parent.tag in {"body", "html"}:
            break
        block = block.parent
    for node in block.css(_CHOSEN) if block is not None and block is not page.heading else ():
        if not _chosen(node):
            continue
        if node.tag == "input":
            if node.parent is None or node.parent.tag != "label":
                continue
            node = node.parent
        parent = node.parent
        if parent is None or parent.mem_id in done or len(_shown(node.text(deep=True))) > _OPTION_TEXT:
            continue
        done.add(parent.mem_id)
        # (lengths as shown, blanks collapsed: a pretty-printed option is no longer to a shopper)
        texts = [(child, _shown(child.text(deep=True))) for child in parent.iter() if child.tag == node.tag]
        if len(texts) < 2 or any(len(text) > _OPTION_TEXT for _, text in texts):
            continue
        priced = [child for child, text in texts if any(c.isdigit() for c in text)]
        mine = [child for child in priced if child.mem_id == node.mem_id or _chosen(child)
                or (child.tag == "label" and child.css_first("input[checked]") is not None)]
        taken = {m.mem_id for m in mine}  # (a swatch list may hold hundreds: no pairwise comparison)
        others.extend(child for child in priced if child.mem_id not in taken)
        chosen.extend(mine)
    page.__dict__["_other_options"] = found = (others, chosen)
    return found


def _other_variants(page: Page, items: list[_Seen]) -> None:
    """Amounts inside an option not chosen are another variant's price, not this page's (nor its structured
    data's), unless a chosen option shows the same amount."""
    others, chosen = other_options(page)
    if not others:
        return
    options = {node.mem_id for node in others}
    mine = {a.amount for node in chosen for a in find_amounts(node.text(deep=True, separator=" "), locale=page.locale)}
    for item in items:
        node: LexborNode | None = item.node
        depth = 0
        while node is not None and depth < 4 and item.role == "current" and item.amount.amount not in mine:
            if node.mem_id in options:
                item.role = "variant"
                item.reasons.append("other-variant")
            node, depth = node.parent, depth + 1


def _placeholder_slot(page: Page, title_box: frozenset[int], cache: dict[int, _Box],
                      slots: list[LexborNode], within: LexborNode | None = None) -> bool:
    """True when the product's own price slot is a placeholder a script has yet to fill.

    The slot is a price-labelled element (or one with ``data-price``) outside related/header/footer
    blocks that shows no digits: "Loading price…", "--", a skeleton or spinner, or nothing with an
    empty ``data-price``. Such a page's real price is not in the HTML; other prices on it belong to
    other products.
    """
    body = page.tree.body if within is None else within
    extra = body.css("[data-price]") if body is not None and page.mentions("data-price") else []
    for node in [*slots, *extra]:
        text = " ".join(node.text(deep=True).split())
        if any(c.isdigit() for c in text) or len(text) > 40:
            continue
        attrs = node.attributes
        if text:
            waiting = _PLACEHOLDER_TEXT.match(text) is not None or _PLACEHOLDER_ATTR.search(_attrs(node)) is not None
        else:
            # An empty slot: a skeleton/spinner inside it (a few elements deep), or an empty data-price.
            inner = " ".join(_attrs(child) for _, child in zip(range(8), node.traverse(include_text=False),
                                                                  strict=False))
            waiting = _PLACEHOLDER_ATTR.search(inner) is not None or (
                "data-price" in attrs and not (attrs.get("data-price") or "").strip()) or _script_fills(node, page) or (
                _sign_only(node.parent))
        if not waiting or node.tag in {"script", "style", "template", "meta", "input"}:
            continue
        parent: LexborNode | None = node
        depth, noise = 0, False
        while parent is not None and depth < _ANCESTORS and parent.mem_id not in title_box:
            box = _box(parent, cache)
            if box.noise or box.tag in {"header", "footer", "nav", "aside"}:
                noise = True
                break
            parent, depth = parent.parent, depth + 1
        if not noise:
            return True
    return False


def _waiting(slot: LexborNode) -> bool:
    """Whether the price element ``slot`` (showing no digits) is marked as waiting for a script: placeholder text
    ("—", "…", "Loading price…") or a skeleton/placeholder class on it or its parent, in a price box that shows no
    number beside it (a spinner next to the price it replaces while a variant loads is no empty box)."""
    text = " ".join(slot.text(deep=True).split())
    parent = slot.parent
    if text:
        looks = _PLACEHOLDER_TEXT.match(text) is not None
    else:
        near = _attrs(slot) + " " + (_attrs(parent) if parent is not None else "")
        looks = _PLACEHOLDER_ATTR.search(near) is not None or _sign_only(parent)
    return looks and not (parent is not None and any(c.isdigit() for c in parent.text(deep=True)))


def _sign_only(box: LexborNode | None) -> bool:
    """Whether the price box holding an empty slot shows a currency sign and nothing else ("<span>￥</span><span
    class="price"></span>", "$<span class="amount"></span>"): the amount is the script's to write."""
    if box is None:
        return False
    text = "".join(box.text(deep=True).split())
    return 0 < len(text) <= 4 and not any(c.isdigit() for c in text) and (
        _HAS_CURRENCY.search(text) is not None or _SIGN_ONLY.fullmatch(text) is not None)


def _script_fills(node: LexborNode, page: Page) -> bool:
    """Whether a script of the page writes into the empty element ``node``, found by its ``id``
    (``document.getElementById("pdp-price").innerHTML = ...``): its content comes from the script's state."""
    ident = (node.attributes.get("id") or "").strip()
    if not ident:
        return False
    filled = page.__dict__.get("_script_ids")
    if filled is None:  # (the ids the page's scripts look up, found once: str.find, far cheaper than a regex scan)
        html, ids = page.html, set()
        for call in ("getElementById(", "querySelector("):
            at = html.find(call)
            while at >= 0:
                m = _QUOTED_ID.match(html, at + len(call))
                if m is not None:
                    ids.add(m.group(1))
                at = html.find(call, at + len(call))
        filled = page.__dict__["_script_ids"] = frozenset(ids)
    return ident in filled


_QUOTED_ID = re.compile(r"""\s*["']#?([\w-]+)["']""")


# Blocks that list what other sellers ask for the product ("Otras opciones de compra", "Also available from
# partners"): beside a buy box whose own price a script has yet to draw, none of them is this page's offer.
# (named as other sellers' or offers' lists: not "best-seller", not a product's "vendor" line)
_OTHER_SELLERS_ATTR = re.compile(r"(?:other|more|all|alt)[-_]?(?:sellers?|offers?|vendors?|merchants?)|"
                                 r"sellers?[-_]?(?:list|offers?|others?)|partners?\b|partners?[-_]|"
                                 r"marketplace[-_]?offers?|offers?[-_]?list", re.I)


def _other_seller(item: _Seen, title_box: frozenset[int], cache: dict[int, _Box]) -> bool:
    node: LexborNode | None = item.node
    depth = 0
    while node is not None and depth < _ANCESTORS and node.mem_id not in title_box:
        if _OTHER_SELLERS_ATTR.search(_box(node, cache).attrs):
            return True
        node, depth = node.parent, depth + 1
    return False


def _outside_product(page: Page, items: list[_Seen], title_box: frozenset[int]) -> None:
    """Amounts outside the product's own block (the smallest element holding both the title and the buy
    button, when that is not the whole page) belong to another product: a carousel, a ranking, a
    "customers also bought" list whose class names say nothing.

    An amount is inside when the first of its ancestors that holds the title (found by :func:`_score`)
    is that block or below it.
    """
    node = page.buy_button
    while node is not None and node.mem_id not in title_box:
        node = node.parent
    if node is None or node.tag in {"body", "html", "-document"}:
        return
    inside: set[int] = set()
    line = page.heading
    while line is not None:
        inside.add(line.mem_id)
        if line.mem_id == node.mem_id:
            break
        line = line.parent
    for item in items:
        if item.junction != -1 and item.junction not in inside:
            item.score -= 3.0
            item.reasons.append("outside")


def _candidate(item: _Seen) -> Candidate:
    confidence = max(0.05, min(0.95, 0.2 + item.score / 20))
    note = ",".join(item.reasons) or None
    return Candidate("heuristic", item.amount.amount, item.amount.currency, item.amount.raw, confidence, note=note)


_PERCENT = re.compile(r"(?<![\d.,])(\d{1,2})(?:[.,]\d)?\s?%")
# A percentage that rates the product or the seller, not a discount: "93% recommend", "98% de satisfaction",
# "99% positive feedback", "92 % der Kunden empfehlen", and the share in brackets after a star rating, "4.6 (92%)",
# "4,5/5 (92 %)" (a saving after an amount, "$4.60 (23%)", keeps its sign or its two decimals; the rating may follow
# an amount's digits in an element's text read without blanks, "$17.494.6 (93%)").
_RATING_PERCENT = re.compile(
    r"%\s*\)?\s*(?:(?!off\b|rabatt|discount|remise|sconto|descuento|desconto|korting|rabat|zniżk|indirim|reducere|"
    r"kedvezm|sleva|zľava|alennus|save|spar)[^\W\d]+['’]?\s+){0,3}(?:recommend|recommand|recomiend|recomend|recomand|raccomand|consiglia|"
    r"empf[eo]hl|aanbevel|aanrader|poleca|rekommend|anbefal|suosittel|ajánl|doporuč|odporúč|tavsiye|"
    r"satisf|zufrieden|tevreden|nöjd|tyytyv|memnun|mulțumi|multumi|elégedett|spokojen|zadowol|"
    r"positiv|pozitiv|pozytyw|olumlu|feedback|bewert|avis\b|évaluation|valoraci|opiniones|avalia|recensioni|"
    r"beoordel|omdöm|arvostel|értékel|hodnocen|ocen|rating|review)", re.I)
_RATING_SHARE = re.compile(r"(?<![.,$€£¥₹])[0-5][.,]\d(?:\s*/\s*5)?\s*★?\s*\(\s*\d{1,2}(?:[.,]\d)?\s?%\s*\)")


def _badges(text: str) -> list[re.Match[str]]:
    """The percentages in ``text`` that may be discount badges: not those that rate the product or its seller
    (:data:`_RATING_PERCENT`, :data:`_RATING_SHARE`), which the arithmetic of a price pair may happen to fit
    ("98% de satisfaction" beside 349,99 € and a 10,00 € fee)."""
    found = list(_PERCENT.finditer(text))
    if not found:
        return found
    shares = [m.span() for m in _RATING_SHARE.finditer(text)]
    return [m for m in found if _RATING_PERCENT.match(text, m.end() - 1) is None
            and not any(start <= m.start() < end for start, end in shares)]


def _badged(low: Decimal, high: Decimal, badges: list[int]) -> bool:
    """Whether one of the discount ``badges`` (per cent) takes ``high`` down to ``low``, to a point."""
    off = 100 * (1 - low / high)
    return any(abs(off - badge) <= 1 for badge in badges)


def discount_of(low: Decimal, high: Decimal, text: str) -> bool:
    """Whether a discount badge in ``text`` ("-19%") takes ``high`` down to ``low``."""
    return _badged(low, high, [int(m.group(1)) for m in _badges(text)])


def _saving_pairs(items: list[_Seen]) -> None:
    """Two current amounts in one element followed there by a third that is their difference: the higher is the list
    price and the third the saving ("Rp 5.199.000 Rp 4.299.000 Hemat Rp 900.000"), in any language and whatever the
    markup says (a shop's own class for the list price, no stylesheet striking it through)."""
    boxes: dict[int, list[_Seen]] = {}
    for item in items:
        parent = item.node.parent
        if parent is not None and item.amount.amount > 0 and item.role in {"current", "saving"}:
            boxes.setdefault(parent.mem_id, []).append(item)
    for box in boxes.values():
        if len(box) < 3:
            continue
        for high in box:
            for low in box:
                if high.role != "current" or low.role != "current" or high.amount.amount <= low.amount.amount \
                        or high.amount.currency != low.amount.currency:
                    continue
                gap = high.amount.amount - low.amount.amount
                # (the saving after both: three sizes' prices, "$10 $20 $30", are no price, list price and saving)
                saving = next((i for i in box if i.amount.amount == gap and i.amount.currency == low.amount.currency
                               and i.index > max(high.index, low.index)), None)
                if saving is not None:
                    high.role = "regular"
                    high.reasons.append("saving-pair")
                    saving.role = "saving"


def _discount_pairs(items: list[_Seen]) -> None:
    """Two current amounts in one element (or the one above it) with a discount badge that turns the higher into the
    lower: the higher is the list price ("KSh 64,999 KSh 79,999 -19%": 64,999 is 79,999 less 19%),
    whatever its markup says.

    A struck-through or was-labelled amount is found by its markup; this is for the list price a shop marks
    only with a utility class of its own. The arithmetic must hold to the badge's rounding (a point).
    """
    boxes: dict[tuple[int, bool], tuple[LexborNode, list[_Seen]]] = {}
    for item in items:
        parent = item.node.parent
        if item.role not in {"current", "regular"} or item.amount.amount <= 0 or parent is None:
            continue
        if item.role == "current":
            boxes.setdefault((parent.mem_id, False), (parent, []))[1].append(item)
        # (and the element above: "<div><b>59,99 €</b><s>79,99 €</s></div><span>-25%</span>", where the badge must
        # follow both amounts: a rate between them, "¥39,800 10%還元 実質 ¥35,820", makes the lower a conditional price)
        above: LexborNode | None = parent
        for _ in range(2):
            if above is None:
                break
            boxes.setdefault((above.mem_id, True), (above, []))[1].append(item)
            above = above.parent
    pairs: list[tuple[bool, _Seen, _Seen]] = []
    for (_, apart), (node, box) in boxes.items():
        text = (node.text() or "") if len(box) > 1 else ""  # (read only where two amounts sit)
        badges = _badges(text) if "%" in text else []
        for low in box if badges else ():
            for high in box:
                if low.role != "current" or high.amount.amount <= low.amount.amount:
                    continue
                at, till = (text.find(low.amount.raw), text.find(high.amount.raw)) if apart else (0, 0)
                last = max(at, till) if min(at, till) >= 0 else -1  # (a level up: the badge follows both amounts)
                rates = [int(m.group(1)) for m in badges if not apart or m.start() > last >= 0]
                if _badged(low.amount.amount, high.amount.amount, rates):
                    pairs.append((apart, low, high))
    lows = {id(low) for _, low, _ in pairs}
    for apart, _, high in pairs:
        # (a level up, an amount that is itself the lower of a pair, with a struck amount too, is no list price:
        # "Rp149.000 Rp189.000 Rp239.000 21%", where 189.000 is 239.000 less 21 % and 149.000, another size, happens
        # to be 189.000 less 21 % too)
        if high.role == "current" and not (apart and id(high) in lows) and not _under_struck(high, boxes):
            high.role = "regular"
            high.reasons.append("discount-pair")


def _under_struck(item: _Seen, boxes: dict[tuple[int, bool], tuple[LexborNode, list[_Seen]]]) -> bool:
    """Whether ``item`` sits in one element (or the one above) with a higher amount struck through: the price that
    list price is cut to. A page strikes its one list price; a lower amount beside the price with a percentage is
    a further, conditional cut (a coupon's, a card's, a member's), never a sign that the price is a list price."""
    for _, box in boxes.values():
        if any(other is item for other in box) and any(
                other.role == "regular" and "struck" in other.reasons and other.amount.amount > item.amount.amount
                for other in box):
            return True
    return False


# A rate that says what share of the list price is paid: "79折" (79 %), "8折" (80 %), "7.5折" (75 %).
_ZHE = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d)?)\s?折")


def _pay_shares(text: str) -> list[Decimal]:
    """The shares of a list price that the 折 rates in ``text`` leave to pay: "79折" 0.79, "8折" 0.8.

    (A per-cent badge beside a second amount is as often a discount for paying one way, "R$ 2.199,00 à vista
    no Pix (8% de desconto)", as the sale: :func:`_discount_pairs` reads it only within one element.)
    """
    shares = []
    for m in _ZHE.finditer(text):
        rate = Decimal(m.group(1))
        shares.append(rate / 10 if rate < 10 else rate / 100)
    return [share for share in shares if 0 < share < 1]


def _rate_pairs(items: list[_Seen]) -> None:
    """A higher amount shown just before a lower one that a 折 rate beside the lower one yields from it is the
    list price: "480元 / 優惠價：79折 379元" (480 × 0.79 ≈ 379), "HK$168 … 8折 HK$134.4", whatever the labels.

    The rate is read in the lower amount's element or its parent (short texts only); the arithmetic must hold
    to the shop's rounding (a unit of the amount, and half a point of the rate).
    """
    current = [i for i in items if i.role == "current" and i.amount.amount > 0]
    if len(current) < 2:
        return
    for low in current:
        node: LexborNode | None = low.node
        texts = []
        for _ in range(2):
            if node is None:
                break
            text = node.text(deep=True)
            if shown_longer(text, 120):  # (measured as shown: an indent is no text)
                break
            texts.append(text)
            node = node.parent
        joined = " ".join(texts)
        shares = _pay_shares(joined) if "折" in joined else []
        if not shares:
            continue
        for high in current:
            if high is low or high.role != "current" or not 0 < low.index - high.index < _NEAR_BEST:
                continue
            full = high.amount.amount
            if full <= low.amount.amount:
                continue
            if any(abs(full * share - low.amount.amount) <= 1 + full / 200 for share in shares):
                high.role = "regular"
                high.reasons.append("rate-pair")


def read_visible(page: Page, *, currency: str | None = None, decimal_separator: str | None = None,
                 within: LexborNode | None = None) -> Visible:
    """Scored price candidates from the visible page, best first, with the regular price beside the best."""
    slots: list[LexborNode] = []
    items, h1, button, count = _collect(page, currency, decimal_separator, slots, within)
    result = Visible()
    title_box = title_ancestors(page)
    # (what an element's markup says is the same for every scan of the page: the product's block, then the whole
    # page, share what the first one read, and the page's own struck-through elements are marked once)
    cache: dict[int, _Box] | None = page.__dict__.get("_boxes")
    if cache is None:
        cache = page.__dict__["_boxes"] = {}
        for struck in page.tree.css(page.struck_css) if page.struck_css else ():
            # (an element the page's own stylesheet strikes through is struck, when its names do not say so
            # already: "css-1x8f2k" of CSS-in-JS, "_3kF9a" of CSS modules)
            box = _box(struck, cache)
            box.struck = box.struck or not (box.was or box.weak_was)
    holders: dict[int, int] = {}  # how many amounts each near ancestor holds
    for item in items:
        node = item.node.parent
        for _ in range(3):
            if node is None:
                break
            holders[node.mem_id] = holders.get(node.mem_id, 0) + 1
            node = node.parent
    for item in items:
        _score(item, h1, button, title_box, cache, holders)
    struck_digits(items)
    price_labels(items)
    _outside_product(page, items, title_box)
    other_products(items, page.url, title_box)
    _other_currency(items, _own_currency(items, currency, home_currency(page), h1, button, language_currency(page)),
                    h1, button)
    _designated_offer(page, items)
    _other_variants(page, items)
    _discount_pairs(items)
    _saving_pairs(items)
    _net_gross_pairs(items)
    if "折" in page.body_text:  # (the text the cascade reads anyway; no decoding of the whole source)
        _rate_pairs(items)
    lead = weigh(page, items, h1, button)  # (size/emphasis, net/gross)
    if lead is not None:
        result.net_lead = (_candidate(lead[0]), _candidate(lead[1]))
    current = [i for i in items if i.role == "current" and i.amount.amount > 0]
    noisy = [i for i in current if any(r.startswith(_ELSEWHERE) for r in i.reasons)]
    # Only a page showing no price, or some other block's, or an empty price slot a script fills (beside what may
    # be other sellers' offers), needs the (extra tree pass) slot check.
    scripted = bool(current and not noisy and any(_script_fills(slot, page) for slot in slots
                                                  if slot.attributes.get("id") and not slot.text(deep=True).strip()))
    # A price slot that itself says it waits ("—", "…", "Loading…", a skeleton around it) while amounts show
    # elsewhere: the buy box's own price is the script's, and none of those amounts may stand in for it.
    waiting = bool(current and not noisy and not scripted and any(_waiting(slot) for slot in slots))
    result.placeholder = (bool(noisy or scripted or not current) or waiting) and _placeholder_slot(
        page, title_box, cache, slots, within)
    if result.placeholder and waiting:
        current = []
    if result.placeholder:
        sellers = [i for i in current if _other_seller(i, title_box, cache)]
        # The buy box is still loading: a price in a related block or the page chrome is another
        # product's, and one in the other sellers' offers is theirs, so only prices outside those blocks
        # may stand (usually none: price=None).
        current = [i for i in current if all(i is not n for n in noisy) and all(i is not n for n in sellers)]
    # Repeats of one amount near the buy box (sticky bar, mobile copy) add a little weight.
    counts: dict[Decimal, int] = {}
    for item in current:
        counts[item.amount.amount] = counts.get(item.amount.amount, 0) + 1
    for item in current:
        item.score += min(1.5, 0.5 * (counts[item.amount.amount] - 1))
    current.sort(key=lambda i: (-i.score, i.index))
    # A price far from the title and buy box, with no price label, is navigation or an ad, not
    # this product's price: below this score nothing is reported (price=None, never a guess).
    current = [i for i in current if i.score >= _MIN_SCORE]
    # A price in a related block, the header, footer or navigation is another product's (or the
    # cart's): it may confirm a structured price, but it is never this page's price on its own, even
    # when the buy box shows none that can be read ("Call for price", a format not understood).
    # (An <aside> may hold the buy box itself: it is not excluded here.)
    own = [i for i in current if not any(r.startswith(_OTHER_BLOCK) for r in i.reasons)]
    # (nor one outside the block holding the title and the buy button: another product's tile or offer, whose names
    # say nothing)
    own = _not_from([i for i in own if "outside" not in i.reasons])
    best = own[0] if own else None
    shown = current[:5]
    result.candidates = [_candidate(i) for i in shown]
    if best is not None:
        result.best = next((c for i, c in zip(shown, result.candidates, strict=True) if i is best), None)
        if result.best is None:
            result.best = _candidate(best)
            result.candidates.append(result.best)
    shown_current = {i.amount.amount for i in items if i.role == "current"}
    in_block = [i for i in items if not any(r.startswith(_ELSEWHERE) for r in i.reasons)]
    result.aside = frozenset(i.amount.amount for i in in_block
                             if i.role == "regular" or i.role in _NOT_THE_PRICE) - shown_current
    # (a multi-buy's or a set's price is one under a condition too: buying several)
    result.conditional = frozenset(i.amount.amount for i in in_block if i.role in _CONDITIONS) - {
        i.amount.amount for i in in_block if i.role not in _CONDITIONS}
    result.range_high = frozenset(i.amount.amount for i in in_block if i.role == "range-high") | _bare_range_ends(
        in_block, page)
    for item in items:
        if item.role in _NOT_THE_PRICE:
            result.rejected.append(Candidate("heuristic", item.amount.amount, item.amount.currency, item.amount.raw,
                                             0.0, note=item.role))
    if best is not None:
        regular = [i for i in items if i.role == "regular" and abs(i.index - best.index) < _NEAR_BEST
                   and i.amount.amount > best.amount.amount]
        if regular:
            near = min(regular, key=lambda i: abs(i.index - best.index))
            result.regular = Candidate("heuristic", near.amount.amount, near.amount.currency, near.amount.raw, 0.6,
                                       "regular")
        shipping = [i for i in items if i.role == "shipping" and abs(i.index - best.index) < _NEAR_BEST]
        if shipping:
            result.shipping = shipping[0].amount
        if within is not None:
            # (the element before the part is 1 + best.index away, the one after it count - best.index)
            before = max(0, _NEAR_BEST - 1 - best.index)
            after = max(0, _NEAR_BEST - (count - best.index))
            result.reach_inside = not (before or after) or _no_amount_beside(page, within, before, after)
            result.reach_short = (0, 0) if result.reach_inside else (before, after)
    return result


# An id the page's address carries: a path segment's or a query value's run of letters, digits, "-" and "_" holding at
# least six digits (an offer's, a listing's, a seller's: "/offer/buy/7712093456", "?offer=MLB4128390125").
_URL_ID = re.compile(r"[A-Za-z0-9_-]*\d{6,}[A-Za-z0-9_-]*")
_ID_ATTR = re.compile(rb'([A-Za-z][\w:-]{1,40})=["\']$')
_OFFER_LEVELS = 8  # (how far up from an amount its offer's element may be)


def _designated_offer(page: Page, items: list[_Seen]) -> None:
    """Amounts in the element that carries, in an attribute, the id the page's address names (the offer, listing or
    seller a marketplace URL designates: ``data-advert-id="7712093456"`` for ``/offer/buy/7712093456``), when other
    elements carry other values of that attribute (the other offers): the designated offer's amounts are its price
    (reason ``designated``, even in an ``<aside>``), the others' are other offers' (reason ``noise:other-offer``)."""
    if not items:
        return
    source = page.source if isinstance(page.source, bytes) else page.source.encode("utf-8", "replace")
    parts = urlsplit(page.url)
    # (the path's last segment and the query: where an address names the offer, listing or seller it shows)
    ids = dict.fromkeys(_URL_ID.findall(parts.path.rstrip("/").rsplit("/", 1)[-1] + "?" + parts.query))
    for token in list(ids)[:3]:
        needle = token.encode("ascii")
        at, names = source.find(needle), set()
        for _ in range(20):
            if at < 0:
                break
            m = _ID_ATTR.search(source, max(0, at - 44), at)
            end = source[at + len(needle):at + len(needle) + 1]
            if m is not None and end in {b'"', b"'"}:
                names.add(m.group(1).decode("ascii"))
            at = source.find(needle, at + 1)
        for name in sorted(names - {"href", "src", "content", "value", "action", "id", "class", "name"}):
            if ":" in name:
                continue  # (a namespaced attribute, "xlink:href": no selector of lexbor's takes it as written)
            nodes = page.tree.css(f"[{name}]")
            own = [n for n in nodes if n.attributes.get(name) == token]
            others = {n.mem_id for n in nodes if n.attributes.get(name) not in {token, None, ""}}
            if not own or len(own) > 3 or not others:
                continue
            mine = {n.mem_id for n in own}
            for item in items:
                node: LexborNode | None = item.node
                for _ in range(_OFFER_LEVELS):
                    if node is None:
                        break
                    if node.mem_id in mine:
                        item.score += 3.0
                        item.reasons.append("designated")
                        break
                    if node.mem_id in others:
                        item.score -= 4.0
                        item.reasons.append("noise:other-offer")
                        break
                    node = node.parent
            break  # (one attribute per id)


# The upper end of a range written without its sign after the lower one: "$ 299 ~ 459", "¥1,280～2,980"
_BARE_RANGE_END = re.compile(r"\s*(?:[-–—~～]|to|bis)\s*(\d[\d.,'\u00a0\u202f]*)(?![\d%])", re.I)


def _bare_range_ends(items: list[_Seen], page: Page) -> frozenset[Decimal]:
    """The upper ends of ranges whose lower end is a current amount and whose upper end has no sign of its own."""
    ends: set[Decimal] = set()
    for item in items:
        if item.role != "current":
            continue
        # (the words after it, or the text right after its element: a label is no number, the range's end is)
        after = item.after or _raw_sibling(item.node, True)[:30]
        m = _BARE_RANGE_END.match(after) if after else None
        if m is None or SIGN.search(after[:m.end() + 4]):
            continue  # (an upper end with its sign is read as an amount of its own, or with the lower one)
        found = find_amounts(m.group(1), locale=page.locale, currency=item.amount.currency, allow_bare=True)
        if found and found[0].amount > item.amount.amount:
            ends.add(found[0].amount)
    return frozenset(ends)


# The rates of value-added tax in the world (5% in the Gulf to 27% in Hungary): a gross amount is its net one times
# 1 plus one of them.
_VAT_RATES = (Decimal("1.04"), Decimal("1.28"))
# A gross amount given in brackets right after its net one: "¥680（税込 ¥748）", "€ 4,95 (incl. btw € 5,99)"
_GROSS_WORDS = (r"[（(\[]\s*(?:税込|incl|inkl|including|inc\.?\s*(?:vat|gst|tax)|con iva|c/\s?iva|iva incl|ttc|"
                r"sis\.?\s*alv|med moms|inkl\.?\s*moms|s dph|z vat|brutto)")
_GROSS_AFTER = re.compile(r"^\s*" + _GROSS_WORDS, re.I)
# (an amount follows the words: "（税込 ¥748）", not "（税込）" naming the amount before it gross)
GROSS_AFTER_TAIL = re.compile(r"\s*" + _GROSS_WORDS + r"[^)）\]\d]{0,16}?(?:\d|[¥$€£₹₩])", re.I)


def gross_of(net: Decimal, gross: Decimal) -> bool:
    """Whether ``gross`` may be ``net`` with value-added tax."""
    low, high = _VAT_RATES
    return net > 0 and net * low <= gross <= net * high


def _net_gross_pairs(items: list[_Seen]) -> None:
    """An amount followed, in brackets, by the amount with VAT ("¥680（税込 ¥748）"): the first is the net one (role
    ``net``), the bracketed one the price."""
    for first, second in itertools.pairwise(items):
        if (first.role == "current" and second.role == "current" and _GROSS_AFTER.match(second.before)
                and first.amount.currency == second.amount.currency
                and gross_of(first.amount.amount, second.amount.amount)):
            first.role = "net"
            first.reasons.append("net-of-gross")


def _not_from(own: list[_Seen]) -> list[_Seen]:
    """``own`` (best first) without the amounts the page introduces with "from" ("3 more offers from 27,50 €",
    "Outlet: from $84.14", "other sellers starting from"), nor their repeats, when it shows another amount: a
    "from" amount is the lowest of several offers (other sellers, variants, used items, services), not what the
    shopper pays for this one, unless no other amount is nearly as strong (a page showing only "From $19.99": a
    range's low end)."""
    if not own or "from-price" not in own[0].reasons:
        return own
    lowest = {i.amount.amount for i in own if "from-price" in i.reasons}
    rest = [i for i in own if i.amount.amount not in lowest]
    # (an amount far stronger than every other, "$28.50+" repeated in the buy box over a variant's $30.50, is the
    # selected offer's: it stays)
    return rest if rest and rest[0].score >= own[0].score - _FROM_MARGIN else own


def _label_says_price(node: LexborNode) -> bool:
    """Whether ``node`` matches :data:`_PRICE_SELECTOR` (itemprop price, "price", "preis", "prix" in class or id)."""
    a = node.attributes
    if not a:
        return False
    named = f"{a.get('class') or ''} {a.get('id') or ''}".lower()
    return a.get("itemprop") == "price" or "price" in named or "preis" in named or "prix" in named


def _no_amount_beside(page: Page, part: LexborNode, before: int, after: int) -> bool:
    """Whether no element among the ``before`` elements before ``part`` and the ``after`` elements after it (in
    document order) can show an amount: no text holding a currency sign, no price-labelled element with a digit.

    The elements after ``part`` are looked at further (half again): an element there may show an amount held by
    a child a little further on.
    """
    search = _any_of(frozenset(_signs(page.locale))).search

    def shows(node: LexborNode) -> bool:
        if node.is_text_node:
            return search(node.text_content or "") is not None or _dashed(node.text_content or "")
        return _label_says_price(node) and any(c.isdigit() for c in node.text(deep=True))

    def backward(node: LexborNode) -> Iterator[LexborNode]:  # node's subtree, last node first
        child = node.last_child
        while child is not None:
            yield from backward(child)
            child = child.prev
        yield node

    node: LexborNode | None
    if before:
        left, node = before, part
        while left > 0 and node is not None and node.tag not in {"body", "html"}:
            sib = node.prev
            while left > 0 and sib is not None:
                for near in backward(sib):
                    if shows(near):
                        return False
                    left -= not near.is_text_node
                    if left <= 0:
                        break
                sib = sib.prev
            node = node.parent
            left -= 1  # (the parent comes before its children: an element too, its own text read through them)
    if after:
        left, node = after + after // 2 + 1, part
        while left > 0 and node is not None and node.tag not in {"body", "html"}:
            sib = node.next
            while left > 0 and sib is not None:
                for near in sib.traverse(include_text=True):
                    if shows(near):
                        return False
                    left -= not near.is_text_node
                    if left <= 0:
                        break
                sib = sib.next
            node = node.parent
    return True


def widened(part: LexborNode, before: int, after: int) -> LexborNode | None:
    """The nearest ancestor of ``part`` holding at least ``before`` elements before it and ``after`` elements (half
    again, as :func:`_no_amount_beside` looks) after it, in document order; None when only the body does."""
    need_before, need_after = before, after + after // 2 + 1 if after else 0
    node = part
    while need_before > 0 or need_after > 0:
        parent = node.parent
        if parent is None or parent.tag in {"body", "html", "-document"}:
            return None
        need_before = _count_off(node.prev, need_before, forward=False) - 1  # (the parent comes before its children)
        need_after = _count_off(node.next, need_after, forward=True)
        node = parent
    return node


def _count_off(sib: LexborNode | None, need: int, *, forward: bool) -> int:
    """``need`` less the elements of ``sib`` and its siblings after it (``forward``) or before it, counted until
    ``need`` is spent."""
    while need > 0 and sib is not None:
        for _ in sib.traverse():
            need -= 1
            if need <= 0:
                break
        sib = sib.next if forward else sib.prev
    return need


class _Remembered:
    """A compiled pattern that remembers its recent answers (``search``, ``match``, ``fullmatch``) per text.

    :func:`_score` asks some twenty patterns about the few words around each amount, and a page asks
    the same about the same words again and again (no label, "Price:", a grid's "Was"): 86% of these
    calls on the development set repeat one made on the same page. A match found once is the same
    match again; anything else goes to the pattern itself.
    """

    __slots__ = ("_pattern", "fullmatch", "match", "search")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self._pattern = pattern
        self.search = lru_cache(maxsize=512)(pattern.search)
        self.match = lru_cache(maxsize=512)(pattern.match)
        self.fullmatch = lru_cache(maxsize=512)(pattern.fullmatch)

    def __getattr__(self, name: str) -> object:
        return getattr(self._pattern, name)


def _remembered(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return cast("re.Pattern[str]", _Remembered(pattern))


(_TOTAL_LABEL, _PRICE_LABEL, WAS_TEXT, _RANGE_HIGH, _RANGE_SIGN, _UNIT_TAIL, _UNIT_TEXT, NET_TEXT, _GROSS_TEXT,
 _CONVERTED, LOWEST_30, CONDITIONAL, _CARD_TAIL, _INSTALMENT, _INSTALMENT_TAIL, _INSTALMENT_ATTR, _THRESHOLD,
 _THRESHOLD_TAIL, _SAVING, _SAVING_TAIL, _SHIPPING, _ADDON, _FROM, FEE, _FEE_AFTER, _JOIN_TAIL, _MULTI_BUY) = map(
    _remembered, (
        _TOTAL_LABEL, _PRICE_LABEL, WAS_TEXT, _RANGE_HIGH, _RANGE_SIGN, _UNIT_TAIL, _UNIT_TEXT, NET_TEXT, _GROSS_TEXT,
        _CONVERTED, LOWEST_30, CONDITIONAL, _CARD_TAIL, _INSTALMENT, _INSTALMENT_TAIL, _INSTALMENT_ATTR, _THRESHOLD,
        _THRESHOLD_TAIL, _SAVING, _SAVING_TAIL, _SHIPPING, _ADDON, _FROM, FEE, _FEE_AFTER, _JOIN_TAIL, _MULTI_BUY))
# (the same wordings, for the buy box reading's exclusions: crawlers.buybox)
FROM, INSTALMENT, INSTALMENT_LOCAL, MULTI_BUY, PRICE_LABEL, SAVING, SAVING_LOCAL, SHIPPING, THRESHOLD = (
    _FROM, _INSTALMENT, _INSTALMENT_LOCAL, _MULTI_BUY, _PRICE_LABEL, _SAVING, _SAVING_LOCAL, _SHIPPING, _THRESHOLD)
