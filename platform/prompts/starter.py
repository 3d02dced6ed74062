"""Starter templates every new workspace gets: marketing and teaching."""

from prompts.models import Category, PromptTemplate
from prompts.services import prompt_create


def var(name, label, type="text", default="", required=True, choices=()):
    return {"name": name, "label": label, "type": type, "default": default, "required": required, "choices": list(choices)}


STARTER_TEMPLATES = [
    ("Blog post", Category.BLOG_POST,
     "Write a blog post of about {words} words titled \"{title}\".\n"
     "Audience: {audience}.\nKey points to cover:\n{points}\n\n"
     "Open with a hook, use short paragraphs and subheadings, and end with a call to action: {cta}.",
     [var("title", "Title"), var("audience", "Audience", default="small-business owners"),
      var("points", "Key points", "long_text"), var("words", "Length in words", "number", "600"),
      var("cta", "Call to action", default="subscribe to our newsletter")]),
    ("Product announcement", Category.PRODUCT_ANNOUNCEMENT,
     "Announce {product}, a new {category}.\nWhat is new: {features}\nAvailable: {availability}.\n"
     "Write a headline and three short paragraphs: the news, why it matters to {audience}, and how to get it.",
     [var("product", "Product name"), var("category", "What it is", default="product"),
      var("features", "What is new", "long_text"), var("availability", "Availability and price"),
      var("audience", "Who it is for", default="our customers")]),
    ("Three social posts", Category.SOCIAL_POSTS,
     "Write three different posts for {network} about {topic}.\n"
     "Each under {limit} characters, each with a different angle (a fact, a question, a story), "
     "at most two hashtags each. Link to include: {link}.",
     [var("topic", "Topic"), var("network", "Network", "choice", "LinkedIn", choices=["LinkedIn", "Instagram", "X", "Facebook", "Mastodon"]),
      var("limit", "Character limit", "number", "280"), var("link", "Link", required=False)]),
    ("Newsletter", Category.NEWSLETTER,
     "Write this month's newsletter for {audience}.\nLead story: {lead}\nAlso in brief:\n{briefs}\n\n"
     "Give it a subject line, a friendly opening of two sentences, the lead story in one paragraph, "
     "the briefs as a bulleted list and a sign-off from {signature}.",
     [var("audience", "Readers", default="our subscribers"), var("lead", "Lead story", "long_text"),
      var("briefs", "Items in brief (one per line)", "long_text"), var("signature", "Signed by", default="the team")]),
    ("Lesson plan", Category.LESSON_PLAN,
     "Write a {minutes}-minute lesson plan on {topic} for grade {grade}.\n"
     "Include: learning objectives (3), materials, a warm-up, direct instruction, guided practice, "
     "independent practice, a check for understanding and homework. Note where students work in pairs.",
     [var("topic", "Topic"), var("grade", "Grade", "number", "6"), var("minutes", "Length in minutes", "number", "45")]),
    ("Quiz with answer key", Category.QUIZ,
     "Write a quiz of {count} {kind} questions on {topic} for grade {grade}.\n"
     "Number the questions. After all questions, write \"Answer key\" and give each correct answer "
     "with a one-sentence explanation.",
     [var("topic", "Topic"), var("grade", "Grade", "number", "6"), var("count", "Number of questions", "number", "8"),
      var("kind", "Question type", "choice", "multiple-choice", choices=["multiple-choice", "short-answer", "true/false"])]),
    ("Worksheet", Category.WORKSHEET,
     "Create a printable worksheet on {topic} for grade {grade}.\n"
     "Start with a short worked example, then {count} exercises that grow harder, with space to answer. "
     "Finish with one challenge question. Put the answers on a separate answer sheet at the end.",
     [var("topic", "Topic"), var("grade", "Grade", "number", "5"), var("count", "Number of exercises", "number", "10")]),
    ("Reading passage", Category.READING_PASSAGE,
     "Write an original reading passage of about {words} words on {topic} at a US grade {grade} reading level.\n"
     "Use short sentences and common words, define any new word in context, and give it a title. "
     "Then write {questions} comprehension questions.",
     [var("topic", "Topic"), var("grade", "Reading level (grade)", "number", "4"),
      var("words", "Length in words", "number", "300"), var("questions", "Comprehension questions", "number", "4")]),
]


def seed_starter_templates(*, workspace, user=None) -> int:
    """Add the starter templates that the workspace does not have yet. Returns how many."""
    added = 0
    for name, category, body, variables in STARTER_TEMPLATES:
        if not PromptTemplate.objects.filter(workspace=workspace, name=name).exists():
            prompt_create(workspace=workspace, user=user, name=name, category=category, body=body, variables=variables)
            added += 1
    return added
