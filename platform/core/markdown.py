"""The one Markdown renderer: every page that shows Markdown (generated, typed or imported
text, public pages included) goes through `render_markdown`.

Raw HTML in the source is not markup here: it is escaped and shown as the text it is, so
`<<Reminders>>`, `a < b` or a pasted `<script>` stay visible and inert instead of being parsed
as tags (and then dropped by the sanitiser). The Markdown output is then cleaned by nh3 with
an allow-list: no script or style, no event attributes, only http(s)/mailto links (which get
rel="noopener nofollow noreferrer").
"""

import markdown as md
import nh3
from markdown.extensions import Extension

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "table", "thead", "tbody", "tr",
    "th", "td", "sup", "sub", "abbr", "del", "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "div": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener nofollow noreferrer"


class _EscapeRawHtml(Extension):
    """Markdown without raw HTML passthrough: `<...>` in the source is text, not a tag."""

    def extendMarkdown(self, markdown):  # noqa: N802 - Markdown's API
        markdown.preprocessors.deregister("html_block")
        markdown.inlinePatterns.deregister("html")


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML, keeping every character of text that is not Markdown."""
    if not text:
        return ""
    # nl2br: a line break the writer (or the model) made stays one ("Question:\nA) …\nB) …" in a quiz)
    html = md.markdown(text, extensions=["extra", "sane_lists", "nl2br", _EscapeRawHtml()])
    return sanitize_html(html)


def sanitize_html(html: str) -> str:
    """HTML cleaned to the allow-list (for HTML that did not come from render_markdown)."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel=LINK_REL, strip_comments=True)
