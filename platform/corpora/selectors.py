"""Reads: dataset lists, versions, record pages, exports and the length chart."""

import json
from collections.abc import Iterator

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from accounts.permissions import check_object
from corpora.models import Dataset, DatasetVersion, Record, Upload


def dataset_list(*, workspace, search: str = "", status: str = "") -> QuerySet[Dataset]:
    """The workspace's datasets with their latest version's number, status and counts."""
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
    datasets = Dataset.objects.filter(workspace=workspace).annotate(
        latest_number=Subquery(latest.values("number")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
        latest_records=Subquery(latest.values("record_count")[:1]),
        latest_tokens=Subquery(latest.values("token_count")[:1]),
    )
    search = (search or "").strip()
    if search:
        datasets = datasets.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if status in DatasetVersion.Status.values:
        datasets = datasets.filter(latest_status=status)
    return datasets.select_related("created_by").order_by("-updated_at", "name")


def dataset_for(*, membership, pk: int, action: str) -> Dataset:
    """A dataset of the membership's workspace that the role may act on (404 / 403 otherwise)."""
    dataset = get_object_or_404(Dataset.objects.select_related("workspace"), pk=pk)
    check_object(membership, dataset, action)
    return dataset


def upload_for(*, membership, pk: int, action: str = "datasets.view") -> Upload:
    """An upload of the membership's workspace (404 otherwise), with the same roles as its dataset."""
    upload = get_object_or_404(Upload.objects.select_related("version", "dataset"), pk=pk)
    check_object(membership, upload, action)
    return upload


def latest_version(dataset: Dataset) -> DatasetVersion | None:
    return dataset.versions.order_by("-number").first()


def version_get(*, dataset: Dataset, number: int | None = None) -> DatasetVersion:
    """Version `number` of the dataset, or the latest one; 404 when missing."""
    if number is None:
        version = latest_version(dataset)
        if version is None:
            from django.http import Http404

            raise Http404("This dataset has no versions.")
        return version
    return get_object_or_404(DatasetVersion, dataset=dataset, number=number)


def dataset_versions(dataset: Dataset) -> QuerySet[DatasetVersion]:
    return dataset.versions.select_related("created_by").order_by("-number")


SPLIT_FILTERS = ("train", "validation", "unsplit")  # what a records list can be filtered by


def version_records(*, version: DatasetVersion, split: str | None = None) -> QuerySet[Record]:
    records = version.records.select_related("article").order_by("index")
    if split is not None and split != "":
        records = records.filter(split="" if split == "unsplit" else split)
    return records


def record_export_line(record: Record) -> str:
    data = dict(record.data)
    if record.split:
        data["split"] = record.split
    return json.dumps(data, ensure_ascii=False) + "\n"


def version_export_lines(version: DatasetVersion) -> Iterator[str]:
    """JSONL: each record in its original shape, plus "split" when it has one."""
    for record in version.records.order_by("index").iterator(chunk_size=2000):
        yield record_export_line(record)


def export_filename(version: DatasetVersion) -> str:
    from django.utils.text import slugify

    return f"{slugify(version.dataset.name) or 'dataset'}-v{version.number}.jsonl"


def version_chart(version: DatasetVersion, *, width: int = 600, height: int = 200) -> dict | None:
    """Bars of the token-length histogram, in SVG user units (drawn server-side)."""
    bins = (version.stats or {}).get("histogram") or []
    if not bins:
        return None
    top = max(b["count"] for b in bins) or 1
    plot_h = height - 30
    slot = width / len(bins)
    bars = []
    for i, b in enumerate(bins):
        h = round(plot_h * b["count"] / top, 1)
        label = str(b["lo"]) if b["lo"] == b["hi"] else f"{b['lo']}–{b['hi']}"
        bars.append({
            "x": round(i * slot + 2, 1), "y": round(plot_h - h, 1), "width": round(slot - 4, 1),
            "height": h, "count": b["count"], "label": label,
            "label_x": round(i * slot + slot / 2, 1),
        })
    return {"width": width, "height": height, "plot_height": plot_h, "bars": bars,
            "label_y": height - 8, "max": top}


# --------------------------------------------------------------------------- approved articles


def version_articles(version: DatasetVersion) -> list:
    """The articles this version's records came from, each with `record_count`, newest first."""
    from articles.models import Article

    return list(Article.objects.filter(records__version=version).annotate(record_count=Count("records"))
                .order_by("-created_at", "-pk"))


def articles_for_dataset(*, workspace, search: str = "") -> QuerySet:
    """Articles editors accepted (approved or published) that can become dataset records."""
    from articles.models import Article
    from corpora.services import ARTICLE_STATES

    articles = Article.objects.filter(workspace=workspace, status__in=ARTICLE_STATES)
    search = (search or "").strip()
    if search:
        articles = articles.filter(Q(title__icontains=search) | Q(body__icontains=search))
    return articles.select_related("created_by").order_by("-updated_at", "-pk")


def latest_ready_versions(workspace) -> dict[int, DatasetVersion]:
    """{dataset id: its newest ready version} for the workspace's datasets."""
    numbers = (DatasetVersion.objects.filter(dataset__workspace=workspace, status=DatasetVersion.Status.READY)
               .values("dataset_id").annotate(n=Max("number")))
    wanted = Q(pk__in=[])
    for row in numbers:
        wanted |= Q(dataset_id=row["dataset_id"], number=row["n"])
    return {v.dataset_id: v for v in DatasetVersion.objects.filter(wanted).select_related("dataset")}


def datasets_holding(*, workspace, article_ids) -> dict[int, list[DatasetVersion]]:
    """{article id: the latest ready versions (of the workspace's datasets) that already hold it}."""
    latest = latest_ready_versions(workspace)
    held: dict[int, list[DatasetVersion]] = {}
    pairs = (Record.objects.filter(version__in=list(latest.values()), article_id__in=list(article_ids))
             .values_list("article_id", "version__dataset_id").distinct())
    for article_id, dataset_id in pairs:
        held.setdefault(article_id, []).append(latest[dataset_id])
    return held
