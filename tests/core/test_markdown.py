"""The one Markdown renderer keeps text that is not markup and leaves nothing that runs."""

from html.parser import HTMLParser

import pytest

from core.markdown import render_markdown
from tests.support import html_text


def elements(html: str) -> list[tuple[str, dict]]:
    """The elements of an HTML fragment with their attributes."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found


@pytest.mark.parametrize(("source", "visible"), [
    ("<<Reminders to Save Water>>", "<<Reminders to Save Water>>"),
    ("a < b > c", "a < b > c"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("Use <b>bold</b> & <i>care</i>", "Use <b>bold</b> & <i>care</i>"),
    ("[x](javascript:alert(1))", "x"),
])
def test_text_that_is_not_markdown_is_kept_as_text_and_is_inert(source, visible):
    html = render_markdown(source)
    assert html_text(html) == visible
    tags = elements(html)
    assert {tag for tag, _ in tags} <= {"p", "a"}
    for _, attrs in tags:
        assert not [name for name in attrs if name.startswith("on")]
        assert "javascript" not in (attrs.get("href") or "")


def test_markdown_still_renders_and_links_are_safe():
    html = render_markdown("# Title\n\n- one\n- **two**\n\n[site](https://example.com) `<code>`\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<h1>Title</h1>" in html and "<li><strong>two</strong></li>" in html and "<table>" in html
    assert '<a href="https://example.com" rel="noopener nofollow noreferrer">site</a>' in html
    assert "<code>&lt;code&gt;</code>" in html


def test_the_articles_import_is_the_same_renderer():
    from articles.selectors import render_markdown as from_articles

    assert from_articles is render_markdown


def test_a_line_break_inside_a_paragraph_stays_a_line_break():
    from core.markdown import render_markdown

    html = render_markdown("Question 1: What falls as rain?\nA) Water\nB) Sand\n\nAnswer key")
    assert html.startswith("<p>Question 1: What falls as rain?<br")
    assert html.count("<br") == 2 and "<p>Answer key</p>" in html
