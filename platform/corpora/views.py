"""Dataset pages (htmx). Thin: parse the request, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.permissions import require, role_allows
from core.errors import FieldErrors
from core.fields import parse_id
from corpora import selectors, services
from corpora.forms import (
    ArticlesToDatasetForm,
    DatasetCreateForm,
    DatasetEditForm,
    SplitForm,
    UploadOptionsForm,
)
from corpora.models import DatasetVersion, Upload
from corpora.parsing import HEADER_PEEK_BYTES, file_format, read_csv_header

PAGE_SIZE = 20
RECORDS_PAGE_SIZE = 10


def _upload_too_large(request) -> str | None:
    """Refuse an oversized upload from its Content-Length, before the body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    slack = 64 * 1024  # the form's other fields and the multipart boundaries
    return services.size_limit_message(length) if length > services.upload_max_bytes() + slack else None


def _can_manage(request) -> bool:
    return role_allows(request.membership.role, "datasets.manage")


@login_required
@require("datasets.view")
def dataset_list(request):
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    datasets = selectors.dataset_list(workspace=request.workspace, search=search, status=status)
    page = Paginator(datasets, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page, "search": search, "status": status,
        "statuses": DatasetVersion.Status.choices, "can_manage": _can_manage(request),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "corpora/dataset_list.html#results", context)
    return render(request, "corpora/dataset_list.html", context)


def _render_upload(request, form, *, dataset=None, rejected=None, too_large=None, status=200):
    return render(
        request, "corpora/dataset_upload.html",
        {"form": form, "dataset": dataset, "rejected": rejected, "too_large": too_large,
         "max_size": services.human_size(services.upload_max_bytes()), "peek_bytes": HEADER_PEEK_BYTES},
        status=status,
    )


def _upload_page(request, form_class, store, success, *, dataset=None):
    """GET: the upload form. POST: an oversized body is refused before it is parsed; otherwise
    `store(cleaned_data)` makes the version and the page goes there (or, when a worker reads the
    files, to the upload's page), or shows what was wrong."""
    if request.method == "GET":
        return _render_upload(request, form_class(), dataset=dataset)
    too_large = _upload_too_large(request)
    if too_large:
        return _render_upload(request, form_class(), too_large=too_large, dataset=dataset, status=413)
    form = form_class(request.POST, request.FILES)
    rejected = None
    if form.is_valid():
        try:
            version = store(form.cleaned_data)
        except services.UploadRejected as exc:
            rejected = exc
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if version.status == DatasetVersion.Status.PROCESSING:
                return redirect(version.upload)
            messages.success(request, success(version))
            return redirect(version)
    return _render_upload(request, form, dataset=dataset, rejected=rejected, status=400)


@login_required
@require("datasets.manage")
@require_http_methods(["GET", "POST"])
def dataset_create(request):
    def store(data):
        return services.dataset_create_from_upload(
            workspace=request.workspace, user=request.user, name=data["name"],
            description=data["description"], files=data["files"], options=data["options"],
        )

    return _upload_page(request, DatasetCreateForm, store, lambda version: f"Dataset “{version.dataset.name}” created.")


@login_required
@require("datasets.manage")
@require_http_methods(["GET", "POST"])
def dataset_add_files(request, pk: int):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.manage")

    def store(data):
        return services.dataset_add_files(dataset=dataset, user=request.user, files=data["files"], options=data["options"])

    return _upload_page(request, UploadOptionsForm, store, lambda version: f"Version {version.number} created.",
                        dataset=dataset)


