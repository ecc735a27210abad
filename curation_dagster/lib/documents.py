"""Documents as passages: load a folder of Markdown / text / HTML files and chunk them by headings.

Every chunk carries its document's title (the first H1, or the file name) and its heading path, because
a passage read alone ("what does the passage describe?") is useless without them. Long sections are
split at paragraph boundaries to `max_chars`; empty and tiny chunks are dropped. Chunk ids are the
sha256 of (path, heading path, part index): stable across runs and machines, and an edit to one section
leaves the other sections' ids alone. Everything here is deterministic (files in sorted path order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from curation_dagster.lib.text import sha256_hex

MARKDOWN_SUFFIXES = (".md", ".markdown")
TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = MARKDOWN_SUFFIXES + TEXT_SUFFIXES + HTML_SUFFIXES

CHUNK_COLUMNS = ["chunk_id", "doc_path", "title", "heading", "part", "text", "chars", "modified_at"]

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class ChunkSettings:
    max_chars: int = 2000  # a section longer than this is split at paragraph boundaries
    min_chars: int = 80  # a chunk whose body is shorter than this is dropped (a heading alone, a stub)
    max_heading_level: int = 3  # headings #..### start a chunk; deeper ones stay inside their section

    def __post_init__(self) -> None:
        if self.max_chars < 100:
            raise ValueError(f"max_chars must be at least 100, not {self.max_chars}")
        if not 0 <= self.min_chars < self.max_chars:
            raise ValueError(f"min_chars must be between 0 and max_chars, not {self.min_chars}")
        if not 1 <= self.max_heading_level <= 6:
            raise ValueError(f"max_heading_level must be 1..6, not {self.max_heading_level}")


@dataclass(frozen=True)
class Document:
    path: str  # relative to the folder, "/"-separated: the provenance of its chunks
    title: str
    text: str  # Markdown (HTML converted: headings as #, tags stripped)
    modified_at: float | None = None  # the file's mtime (epoch seconds): the created_at of rows made from it


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_path: str
    title: str
    heading: str  # the heading path under the title, " > "-joined ("" for the text before the first heading)
    part: int  # index of the piece within its section (long sections are split)
    body: str
    modified_at: float | None = None

    @property
    def text(self) -> str:
        """The passage as the model sees it: title and heading path first, then the section's text."""
        head = f"Document: {self.title}"
        if self.heading:
            head += f"\nSection: {self.heading}"
        return f"{head}\n\n{self.body}"


# -- loading ---------------------------------------------------------------------------------------


