from curation_dagster.lib.documents import (ChunkSettings, Document, chunk_document, chunk_documents, chunks_frame,
                                            html_to_markdown, load_documents)

PARA = "The export writes train and validation files with a manifest beside them, sha256 of each file included."

DOC = f"""# Curation Guide

Intro text that explains what the guide is about, long enough to be a chunk of its own here.

## Install

{PARA}

### From source

{PARA} Clone the repository first.

## Usage

tiny

```
# not a heading inside a fence
```
"""


def test_chunks_carry_title_and_heading_path():
    chunks = chunk_document(Document("guide.md", "Curation Guide", DOC), ChunkSettings(min_chars=30))
    # a "#" line inside a code fence is not a heading
    assert [c.heading for c in chunks] == ["", "Install", "Install > From source", "Usage"]
    assert "# not a heading" in chunks[3].body
    assert [c.heading for c in chunk_document(Document("guide.md", "Curation Guide", DOC), ChunkSettings(min_chars=60))
            ] == ["", "Install", "Install > From source"]  # the tiny "Usage" section dropped
    for c in chunks:
        assert c.text.startswith("Document: Curation Guide")
    assert "Section: Install > From source" in chunks[2].text
    assert "Intro text" in chunks[0].body and "Install" not in chunks[0].body


def test_chunk_ids_are_stable_and_distinct():
    a = chunk_document(Document("guide.md", "Curation Guide", DOC), ChunkSettings(min_chars=30))
    b = chunk_document(Document("guide.md", "Curation Guide", DOC), ChunkSettings(min_chars=30))
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert len({c.chunk_id for c in a}) == len(a)
    other = chunk_document(Document("other.md", "Curation Guide", DOC), ChunkSettings(min_chars=30))
    assert not {c.chunk_id for c in a} & {c.chunk_id for c in other}
    # editing one section leaves the others' ids alone
    edited = chunk_document(Document("guide.md", "Curation Guide", DOC.replace("Clone", "Fork")), ChunkSettings(min_chars=30))
    assert [c.chunk_id for c in edited] == [c.chunk_id for c in a]


def test_long_sections_split_at_paragraphs():
    body = "\n\n".join(f"Paragraph {i}. " + "word " * 40 for i in range(10))
    chunks = chunk_document(Document("long.md", "Long", f"# Long\n\n## Part\n\n{body}"), ChunkSettings(max_chars=500))
    assert len(chunks) > 2 and all(len(c.body) <= 500 for c in chunks)
    assert all(c.body.startswith("Paragraph") for c in chunks)  # cut between paragraphs
    assert [c.part for c in chunks] == list(range(len(chunks)))


def test_folder_loading_html_text_and_title_fallback(tmp_path):
    (tmp_path / "b.html").write_text("<html><head><title>Page</title><style>x{}</style></head><body>"
                                     "<h1>Billing FAQ</h1><p>Invoices are sent on the <b>first</b> day of each "
                                     "month &amp; paid within 30 days.</p><script>alert(1)</script></body></html>")
    (tmp_path / "notes_file.txt").write_text(PARA)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.md").write_text("No heading here. " + PARA)
    (tmp_path / "skip.pdf").write_text("binary")
    docs = load_documents(tmp_path)
    assert [d.path for d in docs] == ["b.html", "notes_file.txt", "sub/c.md"]
    assert [d.title for d in docs] == ["Billing FAQ", "notes file", "c"]
    assert "<" not in docs[0].text and "alert" not in docs[0].text and "x{}" not in docs[0].text
    assert "first day of each month & paid" in docs[0].text
    frame = chunks_frame(chunk_documents(docs, ChunkSettings(min_chars=20)))
    assert list(frame["doc_path"]) == ["b.html", "notes_file.txt", "sub/c.md"]
    assert frame["text"].iloc[0].startswith("Document: Billing FAQ\n\nInvoices")


def test_missing_or_empty_folder_is_empty(tmp_path):
    assert load_documents(tmp_path / "nope") == []
    assert load_documents(tmp_path) == []
    assert chunks_frame([]).empty


def test_html_title_used_when_no_h1():
    text, title = html_to_markdown("<title>T</title><h2>Sub</h2><p>a</p>")
    assert title == "T" and text.startswith("## Sub")