@login_required
@require("datasets.manage")
@require_POST
def csv_columns(request):
    """htmx: the header of the first CSV chosen, with selects to map its columns."""
    csv_file = next((f for f in request.FILES.getlist("files") if file_format(f.name) == "csv"), None)
    context = {"header": None, "peek_bytes": HEADER_PEEK_BYTES}
    if csv_file is not None:
        chosen = request.POST.get("csv_delimiter") or None
        if csv_file.name.lower().endswith(".tsv") and not chosen:
            chosen = "\t"
        header = read_csv_header(csv_file.name, csv_file.read(HEADER_PEEK_BYTES), chosen)
        lower = [c.lower() for c in header.columns]
        context = {
            "header": header, "file_name": csv_file.name,
            "delimiters": [(",", "Comma (,)"), (";", "Semicolon (;)"), ("\t", "Tab"), ("|", "Pipe (|)")],
            "suggested": {
                "prompt": header.columns[lower.index("prompt")] if "prompt" in lower else "",
                "completion": header.columns[lower.index("completion")] if "completion" in lower else "",
                "text": header.columns[lower.index("text")] if "text" in lower and "prompt" not in lower else "",
            },
        }
    return render(request, "corpora/dataset_upload.html#csv_columns", context)


@login_required
@require("datasets.manage")
@require_POST
def validate_name(request):
    """htmx: inline feedback on a dataset name while it is typed."""
    exclude = parse_id(request.POST.get("dataset"))
    errors = services.dataset_name_errors(
        workspace=request.workspace, name=request.POST.get("name", ""), exclude_pk=exclude
    )
    return render(request, "corpora/dataset_edit.html#name_feedback", {"name_errors": errors})


