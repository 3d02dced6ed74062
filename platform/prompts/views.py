from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import can, check_object, require
from core.version_views import version_diff_page, version_restore_page
from prompts import services
from prompts.forms import PromptForm, ValuesForm, formset_for, variable_rows
from prompts.models import Category, PromptTemplate
from prompts.rendering import (
    TemplateError,
    VariableError,
    check_template,
    fill_values,
    parse_variables,
)
from prompts.rendering import render as render_prompt
from prompts.selectors import prompt_list


def _template_for(request, pk, action="prompts.view") -> PromptTemplate:
    template = get_object_or_404(PromptTemplate.objects.select_related("current"), pk=pk)
    check_object(request.membership, template, action)
    return template


@login_required
@require("prompts.view")
def prompt_index(request):
    search, category = request.GET.get("q", "").strip(), request.GET.get("category", "")
    page = Paginator(prompt_list(workspace=request.workspace, search=search, category=category), 20).get_page(request.GET.get("page"))
    context = {"page": page, "search": search, "category": category, "categories": Category.choices}
    template = "prompts/list.html#results" if request.htmx and not request.htmx.boosted else "prompts/list.html"
    return render(request, template, context)


def _editor(request, *, template=None):
    """Create and edit share one form: name, category, text, variables, live preview."""
    if request.method == "POST":
        form = PromptForm(request.POST)
        formset = formset_for([], data=request.POST)
        if form.is_valid():
            fields = {**form.cleaned_data, "variables": variable_rows(formset), "user": request.user}
            try:
                if template is None:
                    template = services.prompt_create(workspace=request.workspace, **fields)
                    messages.success(request, f"Template “{template.name}” created.")
                else:
                    services.prompt_update(template=template, **fields)
                    messages.success(request, f"Saved “{template.name}” as version {template.current.number}.")
                return redirect(template)
            except services.PromptValidationError as exc:
                exc.add_to(form)
    elif template is not None:
        form = PromptForm(initial={"name": template.name, "category": template.category, "body": template.current.body})
        formset = formset_for(template.current.variables, extra=0 if template.current.variables else 1)
    else:
        form = PromptForm()
        formset = formset_for([], extra=1)
    return render(request, "prompts/edit.html", {"form": form, "formset": formset, "template_obj": template})


@login_required
@require("prompts.create")
def prompt_create(request):
    return _editor(request)


@login_required
def prompt_edit(request, pk):
    template = _template_for(request, pk, "prompts.change")
    return _editor(request, template=template)


@login_required
@require("prompts.view")
@require_POST
def prompt_variable_rows(request):
    """htmx: the variables fieldset again, with one more empty row."""
    formset = formset_for(variable_rows(formset_for([], data=request.POST)), extra=1)
    return render(request, "prompts/edit.html#variables", {"formset": formset})


@login_required
@require("prompts.view")
@require_POST
def prompt_preview(request):
    """htmx, as the editor types: the final prompt with defaults, or the error and where it is."""
    body = request.POST.get("body", "")
    context = {"error": None, "rendered": None}
    try:
        variables = parse_variables(variable_rows(formset_for([], data=request.POST)))
        check_template(body, [v.name for v in variables])
        values, _ = fill_values(variables, {}, sample=True)
        context["rendered"] = render_prompt(body, values)
        context["variables"] = variables
    except (TemplateError, VariableError) as exc:
        context["error"] = str(exc)
    return render(request, "prompts/_preview.html", context)


@login_required
def prompt_detail(request, pk):
    template = _template_for(request, pk)
    variables = template.current.variable_list()
    values_form = ValuesForm(variables, request.POST or None)
    values, errors = fill_values(variables, request.POST if request.method == "POST" else {}, sample=request.method != "POST")
    rendered = render_prompt(template.current.body, values)
    context = {
        "template_obj": template, "version": template.current, "values_form": values_form,
        "rendered": rendered, "value_errors": errors, "can_change": can(request.membership, "prompts.change", template),
        "versions": template.versions.select_related("created_by"),
    }
    if request.htmx and request.method == "POST":
        return render(request, "prompts/_rendered.html", context)
    return render(request, "prompts/detail.html", context)


@login_required
def prompt_diff(request, pk):
    template = _template_for(request, pk)
    return version_diff_page(request, template, template.versions, text=lambda version: version.body, also=["variables"])


@login_required
@require_POST
def prompt_restore(request, pk, number):
    return version_restore_page(request, _template_for(request, pk, "prompts.change"), number, services.prompt_restore)


@login_required
def prompt_delete(request, pk):
    template = _template_for(request, pk, "prompts.change")
    if request.method == "POST":
        name = template.name
        services.prompt_delete(template=template)
        messages.success(request, f"Deleted “{name}”.")
        return redirect("prompt_list")
    return render(request, "_confirm_delete.html", {
        "obj": template, "back_url": template.get_absolute_url(), "consequence": "Drafts already written from it keep their text.",
    })
