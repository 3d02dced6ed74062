"""Training pages: the runs, a new run with its estimate, one run watched live (training.consumers)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import check, require, role_allows
from training import params as run_params
from training import selectors, services
from training.forms import PLAN_CHOICES, PRESET_HELP, RunForm
from training.models import TrainingRun


def _run_for(request, pk, action="training.view") -> TrainingRun:
    run = get_object_or_404(TrainingRun.objects.select_related("created_by", "model_version", "dataset_version"), pk=pk)
    check(request.membership, action, run)
    return run


@login_required
@require("training.view")
def run_list(request):
    status = request.GET.get("status", "")
    runs = selectors.run_list(workspace=request.workspace, status=status)
    page = Paginator(runs, 20).get_page(request.GET.get("page"))
    rows = [{"run": run, "queue_position": services.queue_position(run)} for run in page]
    return render(request, "training/list.html", {
        "page": page, "rows": rows, "status": status, "statuses": selectors.STATUS_FILTERS,
        "can_manage": role_allows(request.membership.role, "training.manage"),
    })


def _form_data(request) -> QueryDict:
    return request.POST if request.method == "POST" else request.GET


def estimate_context(request, data: QueryDict, refill: bool) -> dict:
    """Plan the run the form describes. `refill`: a choice that changes the plan changed, so the
    settings fields show the new plan's values (and none of the old ones count as overrides)."""
    if refill:
        data = data.copy()
        for name in run_params.EDITABLE_PARAMS:
            data.pop(name, None)
        data.pop("params_shown", None)
    form = RunForm(data, workspace=request.workspace, estimate_url=reverse("training:run_estimate"))
    context = {"form": form, "refill": refill, "preset_help": PRESET_HELP}
    version = form.selected_version()
    context["version"] = version
    if not form.is_valid():
        context["errors"] = _labelled(form, {k: " ".join(v) for k, v in form.errors.items()})
        return context
    try:
        base = services.run_plan(workspace=request.workspace, request=form.run_request())
        overrides = {} if refill else form.overrides(base.params)
        planned = services.run_plan(workspace=request.workspace, request=form.run_request(overrides)) if overrides else base
    except services.TrainingError as exc:
        context["errors"] = _labelled(form, exc.errors)
        return context
    if refill:
        form.fill_params(base.params)
        suggested = data.get("suggested", "")
        if not data.get("name") or data.get("name") == suggested:  # not typed by the admin: follow the choices
            name = services.suggested_name(workspace=request.workspace, dataset_version=form.cleaned_data["dataset_version"],
                                           method=form.cleaned_data["method"])
            form.data = form.data.copy()
            form.data["name"] = form.data["suggested"] = context["suggested_name"] = name
    plan = planned.plan
    context.update(planned=planned, plan=plan, overrides={run_params.label(k): run_params.as_text(k, v)
                                                           for k, v in overrides.items()})
    if plan.seconds is not None:
        context["time"], context["time_note"] = f"about {selectors.duration(plan.seconds)}", "on this worker, measured"
    elif plan.rough_seconds is not None:
        context["time"] = f"roughly {selectors.duration(plan.rough_seconds)}"
        context["time_note"] = "rough: no run of this model measured yet"
    return context


def _labelled(form, errors: dict) -> list[str]:
    """Messages for the estimate panel, each naming its field unless it already does."""
    out = []
    for name, message in errors.items():
        label = str(form[name].label) if name in form.fields else ""  # the bound field's label is never None
        out.append(message if not label or message.startswith(label) else f"{label}: {message}")
    return out


@login_required
@require("training.manage")
def run_estimate(request):
    """htmx partial: the estimate panel, and after a choice changed, the refilled settings."""
    data = _form_data(request)
    trigger = request.headers.get("HX-Trigger-Name", "")
    refill = trigger in PLAN_CHOICES or not data.get("params_shown")
    context = estimate_context(request, data, refill)
    return render(request, "training/_estimate.html", {**context, "oob": True})


@login_required
@require("training.manage")
def run_new(request):
    versions = selectors.ready_versions(workspace=request.workspace)
    if not versions:
        return render(request, "training/new.html", {"no_versions": True})
    if request.method == "POST":
        form = RunForm(request.POST, workspace=request.workspace, estimate_url=reverse("training:run_estimate"))
        if form.is_valid():
            try:
                run = _create(request, form)
            except services.TrainingError as exc:
                exc.add_to(form)
            else:
                messages.success(request, f"Run “{run.name}” queued.")
                return redirect(run)
        context = estimate_context(request, request.POST, refill=False)
        context["form"] = form
        return render(request, "training/new.html", context)
    data = QueryDict(mutable=True)
    data.update({"dataset_version": str(versions[0].pk), "base_model": "default", "method": "lora",
                 "preset": "quick", "validation_fraction": "0.1"})
    for key in ("dataset_version", "base_model", "method", "preset"):
        if request.GET.get(key):
            data[key] = request.GET[key]
    return render(request, "training/new.html", estimate_context(request, data, refill=True))


def _create(request, form: RunForm) -> TrainingRun:
    base = services.run_plan(workspace=request.workspace, request=form.run_request())
    return services.run_create(workspace=request.workspace, user=request.user,
                               request=form.run_request(form.overrides(base.params)))


@login_required
@require("training.view")
def run_detail(request, pk):
    run = _run_for(request, pk)
    context = selectors.panel_context(run, request.membership)
    context["plan_rows"] = selectors.plan_rows(run)
    return render(request, "training/detail.html", context)


def _steer(request, pk, service, message: str):
    """Cancel or resume: the run's panel for htmx, else back to its page with a message."""
    run = _run_for(request, pk, "training.manage")
    try:
        service(run=run)
    except services.TrainingError as exc:
        messages.error(request, " ".join(exc.errors.values()))
        return redirect(run)
    run.refresh_from_db()
    if request.htmx:
        return render(request, "training/_panel.html", selectors.panel_context(run, request.membership))
    messages.success(request, message)
    return redirect(run)


@login_required
@require_POST
@require("training.manage")
def run_cancel(request, pk):
    return _steer(request, pk, services.run_cancel,
                  "Cancelling: a running run stops after its current step and keeps a checkpoint.")


@login_required
@require_POST
@require("training.manage")
def run_resume(request, pk):
    return _steer(request, pk, services.run_resume, "Queued again: it goes on from its last checkpoint.")
