"""Robustness of the extractor to changes real sites make that leave the buyer's price as it is.

Usage: ``python bench/perturb_pages.py [--dir /work/shared/realpages] [--only NAME ...] [-j 2] [--json OUT]``

Every page of every set with a truth (the real development pages, ``tests/extract_pages`` and its
held-out batches; never ``heldout13`` and ``heldout14``, kept for blind scoring) is rewritten by each
transformation below and read again by ``extract()``; each transformation is scored as
``bench/score_realpages.py`` scores a set "as is" (its :func:`score`), on the pages it changed:

- ``reserialized``: parsed and written back unchanged (what the serializer alone does; the baseline of
  the tree-rewriting transformations);
- ``obfuscated``: every class and id renamed to a hash (``css-1x8f2k``, ``_3kF9a``), consistently in the
  page: its attributes, its ``<style>`` selectors, its scripts' ``getElementById``/``querySelector``
  lookups, ``for``/``href="#..."``; ``itemprop``, ``data-*`` and structured data are kept (CSS-in-JS,
  CSS modules);
- ``no-structured``: JSON-LD, microdata and RDFa attributes and price meta tags (Open Graph
  ``og:price:*``, ``product:price:*``, ``itemprop`` metas) removed; embedded script state is kept;
- ``bare``: both of the above (the visible page alone, with names that say nothing);
- ``related-first``: related-product, recommendation and carousel blocks moved before the block holding
  the title in source order, inside their nearest common ancestor (CSS ``order`` puts them back);
- ``reviews-first``: the reviews block moved before the description block the same way;
- ``minified``: every whitespace-only text node between tags removed (outside ``pre``, ``textarea``,
  scripts and styles);
- ``pretty``: every run of blanks in the text turned into a newline and an indent, and a digit-bearing
  element's only text set on lines of its own where blanks already surround it (rendering unchanged);
- ``split``: each element whose only text is one amount with a currency sign
  (``<span>$1,299.99</span>``) split into spans: ``<span>$</span><span>1</span><span>299</span><sup>99</sup>``.
- ``relabelled``: every word of the visible text (a run of letters of any script, outside scripts, styles,
  structured data and attributes) replaced by a pseudo-word hashed from it, the same on the whole page, in the
  same script (Latin words by Latin ones, Chinese by Chinese...), so the page reads as a language no word list
  holds; currency signs written in letters ("kr", "zł", "руб", "元", "원", ISO codes) and one-letter words stay.
  The product's name is replaced the same way where the extractor matches it (``og:title``, ``twitter:title``,
  microdata and JSON-LD ``name``), so title matching still works;
- ``relabelled-labels``: the same, only in the short texts beside an amount (its labels: the text nodes of up
  to six words before and after each text node showing an amount with its sign, and that node's own words;
  never the title's).

It prints, per transformation, the pages changed, and on them precision, recall and the share undecided,
with the same figures of the unchanged pages beside them; then every page the transformation makes WRONG
(a committed price that is not the truth, where the unchanged page was right or undecided).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from babel.core import get_global
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bench.score_realpages import DEFAULT_DIR, HELDOUT, Reading, load_pages, load_written, read, score
from crawlers.extract.amounts import SIGN
from crawlers.extract.page import decode_html

RESERVED = {"heldout13", "heldout14"}  # blind batches: never read here
_RAW = {"pre", "textarea", "script", "style", "template", "noscript"}

# --- class and id obfuscation ------------------------------------------------------------------------


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _hashed(name: str, kind: str) -> str:
    number = int(hashlib.blake2b(f"{kind}:{name}".encode(), digest_size=6).hexdigest(), 16)
    letters = "".join(_BASE36[number // 36**k % 36] for k in range(6))
    return f"css-{letters}" if kind == "class" else f"_{number % 10}{letters[1:].capitalize()[:4]}"


def _obfuscate(tree: LexborHTMLParser) -> bool:
    """Rename every class and id of ``tree`` to hashes; True when something was renamed."""
    classes: dict[str, str] = {}
    ids: dict[str, str] = {}
    for node in tree.root.traverse():
        attrs = node.attributes
        if attrs.get("class"):
            names = attrs["class"].split()
            node.attrs["class"] = " ".join(classes.setdefault(n, _hashed(n, "class")) for n in names)
        if attrs.get("id"):
            node.attrs["id"] = ids.setdefault(attrs["id"], _hashed(attrs["id"], "id"))
    if not classes and not ids:
        return False
    for node in tree.root.traverse():
        attrs = node.attributes
        if attrs.get("for") in ids:
            node.attrs["for"] = ids[attrs["for"] or ""]
        href = attrs.get("href") or ""
        if href.startswith("#") and href[1:] in ids:
            node.attrs["href"] = "#" + ids[href[1:]]
        for aria in ("aria-labelledby", "aria-describedby", "aria-controls"):
            if attrs.get(aria):
                node.attrs[aria] = " ".join(ids.get(v, v) for v in (attrs[aria] or "").split())

    def selector(match: re.Match[str]) -> str:
        sign, name = match.group(1), match.group(2)
        table = classes if sign == "." else ids
        return sign + table.get(name, name)

    def lookup(match: re.Match[str]) -> str:
        call, quote, arg = match.group(1), match.group(2), match.group(3)
        if call == "getElementById":
            new = ids.get(arg, arg)
        elif call == "getElementsByClassName":
            new = classes.get(arg, arg)
        else:
            new = _SELECTOR.sub(selector, arg)
        return f"{call}({quote}{new}"

    for node in tree.css("style"):
        text = node.text(deep=True)
        node.inner_html = _SELECTOR.sub(selector, text)
    for node in tree.css("script"):
        kind = (node.attributes.get("type") or "").lower()
        if "json" in kind:
            continue
        text = node.text(deep=True)
        new = _LOOKUP.sub(lookup, text)
        if new != text:
            node.inner_html = new
    return True


_SELECTOR = re.compile(r"([.#])(-?[A-Za-z_][\w-]*)")
_LOOKUP = re.compile(
    r"""\b(getElementById|getElementsByClassName|querySelector|querySelectorAll)\(\s*(["'])([^"'\n]*)""")

# --- structured data removed -------------------------------------------------------------------------

_MICRODATA = ("itemprop", "itemscope", "itemtype", "itemid", "itemref", "property", "typeof", "vocab", "resource")
_PRICE_META = re.compile(r"price|currency|availability|amount", re.I)


def _unstructure(tree: LexborHTMLParser) -> bool:
    """Remove JSON-LD, microdata, RDFa and price meta tags; True when something was removed."""
    changed = False
    for node in tree.css('script[type*="ld+json" i]'):
        node.decompose()
        changed = True
    for node in tree.css("meta, link"):
        attrs = node.attributes
        if "itemprop" in attrs or _PRICE_META.search(attrs.get("property") or attrs.get("name") or ""):
            node.decompose()
            changed = True
    for node in tree.root.traverse():
        for name in _MICRODATA:
            if name in node.attributes:
                del node.attrs[name]
                changed = True
    return changed


# --- blocks reordered --------------------------------------------------------------------------------

_RELATED = re.compile(r"relat|recomm|similar|also|upsell|up-sell|cross-?sell|carousel|slider|swiper|you-?may|"
                      r"recent|bought|accessor|complete-the-look", re.I)
_REVIEWS = re.compile(r"review|rating|testimonial|bewertung|avis|opiniones|recensioni|opinie", re.I)
_DESCRIPTION = re.compile(r"descri|beschreibung|details", re.I)


def _names(node: LexborNode) -> str:
    attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''} {attrs.get('aria-label') or ''}"


def _ancestors(node: LexborNode) -> list[LexborNode]:
    out = [node]
    while out[-1].parent is not None:
        out.append(out[-1].parent)  # type: ignore[arg-type]
    return out


def _outermost(tree: LexborHTMLParser, pattern: re.Pattern[str], avoid: LexborNode) -> list[LexborNode]:
    """The outermost elements named by ``pattern`` that neither hold nor sit inside ``avoid``."""
    avoid_up = {n.mem_id for n in _ancestors(avoid)}
    found: list[LexborNode] = []
    for node in tree.body.traverse() if tree.body else []:
        if node.tag in {"body", "html", "script", "style"} or not pattern.search(_names(node)):
            continue
        if node.mem_id in avoid_up or any(a.mem_id in {f.mem_id for f in found} for a in _ancestors(node)):
            continue
        if avoid.mem_id in {a.mem_id for a in _ancestors(node)}:
            continue
        if any(n.mem_id == avoid.mem_id for n in node.traverse()):
            continue
        found.append(node)
    return found


def _move_before(block: LexborNode, anchor: LexborNode) -> bool:
    """Move ``block`` before the child of their nearest common ancestor that holds ``anchor``, if it is after."""
    up = _ancestors(block)
    ids = {n.mem_id for n in up}
    path = _ancestors(anchor)
    for i, node in enumerate(path):
        if node.mem_id in ids:
            if i == 0 or node.tag in {"html", "-document"}:
                return False
            target = path[i - 1]
            break
    else:
        return False
    # only a block after the anchor in source order moves
    for node in (target.parent or target).iter():
        if node.mem_id == target.mem_id:
            break
        if node.mem_id in ids:
            return False
    target.insert_before(block)
    block.decompose()
    return True


def _related_first(tree: LexborHTMLParser) -> bool:
    h1 = tree.css_first("h1")
    if h1 is None:
        return False
    moved = [_move_before(b, h1) for b in _outermost(tree, _RELATED, h1)]  # (every block moves)
    return True in moved


def _reviews_first(tree: LexborHTMLParser) -> bool:
    h1 = tree.css_first("h1")
    if h1 is None:
        return False
    reviews = _outermost(tree, _REVIEWS, h1)
    descriptions = [d for d in _outermost(tree, _DESCRIPTION, h1)
                    if not any(r.mem_id in {a.mem_id for a in _ancestors(d)} for r in reviews)
                    and not any(d.mem_id in {a.mem_id for a in _ancestors(r)} for r in reviews)]
    if not reviews or not descriptions:
        return False
    moved = [_move_before(r, descriptions[0]) for r in reviews]  # (every block moves)
    return True in moved


# --- whitespace --------------------------------------------------------------------------------------


def _in_raw(node: LexborNode) -> bool:
    return any(a.tag in _RAW for a in _ancestors(node)[1:])


def _minify(tree: LexborHTMLParser) -> bool:
    changed = False
    for node in list(tree.root.traverse(include_text=True)):
        if node.is_text_node and not node.text_content.strip() and not _in_raw(node):
            node.decompose()
            changed = True
    return changed


def _pretty(tree: LexborHTMLParser) -> bool:
    changed = False
    for node in list(tree.root.traverse(include_text=True)):
        if not node.is_text_node or _in_raw(node):
            continue
        text = node.text_content
        indent = "\n" + "  " * min(len(_ancestors(node)), 20)
        new = re.sub(r"[ \t\r\n]+", indent, text)
        parent = node.parent
        if (parent is not None and re.search(r"\d", text) and parent.child is not None
                and parent.child.mem_id == node.mem_id and node.next is None):
            before, after = parent.prev, parent.next
            blank = lambda n: n is None or (n.is_text_node and n.text_content[-1:].isspace())  # noqa: E731
            blank_after = after is None or (after.is_text_node and after.text_content[:1].isspace())
            if blank(before) and blank_after:
                new = indent + new.strip() + indent
        if new != text:
            node.replace_with(new)
            changed = True
    return changed


# --- a single price span split into spans ------------------------------------------------------------

_SIGN = r"(?:[$€£¥₩₹₽₺₫₱฿₴₦₪₸৳₡₾₲]|[A-Z]{3}|R\$|kr|zł|Kč|Ft|lei|лв\.?|руб\.?|Rs\.?|RM|S/)"
_AMOUNT = re.compile(rf"^\s*(?P<pre>{_SIGN}\s?)?(?P<int>\d{{1,3}}(?:(?P<g>[.,\u00a0\u202f ']?)\d{{3}})*)"
                     rf"(?:(?P<d>[.,])(?P<dec>\d{{2}}))?(?P<post>\s?{_SIGN})?\s*$")


def _split(tree: LexborHTMLParser) -> bool:
    changed = False
    for node in list(tree.body.traverse() if tree.body else []):
        if node.tag in _RAW or node.child is None or node.child.next is not None or not node.child.is_text_node:
            continue
        m = _AMOUNT.match(node.child.text_content)
        if not m or not (m.group("pre") or m.group("post")) or (m.group("g") and m.group("g") == m.group("d")):
            continue
        groups = re.split(r"[.,\u00a0\u202f ']", m.group("int")) if m.group("g") else [m.group("int")]
        if len(groups) == 1 and not m.group("dec"):
            continue
        holder = next((a for a in _ancestors(node)[:3] if "itemprop" in a.attributes), None)
        if holder is not None and "content" not in holder.attributes:
            holder.attrs["content"] = holder.text(deep=True).strip()  # (microdata keeps its value, as sites do)
        parts = [f"<span>{m.group('pre').strip()}</span>"] if m.group("pre") else []
        parts += [f"<span>{g}</span>" for g in groups]
        parts += [f"<sup>{m.group('dec')}</sup>"] if m.group("dec") else []
        parts += [f"<span>{m.group('post').strip()}</span>"] if m.group("post") else []
        node.inner_html = "".join(parts)
        changed = True
    return changed


# --- words replaced by pseudo-words ------------------------------------------------------------------

# Letters of a script → the letters its pseudo-words are made of (a pseudo-word keeps its word's script, as the
# extractor reads a CJK character before a number otherwise than a Latin letter; its first letter is a rare one,
# so no pseudo-word is a short word of a listed language: "ab", "od", "за", "set").
_SCRIPTS: list[tuple[int, int, str, str]] = [
    (0x0000, 0x024F, "qxzj", "bdfgklmnprstvz" + "aeiou" * 2),
    (0x0370, 0x03FF, "ξψζ", "βγδθκλμνπρστφχ" + "αεηιου" * 2),
    (0x0400, 0x04FF, "щжцфэ", "бвгдклмнпрстш" + "аеиоуя" * 2),
    (0x0590, 0x05FF, "", "".join(map(chr, range(0x05D0, 0x05EB)))),
    (0x0600, 0x06FF, "", "".join(map(chr, range(0x0628, 0x064B)))),
    (0x0900, 0x097F, "", "".join(map(chr, range(0x0915, 0x093A)))),
    (0x0E00, 0x0E7F, "", "".join(map(chr, range(0x0E01, 0x0E2F)))),
    (0x3040, 0x309F, "", "".join(map(chr, range(0x3041, 0x3097)))),
    (0x30A0, 0x30FF, "", "".join(map(chr, range(0x30A1, 0x30FB)))),
    (0x3400, 0x9FFF, "", "".join(map(chr, range(0x4E00, 0x4E00 + 400)))),
    (0xAC00, 0xD7AF, "", "".join(map(chr, range(0xAC00 + 1000, 0xAC00 + 1400)))),
]


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM"


def _pseudo(word: str) -> str:
    """A pseudo-word for ``word``: hashed from its lower case, as long, in its script, with its capitals."""
    code = ord(word[0])
    first, letters = next(((f, ls) for lo, hi, f, ls in _SCRIPTS if lo <= code <= hi), _SCRIPTS[0][2:])
    digest = hashlib.blake2b(word.lower().encode(), digest_size=32).digest()
    out = [(first or letters)[digest[0] % len(first or letters)]]
    out += [letters[digest[i % 32] % len(letters)] for i in range(1, len(word))]
    pseudo = "".join(out)
    if word.isupper() and len(word) > 1:
        return pseudo.upper()
    return pseudo.capitalize() if word[0].isupper() else pseudo


def _relabel_text(text: str, words: dict[str, str]) -> str:
    """``text`` with each word of two letters or more replaced (currency signs in letters kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if not _is_letter(text[i]):
            out.append(text[i])
            i += 1
            continue
        j = i
        while j < n and _is_letter(text[j]):
            j += 1
        word = text[i:j]
        keep = (j - i == 1 or SIGN.fullmatch(word) or SIGN.fullmatch(text[i:j + 1])
                or (word.isupper() and len(word) == 3 and word in _ISO))
        out.append(word if keep else words.setdefault(word, _pseudo(word)))
        i = j
    return "".join(out)


_ISO = frozenset(code for code in get_global("currency_fractions") if len(code) == 3)
_NAME_META = ("og:title", "twitter:title")
_JSON_NAME = re.compile(r'("name"\s*:\s*)("(?:[^"\\]|\\.)*")')
_SHOWN_AMOUNT = re.compile(r"\d")


def _text_nodes(tree: LexborHTMLParser) -> list[LexborNode]:
    return [node for node in tree.root.traverse(include_text=True)
            if node.is_text_node and not _in_raw(node) and node.text_content.strip()]


def _relabel_names(tree: LexborHTMLParser, words: dict[str, str]) -> bool:
    """The product's name replaced where the extractor reads it besides the text: meta tags and JSON-LD."""
    changed = False
    for node in tree.css("meta"):
        attrs = node.attributes
        named = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "") in (*_NAME_META, "name")
        if named and attrs.get("content"):
            node.attrs["content"] = _relabel_text(attrs["content"] or "", words)
            changed = True

    def name(match: re.Match[str]) -> str:
        try:
            value = json.loads(match.group(2))
        except ValueError:
            return match.group(0)
        return match.group(1) + json.dumps(_relabel_text(value, words), ensure_ascii=False)

    for node in tree.css('script[type*="ld+json" i]'):
        text = node.text(deep=True)
        new = _JSON_NAME.sub(name, text)
        if new != text:
            node.inner_html = new
            changed = True
    return changed


def _relabelled(tree: LexborHTMLParser) -> bool:
    words: dict[str, str] = {}
    changed = False
    for node in _text_nodes(tree):
        text = node.text_content
        new = _relabel_text(text, words)
        if new != text:
            node.replace_with(new)
            changed = True
    return _relabel_names(tree, words) | changed


def _relabelled_labels(tree: LexborHTMLParser) -> bool:
    words: dict[str, str] = {}
    nodes = _text_nodes(tree)
    chosen: set[int] = set()
    for i, node in enumerate(nodes):
        text = node.text_content
        if SIGN.search(text) and _SHOWN_AMOUNT.search(text):
            chosen.add(i)
            for j in (i - 1, i + 1):
                if 0 <= j < len(nodes) and len(nodes[j].text_content.split()) <= 6:
                    chosen.add(j)
    chosen -= {i for i, node in enumerate(nodes) if any(a.tag == "h1" for a in _ancestors(node))}  # (the title stays)
    changed = False
    for i in sorted(chosen):
        text = nodes[i].text_content
        new = _relabel_text(text, words)
        if new != text:
            nodes[i].replace_with(new)
            changed = True
    return changed


def _identity(tree: LexborHTMLParser) -> bool:
    return True


def _bare(tree: LexborHTMLParser) -> bool:
    return _unstructure(tree) | _obfuscate(tree)


TRANSFORMS: dict[str, Callable[[LexborHTMLParser], bool]] = {
    "reserialized": _identity,
    "obfuscated": _obfuscate,
    "no-structured": _unstructure,
    "bare": _bare,
    "related-first": _related_first,
    "reviews-first": _reviews_first,
    "minified": _minify,
    "pretty": _pretty,
    "split": _split,
    "relabelled": _relabelled,
    "relabelled-labels": _relabelled_labels,
}


def perturb(html: bytes | str, name: str) -> str | None:
    """``html`` rewritten by the transformation ``name``; None when it changes nothing on this page."""
    tree = LexborHTMLParser(decode_html(html))
    return tree.html if TRANSFORMS[name](tree) and tree.html else None


# --- scoring -----------------------------------------------------------------------------------------


def _read_one(job: tuple[str, dict, bytes, list[str]]) -> list[tuple[str, Reading]]:
    label, truth, html, names = job
    out = [("original", read(label, [(truth, html)])[0])]
    for name in names:
        try:
            new = perturb(html, name)
        except Exception as exc:  # (a transformation that cannot handle a page skips it)
            print(f"{label}:{truth['id']} {name}: {exc!r}", file=sys.stderr)
            continue
        if new is not None:
            out.append((name, read(label, [(truth, new)])[0]))
    return out


def _state(r: Reading) -> str:
    return "undecided" if r.undecided else "none" if r.price is None else "right" if r.right else "WRONG"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--only", nargs="*", choices=sorted(TRANSFORMS), help="these transformations only")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write every reading here (to compare two runs)")
    parser.add_argument("--dump", nargs=2, metavar=("PAGE", "NAME"), help="print PAGE (set:id) after NAME")
    args = parser.parse_args()
    names = args.only or list(TRANSFORMS)
    sets = [("real", load_pages(args.dir)), ("written", load_written())]
    sets += [(folder.name, load_written(folder)) for folder in HELDOUT if folder.name not in RESERVED]
    if args.dump:
        page, name = args.dump
        for label, pages in sets:
            for truth, html in pages:
                if f"{label}:{truth['id']}" == page:
                    print(perturb(html, name))
        return
    jobs = [(label, truth, html, names) for label, pages in sets for truth, html in pages]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(_read_one, jobs, chunksize=4))
    original = {f"{r.set}:{r.id}": r for rows in results for name, r in rows if name == "original"}
    by_name: dict[str, list[Reading]] = {name: [] for name in names}
    for rows in results:
        for name, r in rows:
            if name != "original":
                by_name[name].append(r)
    print(f"{len(original)} pages; as-is scoring of bench/score_realpages.py, on the pages each transformation changes")
    print(f"{'transformation':15s} {'pages':>5s} | {'precision':>9s} {'recall':>6s} {'undecided':>9s} {'wrong':>5s} | "
          f"unchanged: {'precision':>9s} {'recall':>6s} {'undecided':>9s} {'wrong':>5s} | new WRONG")
    base = score(original.values())
    print(f"{'original':15s} {base.pages:5d} | {base.precision:9.3f} {base.recall:6.3f} {base.undecided_share:9.3f} "
          f"{base.fp:5d} |")
    wrong: list[str] = []
    for name in names:
        got = by_name[name]
        before = [original[f"{r.set}:{r.id}"] for r in got]
        s, b = score(got), score(before)
        new = [(o, r) for o, r in zip(before, got, strict=True) if _state(r) == "WRONG" and _state(o) != "WRONG"]
        print(f"{name:15s} {s.pages:5d} | {s.precision:9.3f} {s.recall:6.3f} {s.undecided_share:9.3f} {s.fp:5d} | "
              f"unchanged: {b.precision:9.3f} {b.recall:6.3f} {b.undecided_share:9.3f} {b.fp:5d} | {len(new)}")
        wrong += [f"  {name:14s} {r.set}:{r.id}: {_state(o)} {o.price} ({o.method}) -> {r.price} ({r.method} "
                  f"{','.join(r.flags)}) want {sorted(map(str, r.truth))}" for o, r in new]
    print(f"\npages a transformation makes WRONG ({len(wrong)}):")
    print("\n".join(wrong))
    if args.json:
        rows = [{"transformation": name, "state": _state(r),
                 **{k: str(v) if k in {"price"} else v for k, v in asdict(r).items() if k not in {"truth", "held_out"}}}
                for rows_ in results for name, r in rows_]
        args.json.write_text(json.dumps(rows, indent=0, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
