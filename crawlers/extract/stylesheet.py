"""The page's own stylesheet rules that hide elements (``display: none``, ``visibility: hidden``), applied as the
cascade applies them.

Themes hide the other states of a product with their own rules (``.price--sale { display: none }`` for a sale
that has not started, ``.member-price { display: none }`` beside ``.is-member .member-price { display: block }``)
and show them again per state (``.on-sale .price--sale { display: block }`` where the product's wrapper is on
sale). An element is hidden by such a rule only when no other rule matching it with an equal or higher
specificity (a later one for an equal) shows it again, ``!important`` honoured, nor its own ``style`` attribute.
Only what can be known without a browser hides: the top-level rules and those of ``@media screen`` / ``all``
(never a rule of a width's ``@media``, ``@supports``, ``@container`` or ``@layer``), whose selector lexbor can
evaluate on the page as served (no ``:hover``, ``:checked``, no ``.no-js``/``.js`` root a script swaps); a rule
showing the element that cannot be evaluated so counts as matching it (unknown means shown).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property

from selectolax.lexbor import LexborNode

__all__ = ["StyleHiding"]

# The ways a stylesheet writes a hiding declaration, checked where str.find finds a property's name (not a regex: a
# page's stylesheets run to 100,000 characters, and a regex of alternatives reads every one of them; stylesheets
# write properties in lower case, minified or with one blank)
_HIDING_WORDS = ("display:none", "display: none", "visibility:hidden", "visibility: hidden")
# An at-rule whose rules hold at every width of a screen: ``@media`` without a query, or of the types screen and
# all only
_SCREEN_MEDIA = re.compile(r"@media(?:\s+(?:only\s+)?(?:screen|all)(?:\s*,\s*(?:only\s+)?(?:screen|all))*)?\s*",
                           re.I)
# Pseudo-classes lexbor evaluates on the page as served (the structure, never a shopper's action or a script's
# state): a selector with another (":hover", ":checked", ":focus-within") is not known
_STATIC = frozenset({"not", "is", "where", "has", "first-child", "last-child", "only-child", "nth-child",
                     "nth-last-child", "first-of-type", "last-of-type", "only-of-type", "nth-of-type",
                     "nth-last-of-type", "root", "empty"})
# Pseudo-elements (also in their old one-colon form): a rule for one hides or shows that, not the element
_PSEUDO_ELEMENTS = frozenset({"before", "after", "first-line", "first-letter", "marker", "placeholder", "selection",
                              "backdrop", "file-selector-button"})
# The root's classes a script swaps as the page loads: "no-js" becomes "js" (Modernizr, themes; Amazon's "a-no-js"
# and "a-js", "has-js", "js-enabled"), a web font loader's "wf-loading" becomes "wf-active" (never "js-template", a
# script's hook on an element of its own)
_SCRIPTED_ROOT = re.compile(r"\.(?:[\w-]*-)?(?:no-?)?js(?:-(?:enabled|on|loaded|ready))?(?![\w-])|\.wf-[a-z]+", re.I)
_PSEUDO = re.compile(r"::?([\w-]+)")
_NAME = re.compile(r"([.#])((?:[\w-]|\\.)+)")
_TAG = re.compile(r"[a-zA-Z][\w-]*")
_ESCAPE = re.compile(r"\\(.)")
_COMBINATOR = re.compile(r"\s*[\s>+~]\s*")
_INLINE = re.compile(r"(?:^|;)\s*(display|visibility)\s*:\s*([^;]*)", re.I)


@dataclass(frozen=True, slots=True)
class _Rule:
    """One selector of a rule setting ``display`` or ``visibility``."""

    selector: str
    prop: str  # "display" or "visibility"
    hides: bool  # none / hidden, collapse (else it shows the element again)
    important: bool
    order: int  # where it stands in the page's stylesheets
    known: bool  # lexbor evaluates it on the page as served
    names: frozenset[str]  # the classes (".x") and ids ("#x") the element itself must have
    tag: str | None  # the element's own tag, if the selector names one

    @property
    def rank(self) -> tuple[bool, int, int, int, int]:
        """The cascade's precedence: important, then specificity, then the later."""
        return (self.important, *_specificity(self.selector), self.order)


