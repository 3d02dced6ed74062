from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from accounts.permissions import check_object, require, role_allows
from catalog import services
from catalog.forms import DescriptionForm, RegisterModelForm
from catalog.models import ModelVersion
from catalog.selectors import model_list


def _version_for(request, pk, action="models.view") -> ModelVersion:
    version = get_object_or_404(ModelVersion.objects.select_related("created_by"), pk=pk)
    check_object(request.membership, version, action)
    return version


@login_required
@require("models.view")
def model_index(request):
    search, kind = request.GET.get("q", "").strip(), request.GET.get("kind", "")
    versions = model_list(workspace=request.workspace, search=search, kind=kind)
    page = Paginator(versions, 20).get_page(request.GET.get("page"))
    context = {
        "page": page, "search": search, "kind": kind, "show_default": not search and not kind and page.number == 1,
        "kinds": ModelVersion.Kind.choices, "default": services.default_choice(),
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


@login_required
@require("models.view")
def model_detail(request, pk):
    version = _version_for(request, pk)
    can_manage = role_allows(request.membership.role, "models.manage")
    form = DescriptionForm(request.POST or None, initial={"description": version.description})
    if request.method == "POST":
        check_object(request.membership, version, "models.manage")
        if form.is_valid():
            services.model_update(version=version, description=form.cleaned_data["description"])
            messages.success(request, "Description saved.")
            return redirect(version)
    return render(request, "catalog/detail.html", {
        "version": version, "form": form, "can_manage": can_manage,
        "generation_count": version.generations.count(),
    })


@login_required
@require("models.manage")
def model_delete(request, pk):
    version = _version_for(request, pk, "models.manage")
    if request.method == "POST":
        name = version.name
        services.model_delete(version=version)
        messages.success(request, f"Removed “{name}” from this workspace. Its files are untouched.")
        return redirect("catalog:model_list")
    styles = services.styles_using(version)
    consequence = "Drafts already written with it keep their text; its files on disk are not deleted."
    if styles:
        consequence += f" These styles use it by default and will ask writers to pick another model: {', '.join(styles)}."
    return render(request, "_confirm_delete.html", {"obj": version, "back_url": version.get_absolute_url(), "consequence": consequence})
