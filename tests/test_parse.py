"""Seed bytes → Document: encodings, front matter forms, YAML safety."""

from __future__ import annotations

import pytest

from feeder.errors import SeedError
from feeder.seeds.parse import parse_bytes

REAL_UNQUOTED = """---
title: Java Spring Boot "heapdump" scans, (Mon, Jul 27th)
url: https://isc.sans.edu/diary/rss/33188
source: SANS Internet Storm Center, InfoCON: green
date: 2026-07-27
fetch_date: 2026-07-28T05:00:03.676918
---

Body
"""


def test_unquoted_colons_fall_back_to_line_reading() -> None:
    doc = parse_bytes(REAL_UNQUOTED.encode(), "a.txt")
    assert doc.meta["source"] == "SANS Internet Storm Center, InfoCON: green"
    assert doc.meta["title"] == 'Java Spring Boot "heapdump" scans, (Mon, Jul 27th)'
    assert doc.meta["date"] == "2026-07-27"
    assert doc.body.strip() == "Body"


def test_yaml_lists_and_quoted_values() -> None:
    text = "---\ntitle: '`lmstudio-js` (TypeScript SDK)'\ntags:\n    - sdk\n    - llm\n---\nx"
    doc = parse_bytes(text.encode(), "a.md")
    assert doc.meta["title"] == "`lmstudio-js` (TypeScript SDK)"
    assert doc.meta["tags"] == ["sdk", "llm"]


def test_typed_scalars_keep_their_text() -> None:
    doc = parse_bytes(b"---\ntitle: 2024\nsource: yes\ndate: 2024-01-02\n---\nx", "a.md")
    assert doc.meta["title"] == "2024"
    assert doc.meta["source"] == "yes"
    assert doc.meta["date"] == "2024-01-02"


def test_keys_are_folded() -> None:
    doc = parse_bytes(b"---\nPage-Title: Hello\nSource URL: https://e.org/\n---\nx", "a.md")
    assert doc.meta["page_title"] == "Hello"
    assert doc.meta["source_url"] == "https://e.org/"


@pytest.mark.parametrize(
    "data",
    [
        "\ufeff---\ntitle: 标题\n---\n正文".encode(),
        "---\r\ntitle: 标题\r\n---\r\n正文".encode(),
        "---\ntitle: 标题\n---\n正文".encode("utf-16"),
    ],
    ids=["bom", "crlf", "utf16"],
)
def test_encodings(data: bytes) -> None:
    doc = parse_bytes(data, "a.txt")
    assert doc.meta["title"] == "标题"
    assert doc.body.strip() == "正文"


def test_gbk_article_is_detected_not_garbled() -> None:
    text = (
        "---\ntitle: 网络安全周报\nsource: 安全客\n---\n"
        + "这是一篇关于网络安全的文章，内容很长。" * 30
    )
    doc = parse_bytes(text.encode("gbk"), "a.txt")
    assert doc.meta["title"] == "网络安全周报"
    assert "网络安全的文章" in doc.body


def test_a_few_broken_utf8_bytes_are_replaced() -> None:
    data = ("---\ntitle: ok\n---\n" + "text " * 200).encode() + b"\xff\xfe" + b" more"
    doc = parse_bytes(data, "a.txt")
    assert doc.meta["title"] == "ok"
    assert any("invalid UTF-8" in w for w in doc.warnings)


@pytest.mark.parametrize(
    "data,reason", [(b"", "empty"), (b"  \n", "empty"), (bytes(range(256)) * 40, "binary")]
)
def test_unusable_files(data: bytes, reason: str) -> None:
    with pytest.raises(SeedError, match=reason):
        parse_bytes(data, "a.txt")


def test_no_front_matter() -> None:
    doc = parse_bytes(b"# Heading\n\ntext", "a.md")
    assert doc.meta == {}
    assert "no front matter" in doc.warnings


def test_unterminated_front_matter() -> None:
    doc = parse_bytes(b"---\ntitle: T\nurl: https://e.org/a\n\nBody here", "a.md")
    assert doc.meta["title"] == "T"
    assert "Body here" in doc.body
    assert any("unterminated" in w for w in doc.warnings)


@pytest.mark.parametrize("front", ["- a\n- b", "just a scalar", "[1, 2]"])
def test_front_matter_not_a_mapping(front: str) -> None:
    doc = parse_bytes(f"---\n{front}\n---\nBody".encode(), "a.md")
    assert doc.body.strip() == "Body"
    assert "title" not in doc.meta


def test_python_tags_never_execute(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "pwned"
    front = f"title: !!python/object/apply:os.system ['touch {marker}']\nurl: https://e.org/"
    doc = parse_bytes(f"---\n{front}\n---\nx".encode(), "a.md")
    assert not marker.exists()
    assert "python/object" in str(doc.meta["title"])


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    doc = parse_bytes(f"---\ntitle: T\n{bomb}---\nbody".encode(), "a.md")
    assert doc.meta["title"] == "T"
    assert len(repr(doc.meta)) < 10_000


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Le élève a déjà préparé une tâche très intéressante pour la fête de Noël.", "latin-1"),
        ("L’élève a préparé « une tâche » — pour la fête de Noël… Ça coûte 5 €.", "cp1252"),
        ("A ação da população não é fácil; o coração está em órbita. Não há pão.", "latin-1"),
        ("Perché la città è così bella? Più di così non si può, è già l'università.", "latin-1"),
        ("El niño comió piñata en la mañana; ¿qué pasó? ¡Está bien! La canción.", "latin-1"),
        ("Die Straße ist schön, die Bäume blühen und Jörg isst Käse. Übermäßig.", "latin-1"),
        ("Här är en mening på svenska med å, ä och ö. Smörgåsbord är gött.", "latin-1"),
        ("Zażółć gęślą jaźń. Łódź jest pięknym miastem, a żółw śpi przy źródle.", "cp1250"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy. Čeština je krásný jazyk.", "cp1250"),
        ("Съешь же ещё этих мягких французских булок, да выпей чаю. Привет!", "cp1251"),
        ("中文的文章，正文内容包括安全漏洞的分析与修复建议。", "gbk"),
    ],
)
def test_legacy_encodings_read_exactly(text: str, encoding: str) -> None:
    """Seeds not in UTF-8 keep every character (windows-1252 preferred among Latin look-alikes)."""
    seed = f"---\ntitle: t\nurl: https://e.org/a\n---\n{text}\n"
    doc = parse_bytes(seed.encode(encoding), "legacy.md")
    assert doc.body.strip() == text
    assert any(w.startswith("decoded as ") for w in doc.warnings)


def test_unrecognized_encoding_is_published_with_a_warning() -> None:
    """Bytes no encoding reads cleanly keep their ASCII; the article is not lost."""
    seed = "---\ntitle: t\nurl: https://e.org/a\n---\nASCII stays \x81\x8d\x8f\x90\x9d here.\n"
    doc = parse_bytes(seed.encode("latin-1"), "odd.md")
    assert doc.body.startswith("ASCII stays ") and doc.body.endswith(" here.\n")
    assert doc.meta["url"] == "https://e.org/a"
    assert any(w.startswith("decoded as ") for w in doc.warnings)