@login_required
@require("datasets.manage")
@require_http_methods(["GET", "POST"])
def dataset_edit(request, pk: int):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.manage")
    form = DatasetEditForm(request.POST or None, initial={"name": dataset.name, "description": dataset.description})
    if request.method == "POST" and form.is_valid():
        try:
            services.dataset_update(
                dataset=dataset, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Saved.")
            return redirect(dataset)
    status = 400 if request.method == "POST" else 200
    return render(request, "corpora/dataset_edit.html", {"form": form, "dataset": dataset}, status=status)


@login_required
@require("datasets.manage")
@require_http_methods(["GET", "POST"])
def dataset_delete(request, pk: int):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.manage")
    if request.method == "POST":
        name = dataset.name
        services.dataset_delete(dataset=dataset)
        messages.success(request, f"Dataset “{name}” deleted.")
        return redirect("corpora:dataset_list")
    return render(request, "corpora/dataset_confirm_delete.html", {
        "dataset": dataset, "versions": dataset.versions.count(),
    })


def _records_context(request, version):
    split = request.GET.get("split", "")
    split = split if split in selectors.SPLIT_FILTERS else ""
    records = selectors.version_records(version=version, split=split or None)
    return {
        "records_page": Paginator(records, RECORDS_PAGE_SIZE).get_page(request.GET.get("page")),
        "split": split, "splits": [("", "All"), ("train", "Train"), ("validation", "Validation")],
    }


@login_required
@require("datasets.view")
def version_detail(request, pk: int, number: int | None = None):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.view")
    version = selectors.version_get(dataset=dataset, number=number)
    context = {
        "dataset": dataset, "version": version, "versions": selectors.dataset_versions(dataset),
        "chart": selectors.version_chart(version), "can_manage": _can_manage(request),
        "can_add_articles": role_allows(request.membership.role, "articles.to_dataset"),
        "from_articles": selectors.version_articles(version),
        "split_form": SplitForm(), "Status": DatasetVersion.Status,
        **_records_context(request, version),
    }
    return render(request, "corpora/version_detail.html", context)


@login_required
@require("datasets.view")
def version_records(request, pk: int, number: int):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.view")
    version = selectors.version_get(dataset=dataset, number=number)
    return render(request, "corpora/version_detail.html#records",
                  {"dataset": dataset, "version": version, **_records_context(request, version)})


def _upload_context(upload: Upload) -> dict:
    return {"upload": upload, "rejection": services.rejection_message(upload.problem_total)}


@login_required
@require("datasets.view")
def upload_detail(request, pk: int):
    """The page an uploader is sent to while a worker reads the files: progress, then the
    version, or the problems when nothing was stored (it outlives the rejected dataset)."""
    upload = selectors.upload_for(membership=request.membership, pk=pk)
    if upload.status == Upload.Status.STORED and upload.version is not None:
        return redirect(upload.version)
    return render(request, "corpora/upload_detail.html", _upload_context(upload))


@login_required
@require("datasets.view")
def upload_status(request, pk: int):
    """htmx polling target (on the upload page and a processing version's page): the progress
    bar while processing, the problems once rejected, the version once stored."""
    upload = selectors.upload_for(membership=request.membership, pk=pk)
    if upload.status == Upload.Status.STORED and upload.version is not None:
        url = upload.version.get_absolute_url()
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(request, "corpora/upload_detail.html#status", _upload_context(upload))


@login_required
@require("datasets.manage")
@require_POST
def version_dedupe(request, pk: int, number: int):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.manage")
    version = selectors.version_get(dataset=dataset, number=number)
    try:
        new = services.version_deduplicate(version=version, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(version)
    messages.success(request, f"Version {new.number}: {new.note}.")
    return redirect(new)


@login_required
@require("datasets.manage")
@require_POST
def version_split(request, pk: int, number: int):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.manage")
    version = selectors.version_get(dataset=dataset, number=number)
    form = SplitForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(version)
    try:
        new = services.version_split(
            version=version, user=request.user,
            validation_fraction=form.cleaned_data["validation_fraction"], seed=form.cleaned_data["seed"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(version)
    messages.success(request, f"Version {new.number}: {new.note}.")
    return redirect(new)


@login_required
@require("datasets.view")
def version_export(request, pk: int, number: int):
    dataset = selectors.dataset_for(membership=request.membership, pk=pk, action="datasets.view")
    version = selectors.version_get(dataset=dataset, number=number)
    if version.status != DatasetVersion.Status.READY:
        messages.error(request, f"Version {version.number} is not ready to export.")
        return redirect(version)
    response = StreamingHttpResponse(selectors.version_export_lines(version), content_type="application/jsonl")
    response["Content-Disposition"] = f'attachment; filename="{selectors.export_filename(version)}"'
    return response



ARTICLES_PAGE_SIZE = 50


@login_required
@require("articles.to_dataset")
@require_http_methods(["GET", "POST"])
def articles_to_dataset(request):
    """Editors tick approved articles and a dataset: one POST makes the dataset's next version with
    them as records (each article's final text with the prompt that produced it)."""
    form = ArticlesToDatasetForm(request.POST or None, workspace=request.workspace,
                                 initial={"dataset": parse_id(request.GET.get("dataset"))})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.version_from_articles(
                dataset=form.cleaned_data["dataset"], articles=form.cleaned_data["articles"],
                membership=request.membership, note=form.cleaned_data["note"],
            )
        except FieldErrors as exc:
            exc.add_to(form)
        else:
            added = version.stats.get("from_articles", 0)
            messages.success(request, f"Version {version.number} of “{version.dataset.name}”: {added} approved "
                                      f"article{'' if added == 1 else 's'} added. A training run can use it now.")
            return redirect(version)
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.articles_for_dataset(workspace=request.workspace, search=search),
                     ARTICLES_PAGE_SIZE).get_page(request.GET.get("page"))
    if request.method == "POST":
        ticked = {parse_id(v) for v in request.POST.getlist("articles")}
    else:
        ticked = {parse_id(request.GET.get("article"))}
    held = selectors.datasets_holding(workspace=request.workspace, article_ids=[a.pk for a in page.object_list])
    rows = [{"article": a, "ticked": a.pk in ticked, "held": held.get(a.pk, [])} for a in page.object_list]
    return render(request, "corpora/articles_to_dataset.html", {
        "form": form, "page": page, "rows": rows, "search": search,
    }, status=400 if request.method == "POST" else 200)