def _split(text: str, separators: str) -> list[str]:
    """``text`` split at each of ``separators`` outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and char in separators:
            parts.append(text[start:at])
            start = at + 1
    parts.append(text[start:])
    return parts


def _outside(text: str) -> str:
    """``text`` without what its brackets and parentheses hold (``.a:not(.b)[x=".c"]`` -> ``.a:not``)."""
    if "(" not in text and "[" not in text:
        return text
    kept, depth = [], 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


@cache
def _specificity(selector: str) -> tuple[int, int, int]:
    """The selector's specificity (ids, classes/attributes/pseudo-classes, tags), ``:where()`` counting nothing
    and ``:is()``/``:not()``/``:has()`` their argument (as one selector: the first of a list is close enough)."""
    text = re.sub(r":where\((?:[^()]|\([^()]*\))*\)", "", selector)
    text = re.sub(r":(?:is|not|has)\(", " ", text).replace(")", " ")
    text = re.sub(r"\[[^\]]*\]", ".a", text)
    text = re.sub(r"\([^()]*\)", "", text)
    ids = text.count("#")
    classes = len(re.findall(r"\.(?:[\w-]|\\.)", text)) + len(re.findall(r"(?<!:):(?!:)[\w-]", text))
    tags = len(re.findall(r"(?:^|[\s>+~(,])[a-zA-Z][\w-]*", text)) + len(re.findall(r"::[\w-]", text))
    return ids, classes, tags


@dataclass
class StyleHiding:
    """The display and visibility rules of a page's own stylesheets, and which elements they hide."""

    css: str  # the text of the page's ``<style>`` elements that set display or visibility, in page order
    # Where each class and id the last part of a hiding rule's selectors names has a hiding declaration, without "."
    # or "#": an element naming none is never hidden. (Found cheaply for every hiding declaration; a declaration is
    # read whole once an element that may be read as an amount names its rule, :meth:`hides`.)
    where: dict[str, list[int]]
    # The hiding rules read so far, by a class or id their element must have, and the declarations read
    hiding: dict[str, list[_Rule]] = field(default_factory=dict)
    read: set[int] = field(default_factory=set)
    # Nested rules (CSS nesting) were met: their selectors are not read, so nothing is hidden
    nested: bool = False
    # Where every "display" and "visibility" stands in ``css``, in order (found once: the hiding declarations are
    # among them, and :attr:`showing` reads the rest)
    declared: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, styles: list[str]) -> StyleHiding | None:
        """The hiding rules of ``styles`` (the text of the page's ``<style>`` elements, in page order), or None when
        none may hide an element."""
        # (read as one text: a page has dozens of style elements, each a few rules)
        css = "\n".join(css for css in styles if "display" in css or "visibility" in css)
        where: dict[str, list[int]] = {}
        # (one search for each property's name, the hiding values then checked where it stands: four searches of
        # the whole text for each way of writing a hiding value read it twice as often)
        declared = _found(css, ("display", "visibility"))
        for at in declared:
            if not css.startswith(_HIDING_WORDS, at):
                continue
            opening = css.rfind("{", 0, at)
            if opening >= 0:
                start = max(css.rfind("}", 0, opening), css.rfind("{", 0, opening)) + 1
                for selector in css[start:opening].split(","):
                    last = selector.rsplit(None, 1)
                    for _, name in _NAME.findall(last[-1]) if last else ():
                        where.setdefault(name, []).append(at)
        return cls(css, where, declared=declared) if where else None

    def _hiding_of(self, names: list[str]) -> list[_Rule]:
        """The hiding rules that may apply to an element of ``names`` (its classes and id), read now if not yet."""
        todo = sorted({at for name in names for at in self.where.get(name, ()) if at not in self.read})
        if todo:
            self.read.update(todo)
            for rule in _declarations(self.css, todo, self):
                if rule[2]:
                    self._index(rule, self.hiding)
        keys = {f".{name}" for name in names[:-1]} | {f"#{names[-1]}"}
        return [] if self.nested else list({id(r): r for key in keys for r in self.hiding.get(key, ())}.values())

    @cached_property
    def showing(self) -> dict[str, list[_Rule]]:
        """The rules that show an element (any ``display`` but ``none``, ``visibility: visible``), by a class or id
        their element must have, else by its tag, else ``"*"``; read once an element is matched by a rule that
        hides it (most pages never are: a page's stylesheets hold hundreds)."""
        found: dict[str, list[_Rule]] = {}
        for rule in _declarations(self.css, self.declared, self):
            if not rule[2]:
                self._index(rule, found)
        return found

    def _index(self, rule: tuple[str, str, bool, bool, int], index: dict[str, list[_Rule]]) -> None:
        """Index each selector of one rule's declaration (selectors, property, hides, important, order)."""
        prelude, prop, hides, important, order = rule
        for selector in (_split(prelude, ",") if "(" in prelude else prelude.split(",")):
            selector = " ".join(selector.split())
            if not selector:
                continue
            outside = _outside(selector)
            pseudo = set(_PSEUDO.findall(outside)) if ":" in outside else set()
            if pseudo & _PSEUDO_ELEMENTS or "::" in outside:
                continue  # (the rule hides or shows a pseudo-element)
            compound = (_split(selector, " >+~") if "(" in selector or "[" in selector
                        else _COMBINATOR.split(selector))[-1]
            own = _outside(compound)
            names = frozenset(kind + (_ESCAPE.sub(r"\1", name) if "\\" in name else name)
                              for kind, name in _NAME.findall(own))
            known = pseudo <= _STATIC and _SCRIPTED_ROOT.search(selector) is None and "|" not in selector
            if hides and not (known and names):
                continue  # (unknown, or its elements not looked for: shown)
            tag = _TAG.match(own)
            made = _Rule(selector, prop, hides, important, order, known, names,
                         tag.group(0).lower() if tag is not None else None)
            if names:
                for name in names:
                    index.setdefault(name, []).append(made)
                    if hides:
                        break  # (looked up by one of its names: the element must have them all)
            else:
                index.setdefault(made.tag or "*", []).append(made)

    def hides(self, node: LexborNode) -> bool:
        """Whether the rules hide ``node`` itself (its ancestors are asked on their own)."""
        attrs = node.attributes
        classes = (attrs.get("class") or "").split()
        ident = attrs.get("id") or ""
        hiding = self._hiding_of([*classes, ident])
        if not hiding:
            return False
        names = {f".{name}" for name in classes} | ({f"#{ident}"} if ident else set())
        tag = node.tag or ""
        inline = {match.group(1).lower(): match.group(2) for match in _INLINE.finditer(attrs.get("style") or "")}
        for prop in ("display", "visibility"):
            best = max((rule.rank for rule in hiding if rule.prop == prop and _matches(rule, node, names, tag)),
                       default=None)
            if best is None:
                continue
            if prop in inline and (not best[0] or "!" in inline[prop]):
                continue  # (its own style attribute shows it: it outranks every rule but an important one)
            shown = [rule for key in (*names, tag, "*") for rule in self.showing.get(key, ())
                     if rule.prop == prop and rule.rank > best]
            if any(_matches(rule, node, names, tag) for rule in shown):
                continue
            if prop == "visibility" and self._shown_within(node):
                continue
            return True
        return False

    def _shown_within(self, node: LexborNode) -> bool:
        """Whether an element inside ``node`` may be made visible again (``visibility`` is inherited, and a child
        that says ``visible`` is drawn inside a hidden parent)."""
        rules = [rule for rules in self.showing.values() for rule in rules if rule.prop == "visibility"]
        if any(not rule.known for rule in rules):
            return True
        query = ", ".join([*(rule.selector for rule in rules), "[style*=visib]"])
        try:
            return node.css_first(query) is not None
        except Exception:  # (a selector lexbor cannot parse)
            return True


