from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import check_object, require, role_allows
from catalog import services
from catalog.archive import ModelFilesGone, zip_name, zip_stream
from catalog.forms import DescriptionForm, PromoteForm, RegisterModelForm
from catalog.models import ModelVersion
from catalog.selectors import compare_rows, fine_tunes, model_list, model_usage


def _version_for(request, pk, action="models.view") -> ModelVersion:
    version = get_object_or_404(ModelVersion.objects.select_related("created_by"), pk=pk)
    check_object(request.membership, version, action)
    return version


@login_required
@require("models.view")
def model_index(request):
    search, kind, status = request.GET.get("q", "").strip(), request.GET.get("kind", ""), request.GET.get("status", "")
    kind = kind if kind in ModelVersion.Kind.values else ""
    status = status if status in ModelVersion.Status.values else ""
    versions = model_list(workspace=request.workspace, search=search, kind=kind, status=status)
    page = Paginator(versions, 20).get_page(request.GET.get("page"))
    context = {
        "page": page, "search": search, "kind": kind, "status": status,
        "show_default": not search and not kind and status != ModelVersion.Status.CANDIDATE and page.number == 1,
        "kinds": ModelVersion.Kind.choices, "statuses": ModelVersion.Status.choices, "default": services.default_choice(),
        "can_manage": role_allows(request.membership.role, "models.manage"),
    }
    if context["can_manage"] and context["show_default"] and not request.htmx:
        context["on_disk"] = services.models_on_disk(request.workspace)
    template = "catalog/list.html#results" if request.htmx and not request.htmx.boosted else "catalog/list.html"
    return render(request, template, context)


@login_required
@require("models.manage")
def model_create(request):
    form = RegisterModelForm(request.POST or None, initial={k: request.GET.get(k, "") for k in ("name", "source")})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.model_register(workspace=request.workspace, user=request.user, **form.cleaned_data)
        except services.ModelValidationError as exc:
            exc.add_to(form)
        else:
            messages.success(request, f"Model “{version.name}” registered: writers can pick it now.")
            return redirect(version)
    return render(request, "catalog/new.html", {"form": form})


def _detail(request, version, *, form=None, promote_form=None):
    return render(request, "catalog/detail.html", {
        "version": version, "evaluation": version.evaluation,
        "form": form or DescriptionForm(initial={"description": version.description}),
        "promote_form": promote_form or PromoteForm(),
        "can_manage": role_allows(request.membership.role, "models.manage"),
        "can_promote": version.is_candidate and role_allows(request.membership.role, "models.promote"),
        "generation_count": version.generations.count(),
    })


@login_required
@require("models.view")
def model_detail(request, pk):
    version = _version_for(request, pk)
    if request.method == "POST":
        check_object(request.membership, version, "models.manage")
        form = DescriptionForm(request.POST)
        if not form.is_valid():
            return _detail(request, version, form=form)
        services.model_update(version=version, description=form.cleaned_data["description"])
        messages.success(request, "Description saved.")
        return redirect(version)
    return _detail(request, version)


@login_required
@require("models.promote")
@require_POST
def model_promote(request, pk):
    version = _version_for(request, pk, "models.promote")
    form = PromoteForm(request.POST)
    if form.is_valid():
        try:
            services.model_promote(version=version, user=request.user, reason=form.cleaned_data["reason"])
        except services.ModelValidationError as exc:
            exc.add_to(form)
        else:
            messages.success(request, f"“{version.name}” is promoted: writers can pick it now.")
            return redirect(version)
    return _detail(request, version, promote_form=form)


@login_required
@require("models.view")
def model_compare(request):
    rows = compare_rows(fine_tunes(workspace=request.workspace))
    return render(request, "catalog/compare.html", {"rows": rows})


@login_required
@require("models.manage")
def model_download(request, pk):
    version = _version_for(request, pk, "models.manage")
    try:
        chunks = zip_stream(version)
    except ModelFilesGone as exc:
        messages.error(request, str(exc))
        return redirect(version)
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{zip_name(version)}"'
    return response


@login_required
@require("models.manage")
def model_delete(request, pk):
    version = _version_for(request, pk, "models.manage")
    removed_files = services.files_removed_with(version)
    if request.method == "POST":
        name = version.name
        services.model_delete(version=version)
        files = "Its files were deleted too." if removed_files else "Its files are untouched."
        messages.success(request, f"Removed “{name}” from this workspace. {files}")
        return redirect("catalog:model_list")
    return render(request, "catalog/delete.html", {
        "version": version, "usage": model_usage(version), "removed_files": removed_files,
    })