class _HTMLToMarkdown(HTMLParser):
    """Text of an HTML page with h1-h6 as Markdown headings and block elements as paragraph breaks;
    script, style and head content dropped; the <title> remembered."""

    BLOCKS = {"p", "div", "br", "li", "tr", "table", "ul", "ol", "section", "article", "pre", "blockquote",
              "header", "footer", "main", "nav", "hr", "dd", "dt"}
    SKIP = {"script", "style", "head", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
        elif tag in self.SKIP:
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCKS:
            self.out.append("\n\n" if tag not in ("br", "li", "tr") else "\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCKS:
            self.out.append("\n\n" if tag not in ("li", "tr") else "\n")

    def handle_data(self, data):
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            self.out.append(data)


def html_to_markdown(html: str) -> tuple[str, str]:
    """(text, <title>) of an HTML page: tags stripped with the stdlib parser, headings kept as #."""
    p = _HTMLToMarkdown()
    p.feed(html)
    p.close()
    lines = []
    for line in "".join(p.out).split("\n"):
        line = " ".join(line.split())
        lines.append(line)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, " ".join("".join(p.title).split())


def _first_h1(markdown: str) -> str | None:
    for line in _outside_fences(markdown.splitlines()):
        m = _HEADING_RE.match(line)
        if m and len(m.group(1)) == 1:
            return m.group(2).strip()
    return None


def _outside_fences(lines: list[str]):
    fenced = False
    for line in lines:
        if _FENCE_RE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def _title_from_name(path: Path) -> str:
    return " ".join(path.stem.replace("_", " ").replace("-", " ").split()) or path.name


def read_document(path: Path, rel: str) -> Document:
    """One file as a Document (undecodable bytes replaced, never a crash)."""
    mtime = path.stat().st_mtime
    raw = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    suffix = path.suffix.lower()
    page_title = ""
    if suffix in HTML_SUFFIXES:
        raw, page_title = html_to_markdown(raw)
    if suffix in TEXT_SUFFIXES:  # plain text: no headings to find, the file name is the title
        return Document(rel, _title_from_name(path), raw.strip(), mtime)
    return Document(rel, _first_h1(raw) or page_title or _title_from_name(path), raw.strip(), mtime)


def document_files(folder: str | Path) -> list[Path]:
    """The documents under `folder` (recursively), in sorted relative-path order; hidden files skipped."""
    root = Path(folder)
    if not root.is_dir():
        return []
    return sorted((p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(root).parts)),
                  key=lambda p: p.relative_to(root).as_posix())


def load_documents(folder: str | Path) -> list[Document]:
    root = Path(folder)
    return [read_document(p, p.relative_to(root).as_posix()) for p in document_files(root)]


# -- chunking --------------------------------------------------------------------------------------


def _sections(doc: Document, max_level: int) -> list[tuple[str, str]]:
    """(heading path, body) per section, in document order. The title's H1 is not in the path."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    stack: list[tuple[int, str]] = []
    title_seen = False
    fenced = False
    for line in doc.text.splitlines():
        if _FENCE_RE.match(line):
            fenced = not fenced
        m = None if fenced else _HEADING_RE.match(line)
        if m and len(m.group(1)) <= max_level:
            level, name = len(m.group(1)), m.group(2).strip()
            if level == 1 and not title_seen and name == doc.title:
                title_seen = True
                stack = []
                sections.append(("", []))
                continue
            stack = [(lv, n) for lv, n in stack if lv < level] + [(level, name)]
            sections.append((" > ".join(n for _, n in stack), []))
            continue
        sections[-1][1].append(line)
    return [(path, "\n".join(body).strip()) for path, body in sections]


def _split_long(body: str, max_chars: int) -> list[str]:
    """Pieces of at most max_chars, cut at paragraph boundaries (a paragraph longer than max_chars at
    the last whitespace before the limit)."""
    if len(body) <= max_chars:
        return [body]
    paragraphs: list[str] = []
    for para in re.split(r"\n\s*\n", body):
        para = para.strip()
        while len(para) > max_chars:
            cut = para.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            paragraphs.append(para[:cut].rstrip())
            para = para[cut:].lstrip()
        if para:
            paragraphs.append(para)
    pieces, current = [], ""
    for para in paragraphs:
        joined = f"{current}\n\n{para}" if current else para
        if len(joined) <= max_chars:
            current = joined
        else:
            pieces.append(current)
            current = para
    if current:
        pieces.append(current)
    return pieces


def chunk_id(doc_path: str, heading: str, part: int) -> str:
    return sha256_hex(f"{doc_path}\x1f{heading}\x1f{part}")[:16]


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """A document's chunks: one per section (#..### by default), long ones split at paragraphs, bodies
    shorter than min_chars dropped; each carries the title and heading path."""
    chunks: list[Chunk] = []
    # a section's heading path can repeat (two "Usage" sections under one parent): keep ids distinct
    seen: dict[str, int] = {}
    for heading, body in _sections(doc, settings.max_heading_level):
        offset = seen.get(heading, 0)
        pieces = [p for p in _split_long(body, settings.max_chars)] if body else []
        seen[heading] = offset + len(pieces)
        for i, piece in enumerate(pieces):
            if len(piece.strip()) < max(1, settings.min_chars):
                continue
            chunks.append(Chunk(chunk_id(doc.path, heading, offset + i), doc.path, doc.title, heading,
                                offset + i, piece.strip(), doc.modified_at))
    return chunks


def chunk_documents(docs: list[Document], settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    return [c for doc in docs for c in chunk_document(doc, settings)]


def chunks_frame(chunks: list[Chunk]) -> pd.DataFrame:
    """One row per chunk (CHUNK_COLUMNS; `text` is the passage with its title and heading path)."""
    rows = [{"chunk_id": c.chunk_id, "doc_path": c.doc_path, "title": c.title, "heading": c.heading,
             "part": c.part, "text": c.text, "chars": len(c.body), "modified_at": c.modified_at} for c in chunks]
    df = pd.DataFrame(rows, columns=CHUNK_COLUMNS)
    df["modified_at"] = pd.to_datetime(df["modified_at"].astype("float64"), unit="s", utc=True).dt.floor("s")
    return df.astype({"chunk_id": object, "doc_path": object, "title": object, "heading": object,
                      "part": "int64", "text": object, "chars": "int64"})
