from dataclasses import dataclass

from django.db.models import Count, F, Q

from catalog.models import FINE_TUNE_KINDS, ModelVersion


def model_list(*, workspace, search: str = "", kind: str = "", status: str = ""):
    versions = ModelVersion.objects.filter(workspace=workspace).select_related("created_by", "promoted_by")
    if search:
        versions = versions.filter(Q(name__icontains=search) | Q(description__icontains=search) | Q(source__icontains=search))
    if kind:
        versions = versions.filter(kind=kind)
    if status:
        versions = versions.filter(status=status)
    return versions.annotate(generation_count=Count("generations")).order_by("name")


def fine_tunes(*, workspace):
    """The workspace's fine-tuned versions, newest first (the Compare page's rows)."""
    return (ModelVersion.objects.filter(workspace=workspace, kind__in=FINE_TUNE_KINDS)
            .select_related("promoted_by").order_by("-created_at", "-pk"))


def styles_using(version: ModelVersion) -> list[str]:
    """Names of the styles whose current version picks this model by default."""
    return list(version.style_versions.filter(profile__current=F("pk"))
                .order_by("profile__name").values_list("profile__name", flat=True))


@dataclass(frozen=True)
class ModelUsage:
    """What removing a model touches (the confirmation page says it)."""

    article_titles: list[str]  # the first few drafts written with it
    article_count: int
    styles: list[str]


def model_usage(version: ModelVersion, shown: int = 10) -> ModelUsage:
    # Through the reverse relations: articles and styles build on catalog, not the reverse.
    articles = version.generations.values_list("article_id", "article__title").distinct().order_by("-article_id")
    return ModelUsage([title for _pk, title in articles[:shown]], articles.count(), styles_using(version))


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _part(mapping, *keys):
    """mapping[k1][k2]..., or None where anything is missing or not an object (old rows)."""
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


@dataclass(frozen=True)
class CompareRow:
    """One fine-tuned version on the Compare page; None where a row does not say."""

    version: ModelVersion
    run: dict
    base: str
    dataset: str
    method: str
    steps: int | None
    perplexity_before: float | None
    perplexity_after: float | None
    change: float | None  # after/before - 1
    style_fit_base: float | None
    style_fit_tuned: float | None
    grade_base: float | None
    grade_tuned: float | None


def compare_row(version: ModelVersion) -> CompareRow:
    meta, evaluation = version.metadata or {}, version.evaluation
    run = meta.get("run") if isinstance(meta.get("run"), dict) else {}
    data_hash = meta.get("data_hash") if isinstance(meta.get("data_hash"), str) else ""
    steps = _number(_part(meta, "metrics", "global_step")) or _number(_part(meta, "params", "max_steps"))
    method = _part(meta, "params", "method")
    return CompareRow(
        version=version, run=run, base=version.base or str(meta.get("base_model") or ""),
        dataset=str(run.get("dataset") or data_hash[:19]),
        method=method if isinstance(method, str) else version.kind,
        steps=int(steps) if steps and steps > 0 else None,
        perplexity_before=_number(_part(evaluation, "before", "perplexity")),
        perplexity_after=_number(_part(evaluation, "after", "perplexity")),
        change=_number(evaluation.get("change")),
        style_fit_base=_number(_part(evaluation, "style_fit", "base")),
        style_fit_tuned=_number(_part(evaluation, "style_fit", "tuned")),
        grade_base=_number(_part(evaluation, "reading_grade", "base")),
        grade_tuned=_number(_part(evaluation, "reading_grade", "tuned")),
    )


def compare_rows(versions) -> list[CompareRow]:
    return [compare_row(version) for version in versions]
