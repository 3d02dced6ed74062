"""Articles editors accepted, made for the dataset tests (through the review services where it matters)."""

from articles.models import Article, Generation

PROMPT = "Write a product description for a waterproof backpack."
SYSTEM = "You write as Captain Saltbeard: warm, nautical, brief."


def membership(user, workspace=None):
    memberships = user.memberships.select_related("workspace", "user")
    return memberships.get(workspace=workspace) if workspace is not None else memberships.get()


def accepted(workspace, author, title: str, body: str | None = None, *, status=Article.Status.APPROVED,
             prompt: str = PROMPT, system_prompt: str = SYSTEM, chosen: bool = True) -> Article:
    """An article in `status` whose text an editor has edited from its chosen generation's draft."""
    article = Article.objects.create(workspace=workspace, title=title, created_by=author, status=status,
                                     body=body if body is not None else f"{title}: edited by an editor, arr.")
    generation = Generation.objects.create(
        article=article, workspace=workspace, model_name="tiny", prompt=prompt, system_prompt=system_prompt,
        seed=1, status=Generation.Status.COMPLETED, text=f"{title}: the machine's first draft.", created_by=author,
    )
    if chosen:
        article.chosen = generation
        article.save(update_fields=["chosen"])
    return article
