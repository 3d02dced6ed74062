"""Exports and the print view, as a member downloads or prints them."""

import io
import re
from pathlib import Path

import lxml.html
import pytest
from docx import Document

from articles.models import Article

LESSON = """# The water cycle

Water moves between the sea, the sky and the land. It **evaporates**, *condenses* and falls.

## Key words

- evaporation
- condensation
    - clouds form
- precipitation

## Quiz

1. What makes water evaporate?
2. What is rain called in the water cycle?

## Answer key

1. The sun's heat.
2. Precipitation.
"""


@pytest.fixture
def lesson(make_article):
    return make_article(title="The water cycle", body=LESSON, status=Article.Status.DRAFT)


@pytest.fixture
def member(client, writer):
    client.force_login(writer)
    return client


def test_markdown_export_is_the_text_as_written(member, lesson):
    response = member.get(f"/write/articles/{lesson.pk}/export/md/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="the-water-cycle.md"'
    assert response.content.decode() == lesson.body


def test_docx_export_opens_in_word_with_headings_paragraphs_lists_and_emphasis(member, lesson):
    response = member.get(f"/write/articles/{lesson.pk}/export/docx/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="the-water-cycle.docx"'
    document = Document(io.BytesIO(response.content))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Title", "The water cycle") and ("Heading 1", "The water cycle") not in paragraphs
    assert ("Heading 2", "Key words") in paragraphs and ("Heading 2", "Answer key") in paragraphs
    assert ("Normal", "Water moves between the sea, the sky and the land. It evaporates, condenses and falls.") in paragraphs
    assert ("List Bullet", "evaporation") in paragraphs and ("List Bullet 2", "clouds form") in paragraphs
    assert ("List Number", "What makes water evaporate?") in paragraphs
    body = next(p for p in document.paragraphs if p.text.startswith("Water moves"))
    assert [r.text for r in body.runs if r.bold] == ["evaporates"]
    assert [r.text for r in body.runs if r.italic] == ["condenses"]
    assert document.core_properties.title == "The water cycle"


def test_html_export_is_a_standalone_sanitised_document(member, make_article):
    article = make_article(title="Careful", body="Hi <script>alert(1)</script> <img src=x onerror=alert(1)> [go](javascript:alert(1))")
    response = member.get(f"/write/articles/{article.pk}/export/html/")
    html = response.content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="careful.html"'
    assert html.startswith("<!doctype html>") and "<title>Careful</title>" in html
    document = lxml.html.fromstring(html)
    assert not document.xpath("//script"), "a script element survived"
    assert not [a for el in document.iter() for a in el.attrib if a.lower().startswith("on")], "an event handler survived"
    assert "javascript:" not in html
    # what is not markup stays, as text
    assert "Hi <script>alert(1)</script> <img src=x onerror=alert(1)> go" in document.text_content()


def test_an_unknown_export_format_is_not_found(member, lesson):
    assert member.get(f"/write/articles/{lesson.pk}/export/pdf/").status_code == 404


def test_print_view_has_no_navigation_buttons_or_provenance_and_starts_the_answer_key_on_a_new_page(member, lesson):
    response = member.get(f"/write/articles/{lesson.pk}/print/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<nav" not in html and "<button" not in html and "<form" not in html
    assert "topbar" not in html and "Variants" not in html and "provenance" not in html.lower()
    assert '<h2 class="answer-key">Answer key</h2>' in html
    assert html.count('class="answer-key"') == 1
    assert "the answer key starts on a new page" in html
    css = (Path(__file__).resolve().parents[2] / "static/publishing/print.css").read_text()
    print_rules = css[css.index("@media print"):]
    assert re.search(r"\.answer-key\s*\{[^}]*break-before:\s*page", print_rules)
    assert re.search(r"\.screen-only\s*\{\s*display:\s*none", print_rules)


@pytest.mark.parametrize("heading", ["## Answers", "### ANSWER KEY:", "**Answer key**", "# Answer sheet",
                                     "## Answer key (for teachers)", "## Answers for part 1", "Answer key:",
                                     "Answer Key:\n1. Four."])
def test_the_answer_key_is_found_however_the_model_wrote_its_heading(member, make_article, heading):
    article = make_article(title="Quiz", body=f"1. Two plus two?\n\n{heading}\n\n1. Four.")
    html = member.get(f"/write/articles/{article.pk}/print/").content.decode()
    assert html.count('class="answer-key"') == 1


def test_a_text_without_an_answer_key_has_no_page_break(member, make_article):
    article = make_article(title="Notes", body="## The answers we seek\n\nAre within.\n\n## Key\n\nA legend.\n\n"
                                               "**Answers** are below.")
    html = member.get(f"/write/articles/{article.pk}/print/").content.decode()
    assert 'class="answer-key"' not in html


def test_another_workspaces_member_cannot_export_or_print(client, make_member, other_workspace, lesson):
    client.force_login(make_member("admin", other_workspace))
    assert client.get(f"/write/articles/{lesson.pk}/export/md/").status_code == 404
    assert client.get(f"/write/articles/{lesson.pk}/print/").status_code == 404
