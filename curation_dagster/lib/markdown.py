"""Markdown structure of an assistant reply, so rules judge the prose and treat code as code.

Real assistant answers are markdown: fenced and inline code, tables, lists, headings, quotes. Symbol
shares, stop words and language id mean something only on the prose; HTML inside a code block is
content the user asked for; an answer that ends in a closed code fence, a table or a list ended. This
module splits a reply into those parts with a line scanner (no dependency, linear time) and says
what kind of block the reply ends with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
_INLINE_CODE_RE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_LIST_RE = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+")
_SETEXT_RE = re.compile(r"^\s*(?:=+|-+)\s*$")
_TABLE_RE = re.compile(r"^\s*\|.*\|\s*$|^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-{3,}:?\s*\|?\s*$")
_QUOTE_RE = re.compile(r"^\s*>\s?")
_EMPHASIS_RE = re.compile(r"(\*\*|__|~~|\*)(?=\S)(.+?)(?<=\S)\1")
#: lines that read as program text even outside a fence (ShareGPT dumps often lost the fences)
_CODE_LINE_RE = re.compile(
    r"[;{}]\s*$|^\s*[}\])]|^\s*(?:def|class|import|from|return|const|let|var|function|public|private|"
    r"if|for|while|else|elif|try|catch|except|#include|SELECT|INSERT|CREATE)\b[^.!?]*$|^\s*<\?php"
    r"|^\s*</?[a-zA-Z][\w:-]*(?:\s[^>]*)?/?>|^\s*<!--"
    r"|^\s*[\w.$\[\]'\"]+\s*(?:=|\+=|-=|=>|->|:=)\s*\S|^\s*(?:\$|>>>)\s"
    r"|^\s*\S*[(){}\[\]=<>]\S*$|^\s*\.{0,3}[\w$]+(?:\.[\w$]+)+[,;(]?\s*$|^\s*[\w-]+:\s*[^\s;]*;?\s*$"
)
def code_like(line: str) -> bool:
    """A line that reads as program text: a code pattern, or symbol-dense with brackets or operators
    (prose has a few percent of symbols, code lines 15-40%)."""
    if _CODE_LINE_RE.search(line):
        return True
    t = line.strip()
    if len(t) < 4 or not any(c in t for c in "(){}[]=<>;"):
        return False
    return sum(1 for c in t if not c.isalnum() and not c.isspace()) / len(t) >= 0.15


#: TeX math is notation, not prose: $...$, $$...$$, \(...\), \[...\]
_MATH_RE = re.compile(r"\$\$(?=\S).+?(?<=\S)\$\$|(?<![\w$])\$(?=[^\s$])[^$\n]+?(?<=[^\s$])\$(?![\w$])|\\\(.+?\\\)|\\\[.+?\\\]")
#: markdown escapes left by HTML-to-text dumps (p\_1, 4 \* x)
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|^])")


@dataclass(frozen=True)
class Reply:
    prose: str  # natural-language text: code, inline code, math and URLs removed, markdown markers stripped
    sentences: str  # the prose of paragraphs and quotes only (no list items, headings or table cells)
    outside_fences: str  # everything but fenced blocks and inline code (prose + code-looking lines)
    code: str  # fenced blocks, unfenced code-like line runs and inline code, one piece per line
    code_blocks: int  # fenced blocks (closed or not)
    open_fence: bool  # a fence was opened and never closed: the reply was cut inside code
    last_kind: str  # what the reply ends with: prose, code, list, table, heading, quote or empty
    last_line: str  # the reply's last non-empty line, markers kept
    last_siblings: tuple[str, ...]  # up to three lines before it in the same block (same kind)
    last_code: str = ""  # the last code block (fenced, or an unfenced run), when the reply ends with code
    last_code_fenced: bool = False


def _kind(line: str) -> str:
    if _TABLE_RE.match(line):
        return "table"
    if _HEADING_RE.match(line):
        return "heading"
    if _QUOTE_RE.match(line):
        return "quote"
    if _LIST_RE.match(line):
        return "list"
    return "prose"


def _clean_prose(line: str) -> str:
    for pattern in (_HEADING_RE, _QUOTE_RE, _LIST_RE):
        line = pattern.sub("", line, count=1)
    if _TABLE_RE.match(line):
        line = "" if set(line.strip()) <= set("|:- ") else line.replace("|", " ")
    line = _URL_RE.sub(" ", line)
    return _EMPHASIS_RE.sub(r"\2", line)


def parse_reply(text: str | None) -> Reply:
    """Split a markdown reply into prose and code and find how it ends."""
    text = (text or "").replace("\u200b", "").replace("\ufeff", "")
    lines = text.splitlines()
    prose: list[str] = []
    prose_kinds: list[str] = []
    code: list[str] = []
    blocks = 0
    fence: str | None = None
    # (kind, line) per non-empty line; fenced lines are "code"
    tagged: list[tuple[str, str]] = []
    for i, line in enumerate(lines):
        m = _FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
                fence = None
                tagged.append(("code", line))
            else:
                code.append(line)
                if line.strip():
                    tagged.append(("code", line))
            continue
        if m:
            fence, blocks = m.group(1), blocks + 1
            tagged.append(("code", line))
            continue
        if not line.strip():
            tagged.append(("blank", ""))
            continue
        if line.startswith(("    ", "\t")) and (not tagged or tagged[-1][0] in ("blank", "code")):
            code.append(line)  # an indented code block after a blank line
            tagged.append(("code", line))
            continue
        if _SETEXT_RE.match(line) and tagged and tagged[-1][0] == "prose":
            tagged[-1] = ("heading", tagged[-1][1])
            continue
        tagged.append((_kind(line), line))
    # runs of three or more code-looking lines outside fences are code (fences lost in the dump)
    i = 0
    while i < len(tagged):
        j = i
        while j < len(tagged) and tagged[j][0] in ("prose", "blank") and (
                tagged[j][0] == "blank" or code_like(tagged[j][1])):
            j += 1
        n_code = sum(1 for k in range(i, j) if tagged[k][0] == "prose")
        if n_code >= 3:
            for k in range(i, j):
                if tagged[k][0] == "prose":
                    code.append(tagged[k][1])
                    tagged[k] = ("loose_code", tagged[k][1])
        i = max(j, i + 1)
    loose: list[str] = []
    for kind, line in tagged:
        if kind == "loose_code":
            loose.append(_INLINE_CODE_RE.sub(" ", line))
        if kind in ("code", "loose_code", "blank"):
            continue
        loose.append(_INLINE_CODE_RE.sub(" ", line))
        code.extend(m.group(2) for m in _INLINE_CODE_RE.finditer(line))
        code.extend(m.group(0) for m in _MATH_RE.finditer(line))
        prose.append(_clean_prose(_MATH_RE.sub(" ", _ESCAPE_RE.sub(r"\1", _INLINE_CODE_RE.sub(" ", line)))))
        prose_kinds.append(kind)
    last_kind, last_line, siblings = "empty", "", ()
    idx = [k for k, (kind, _) in enumerate(tagged) if kind != "blank"]
    if idx:
        last_kind, last_line = tagged[idx[-1]]
        same: list[str] = []
        for k in reversed(idx[:-1]):
            if tagged[k][0] != last_kind or len(same) == 3:
                break
            same.append(tagged[k][1].strip())
        siblings = tuple(reversed(same))
    last_code, last_fenced = "", False
    if last_kind == "loose_code":
        last_kind = "code"
    if last_kind == "code" and idx:
        k = idx[-1]
        fenced = bool(_FENCE_RE.match(tagged[k][1]))
        block: list[str] = []
        k -= 1 if fenced else 0
        while k >= 0 and tagged[k][0] in ("code", "loose_code", "blank") and not (fenced and _FENCE_RE.match(tagged[k][1])):
            block.append(tagged[k][1])
            k -= 1
        last_code, last_fenced = "\n".join(reversed(block)).strip("\n"), fenced
    if fence is not None:
        last_kind = "open_code"
    sentences = "\n".join(p for p, k in zip(prose, prose_kinds) if k in ("prose", "quote") and p.strip())
    return Reply(prose="\n".join(p for p in prose if p.strip()), sentences=sentences,
                 outside_fences="\n".join(loose), code="\n".join(code), code_blocks=blocks,
                 open_fence=fence is not None, last_kind=last_kind, last_line=last_line.strip(),
                 last_siblings=siblings, last_code=last_code, last_code_fenced=last_fenced)
