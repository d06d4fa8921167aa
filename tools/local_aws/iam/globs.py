"""Wildcard patterns as IAM matches them, and whether two patterns can match one common string.

A pattern is a sequence of tokens; each token is a character class, taken once or repeated
(``*``). Three sources build patterns:

* **Actions** (``s3:Get*``): ``*`` is any run of characters, ``?`` any one character, and the
  comparison ignores case ("Action and NotAction values are not case-sensitive", IAM User Guide,
  *IAM JSON policy elements: Action*).
* **Resources** (``arn:aws:s3:::bucket/chain/*``): IAM User Guide, *IAM JSON policy elements:
  Resource*, "Using wildcards in resource ARNs": ``*`` and ``?`` work within each colon-separated
  segment of the ARN, ``*`` also matches ``/`` ("the asterisk can expand to replace everything
  within a segment, including characters like a forward slash"), and "if the ``*`` wildcard is the
  last character of a resource ARN segment, it can expand to match beyond the colon boundaries".
  So a ``*`` followed by ``:`` or by the end of the pattern matches anything, any other ``*`` and
  every ``?`` stay inside their segment. The comparison is case-sensitive.
* **ARN formats** of the Service Authorization Reference
  (``arn:${Partition}:s3:::${BucketName}/${ObjectName}``): each ``${Name}`` is one or more
  characters of its segment; the last placeholder of a format takes the rest of the ARN. Bucket
  names never contain ``/`` (Amazon S3 User Guide, *General purpose bucket naming rules*: letters,
  digits, dots and hyphens), which is what tells a bucket ARN from an object ARN.

``matches`` decides a concrete string; ``overlaps`` decides whether some string matches both
patterns (a product of the two automata, searched breadth-first): the linter asks whether a policy's
resource pattern can name a resource of the type an action acts on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# A character class: ("lit", c) is the one character c; ("not", chars) is any character not in chars.
CharClass = tuple[str, str]
ANY: CharClass = ("not", "")
NOT_COLON: CharClass = ("not", ":")

# Placeholder character classes stated by a service's own naming rules (see module docstring).
_PLACEHOLDER_EXCLUDES = {"BucketName": ":/"}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class Token:
    cls: CharClass
    repeat: bool  # True: zero or more characters of cls; False: exactly one


def _lit(ch: str) -> Token:
    return Token(("lit", ch), False)


def _intersect(a: CharClass, b: CharClass) -> bool:
    if a[0] == "lit" and b[0] == "lit":
        return a[1] == b[1]
    if a[0] == "lit":
        return a[1] not in b[1]
    if b[0] == "lit":
        return b[1] not in a[1]
    return True  # two complements of finite sets always share a character


def _regex(cls: CharClass) -> str:
    if cls[0] == "lit":
        return re.escape(cls[1])
    if not cls[1]:
        return "."
    return "[^" + "".join(re.escape(c) for c in cls[1]) + "]"


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern; ``text`` is its source, for messages."""

    text: str
    tokens: tuple[Token, ...]
    ignore_case: bool = False

    @property
    def regex(self) -> re.Pattern[str]:
        return _compile(self.tokens, self.ignore_case)

    def matches(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None

    def overlaps(self, other: Pattern) -> bool:
        """True when at least one string matches both patterns."""
        return _overlaps(self.tokens, other.tokens)


@lru_cache(maxsize=4096)
def _compile(tokens: tuple[Token, ...], ignore_case: bool) -> re.Pattern[str]:
    body = "".join(_regex(t.cls) + ("*" if t.repeat else "") for t in tokens)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _closure(tokens: tuple[Token, ...], i: int) -> list[int]:
    """States reachable from i without consuming a character (skipping repeated tokens)."""
    states = [i]
    while i < len(tokens) and tokens[i].repeat:
        i += 1
        states.append(i)
    return states


@lru_cache(maxsize=4096)
def _overlaps(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    start = {(i, j) for i in _closure(a, 0) for j in _closure(b, 0)}
    seen, frontier = set(start), list(start)
    while frontier:
        i, j = frontier.pop()
        if i == len(a) and j == len(b):
            return True
        if i == len(a) or j == len(b):
            continue
        ta, tb = a[i], b[j]
        if not _intersect(ta.cls, tb.cls):
            continue
        # Consume one character with both tokens: a repeated token may stay where it is.
        for ni in _closure(a, i if ta.repeat else i + 1):
            for nj in _closure(b, j if tb.repeat else j + 1):
                if (ni, nj) not in seen:
                    seen.add((ni, nj))
                    frontier.append((ni, nj))
    return False


def action_pattern(text: str) -> Pattern:
    """``service:Name`` with ``*`` / ``?`` wildcards, compared without regard to case."""
    return string_like(text, ignore_case=True)


def resource_pattern(text: str, literal: frozenset[int] = frozenset()) -> Pattern:
    """A Resource / NotResource entry: an ARN with wildcards, or ``*``. Characters at the ``literal``
    positions (a policy variable's value) are never wildcards."""
    tokens = []
    for index, ch in enumerate(text):
        if index in literal:
            tokens.append(_lit(ch))
        elif ch == "*":
            at_segment_end = index + 1 == len(text) or text[index + 1] == ":"
            tokens.append(Token(ANY if at_segment_end else NOT_COLON, True))
        elif ch == "?":
            tokens.append(Token(NOT_COLON, False))
        else:
            tokens.append(_lit(ch))
    return Pattern(text, tuple(tokens))


def string_like(
    text: str, ignore_case: bool = False, literal: frozenset[int] = frozenset()
) -> Pattern:
    """StringLike values: ``*`` any run, ``?`` any one character, anywhere in the string (but at the
    ``literal`` positions, a policy variable's value)."""
    tokens = []
    for index, ch in enumerate(text.lower() if ignore_case else text):
        if index in literal:
            tokens.append(_lit(ch))
        elif ch == "*":
            tokens.append(Token(ANY, True))
        elif ch == "?":
            tokens.append(Token(ANY, False))
        else:
            tokens.append(_lit(ch))
    return Pattern(text, tuple(tokens), ignore_case=ignore_case)


def literal(text: str) -> Pattern:
    """A concrete string (a request's resource ARN) as a pattern."""
    return Pattern(text, tuple(_lit(ch) for ch in text))


def arn_format(template: str) -> Pattern:
    """A Service Authorization Reference ARN format, e.g. ``arn:${Partition}:sns:${Region}:...``."""
    tokens: list[Token] = []
    last = len(_PLACEHOLDER.findall(template)) - 1
    position, index = 0, 0
    for found in _PLACEHOLDER.finditer(template):
        tokens.extend(_lit(ch) for ch in template[position : found.start()])
        excluded = _PLACEHOLDER_EXCLUDES.get(found.group(1))
        if excluded is not None:
            cls: CharClass = ("not", excluded)
        elif index == last and found.end() == len(template):
            cls = ANY
        else:
            cls = NOT_COLON
        tokens += [Token(cls, False), Token(cls, True)]
        position, index = found.end(), index + 1
    tokens.extend(_lit(ch) for ch in template[position:])
    return Pattern(template, tuple(tokens))


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike / ArnEquals: each of the six colon-separated parts compared on its own.

    IAM User Guide, *IAM JSON policy elements: Condition operators*, ARN condition operators: "Each
    of the six colon-delimited components of the ARN is checked separately and each can include
    multi-character match wildcards (*) or single-character match wildcards (?)".
    """
    if pattern == "*":
        return True
    want, have = pattern.split(":", 5), value.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(string_like(w).matches(h) for w, h in zip(want, have))
