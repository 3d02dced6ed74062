"""An article as a file: Markdown (its text as written), a standalone HTML document, and DOCX.

HTML and DOCX are built from the sanitised HTML of the text (publishing.rendering), so an export
carries no script and no javascript: link, whatever the text contained.
"""

import io
from dataclasses import dataclass

import lxml.html
from django.template.loader import render_to_string
from django.utils.text import slugify

from articles.models import Article
from publishing.rendering import article_html, without_title_heading


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    filename: str


FORMATS = {
    "md": "Markdown",
    "html": "HTML",
    "docx": "Word (DOCX)",
}


def export_filename(article: Article, extension: str) -> str:
    return f"{article.slug or slugify(article.title)[:70] or f'article-{article.pk}'}.{extension}"


def article_export(*, article: Article, fmt: str) -> ExportFile:
    """The article in format `fmt` (a key of FORMATS); raises KeyError for another format."""
    if fmt == "md":
        return ExportFile(article.body.encode(), "text/markdown; charset=utf-8", export_filename(article, "md"))
    if fmt == "html":
        html = render_to_string("publishing/export.html", {"article": article, "body_html": _body_html(article)})
        return ExportFile(html.encode(), "text/html; charset=utf-8", export_filename(article, "html"))
    if fmt == "docx":
        return ExportFile(article_docx(article), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                          export_filename(article, "docx"))
    raise KeyError(fmt)


def _body_html(article: Article) -> str:
    """The sanitised text, less a first heading that repeats the title (shown once, above it)."""
    return without_title_heading(article_html(article.body), article.title)


# --- DOCX ------------------------------------------------------------------------------------
def article_docx(article: Article) -> bytes:
    """A Word document: the title, then the text's headings, paragraphs, lists (nested too),
    quotes, code and rules, with bold, italic and inline code kept."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = article.title
    document.add_heading(article.title, level=0)
    html = _body_html(article)
    if html.strip():
        for node in lxml.html.fragments_fromstring(html):
            if isinstance(node, str):
                if node.strip():
                    document.add_paragraph(node.strip())
                continue
            _block(document, node, Pt)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _block(document, node, Pt, list_depth: int = 0, quote: bool = False) -> None:
    tag = node.tag
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        heading = document.add_heading(level=min(int(tag[1]), 9))
        _inline(heading, node)
    elif tag in ("ul", "ol"):
        style = "List Bullet" if tag == "ul" else "List Number"
        if list_depth:
            style += f" {min(list_depth + 1, 3)}"
        for item in node.iterchildren("li"):
            paragraph = document.add_paragraph(style=style)
            _inline(paragraph, item, skip=("ul", "ol", "p"))
            for child in item:  # "loose" list items wrap their text in <p>
                if child.tag == "p":
                    if paragraph.text:
                        paragraph = document.add_paragraph(style=style)
                    _inline(paragraph, child)
                elif child.tag in ("ul", "ol"):
                    _block(document, child, Pt, list_depth + 1)
    elif tag == "blockquote":
        for child in node:
            _block(document, child, Pt, list_depth, quote=True)
        if not len(node) and node.text_content().strip():
            document.add_paragraph(node.text_content().strip(), style="Quote")
    elif tag == "pre":
        paragraph = document.add_paragraph()
        run = paragraph.add_run(node.text_content().rstrip("\n"))
        run.font.name = "Courier New"
        run.font.size = Pt(9.5)
    elif tag == "hr":
        document.add_paragraph("* * *").alignment = 1  # centred
    elif tag == "table":
        rows = node.findall(".//tr")
        if rows:
            width = max(len(row.findall("th") + row.findall("td")) for row in rows)
            table = document.add_table(rows=len(rows), cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row.findall("th") + row.findall("td")):
                    _inline(table.cell(r, c).paragraphs[0], cell, bold=cell.tag == "th")
    elif tag in ("div", "section", "dl"):
        for child in node:
            _block(document, child, Pt, list_depth, quote)
    else:  # p and anything inline at the top level
        paragraph = document.add_paragraph(style="Quote" if quote else None)
        _inline(paragraph, node)


def _inline(paragraph, node, bold=False, italic=False, code=False, skip=()) -> None:
    """Add the node's text to the paragraph as runs, keeping bold, italic and code."""
    def add(text, b, i, c):
        if text and (text.strip() or "\n" not in text):  # not the newlines between blocks
            run = paragraph.add_run(text)
            run.bold, run.italic = b or None, i or None
            if c:
                run.font.name = "Courier New"

    add(node.text, bold, italic, code)
    for child in node:
        if child.tag in skip:
            add(child.tail, bold, italic, code)
            continue
        if child.tag == "br":
            paragraph.add_run().add_break()
        else:
            _inline(paragraph, child,
                    bold=bold or child.tag in ("strong", "b"),
                    italic=italic or child.tag in ("em", "i"),
                    code=code or child.tag == "code")
            if child.tag == "a" and child.get("href") and child.get("href") != child.text_content():
                add(f" ({child.get('href')})", bold, italic, code)
        add(child.tail, bold, italic, code)
