"""How an article's Markdown becomes HTML anywhere publishing shows or exports it.

`article_html` is the only place this app turns Markdown into HTML, and it always goes through
the project's sanitiser (nh3): an article's text may come from a model, a person or a dataset,
and none of it may run as script on a public page, in a feed or in an export.
"""

import re
from html import unescape

import lxml.html
from django.utils.html import escape, strip_tags
from django.utils.text import Truncator

from core.markdown import render_markdown

# "Answer key", "Answers:", "The answer sheet", "Answer key (for teachers)", "Answers for part 1"
ANSWER_KEY = re.compile(r"^\s*(?:the\s+)?(?:answer\s+keys?|answers|answer\s+sheets?)(?:\s*\(.*\)|\s+for\s+.*)?\s*:?\s*$",
                        re.IGNORECASE)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def article_html(text: str) -> str:
    """Sanitised HTML of an article's Markdown."""
    return render_markdown(text or "")


def first_paragraph(html: str, limit: int = 200) -> str:
    """Plain text of the first non-empty paragraph (for og:description and feed summaries), or
    of the whole text when it has no paragraph."""
    for paragraph in re.findall(r"<p>(.*?)</p>", html, flags=re.DOTALL):
        text = " ".join(unescape(strip_tags(paragraph)).split())
        if text:
            return Truncator(text).chars(limit)
    return Truncator(" ".join(unescape(strip_tags(html)).split())).chars(limit)  # no paragraph: a list, say


def _fragments(html: str):
    return lxml.html.fragments_fromstring(html) if html.strip() else []


def mark_answer_key(html: str) -> str:
    """Give the heading that opens a quiz's answer key the class `answer-key` (print CSS starts
    it on a new page). A heading counts when its whole text is "Answer key", "Answers" or "Answer
    sheet" (with a colon, "(for teachers)" or "for part 2" after it); so does a paragraph whose
    first line is only that, bold or not, as models often write it. Only the first one is marked."""
    parts = []
    marked = False
    for node in _fragments(html):
        if isinstance(node, str):
            parts.append(escape(node))  # text before the first element
            continue
        if not marked and _is_answer_key(node):
            node.set("class", "answer-key")
            marked = True
        parts.append(lxml.html.tostring(node, encoding="unicode"))
    return "".join(parts) if marked else html


def _is_answer_key(node) -> bool:
    text = node.text_content()
    if node.tag in HEADINGS:
        return bool(ANSWER_KEY.match(text))
    if node.tag == "p":  # "**Answer key**", or "Answer key:" on a line of its own, the answers after it
        first_line = text.strip().split("\n", 1)[0]
        return bool(ANSWER_KEY.match(first_line))
    return False


def reading_minutes(text: str, words_per_minute: int = 220) -> int:
    return max(1, round(len((text or "").split()) / words_per_minute))


def without_title_heading(html: str, title: str) -> str:
    """Drop a first-level heading at the very start that only repeats the title (the page shows
    the title already; models often begin their text with it)."""
    match = re.match(r"\s*<h1>(.*?)</h1>\s*", html, flags=re.DOTALL)
    if match and " ".join(unescape(strip_tags(match.group(1))).split()).casefold() == " ".join(title.split()).casefold():
        return html[match.end():]
    return html