def _matches(rule: _Rule, node: LexborNode, names: set[str], tag: str) -> bool:
    """Whether ``rule`` applies to ``node`` (an unknown rule applies when its element's own part fits)."""
    if not rule.names <= names or (rule.tag is not None and rule.tag != tag):
        return False
    if not rule.known:
        return not rule.hides
    try:
        return node.css_matches(rule.selector)
    except Exception:  # (a selector lexbor cannot parse: unknown)
        return not rule.hides


def _found(css: str, words: tuple[str, ...]) -> list[int]:
    """Where each of ``words`` stands in ``css``, in order."""
    found = []
    for word in words:
        at = css.find(word)
        while at >= 0:
            found.append(at)
            at = css.find(word, at + len(word))
    if len(words) > 1:
        found.sort()
    return found


def _declarations(css: str, positions: list[int], sheet: StyleHiding,
                  ) -> Iterator[tuple[str, str, bool, bool, int]]:
    """Each ``display`` or ``visibility`` declaration of ``css`` at one of ``positions`` (in order), in a rule: (the
    rule's selectors, the property, whether it hides, whether it is important, its order in the page). A hiding one
    only where it holds at every width: a top-level rule, or one of an ``@media`` for every screen. A rule inside
    another rule (CSS nesting) marks ``sheet`` and ends the reading.

    Found by the declarations, not by reading every rule: a page's stylesheets hold thousands of rules, few of
    which set display or visibility. A rule's depth is the braces opened before it, counted from one declaration
    to the next."""
    depth, counted, nearest = 0, 0, -1
    blocks: dict[tuple[int, int], str | None] = {}  # (the nearest "@" before a rule, its depth): the at-rule
    for at in positions:
        if at and (css[at - 1].isalnum() or css[at - 1] in "-_"):
            continue  # ("content-visibility", "--display")
        opening = css.rfind("{", 0, at)
        if opening < 0 or css.rfind("}", opening, at) >= 0:
            continue  # (not in a rule's declarations)
        start = max(css.rfind("}", 0, opening), css.rfind("{", 0, opening)) + 1
        if css.rfind("/*", opening, at) > css.rfind("*/", opening, at) or css.rfind("/*", start, opening) > css.rfind(
                "*/", start, opening):
            continue  # (in a comment: "/* display: none; */", "/* .x { display: none } */")
        prop = "display" if css.startswith("display", at) else "visibility"
        colon = at + len(prop)
        while colon < len(css) and css[colon] in " \t\n\r":
            colon += 1
        if not css.startswith(":", colon):
            continue
        end = min((e for e in (css.find(";", colon), css.find("}", colon)) if e >= 0), default=len(css))
        value = css[colon + 1:end].strip().lower()
        important = "!" in value
        value = value.split("!")[0].strip()
        hides = value == "none" if prop == "display" else value in {"hidden", "collapse"}
        if opening > counted:
            depth += css.count("{", counted, opening) - css.count("}", counted, opening)
            nearest = max(nearest, css.rfind("@", counted, opening))
            counted = opening
        if depth:
            if (nearest, depth) not in blocks:
                blocks[nearest, depth] = _enclosing(css, nearest, opening)
            prelude = blocks[nearest, depth]
            if prelude is None:
                sheet.nested = True
                return
            if hides and (depth > 1 or not _SCREEN_MEDIA.fullmatch(prelude.strip())):
                continue  # (a width's, a feature's, a layer's: not known to hold)
        elif hides and nearest >= 0 and not _SCREEN_MEDIA.fullmatch((_enclosing(css, nearest, opening) or "@media")
                                                                      .strip()):
            continue  # (in an at-rule's block after all: a brace in a string, content: "}", miscounted the depth)
        # (after a comment, or a statement: "@import url(x);")
        comment = css.rfind("*/", start, opening)
        start = max(start, comment + 2 if comment >= 0 else 0, css.rfind(";", start, opening) + 1)
        yield css[start:opening], prop, hides, important, at


def _enclosing(css: str, at: int, opening: int) -> str | None:
    """The prelude of the at-rule at ``at`` when its block holds the rule opened at ``opening`` right inside, else
    None (the rule is inside another rule: CSS nesting)."""
    if at < 0:
        return None
    brace = css.find("{", at, opening)
    if brace < 0 or css.count("{", brace + 1, opening) != css.count("}", brace + 1, opening):
        return None
    return css[at:brace]
