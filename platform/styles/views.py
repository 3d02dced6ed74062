from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import check_object, require, role_allows
from core.version_views import version_diff_page, version_restore_page
from styles import services
from styles.forms import StyleForm
from styles.models import StyleProfile
from styles.prompting import Voice, build_system_prompt, lines, passages, words
from styles.selectors import style_list


def _profile_for(request, pk, action="styles.view") -> StyleProfile:
    profile = get_object_or_404(StyleProfile.objects.select_related("current"), pk=pk)
    check_object(request.membership, profile, action)
    return profile


@login_required
@require("styles.view")
def style_index(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(style_list(workspace=request.workspace, search=search), 20).get_page(request.GET.get("page"))
    context = {"page": page, "search": search, "can_manage": role_allows(request.membership.role, "styles.manage")}
    template = "styles/list.html#results" if request.htmx and not request.htmx.boosted else "styles/list.html"
    return render(request, template, context)


def _editor(request, *, profile=None):
    initial = StyleForm.initial_from(profile) if profile else None
    if request.method == "POST":
        form = StyleForm(request.workspace, request.POST, initial=initial)
        if form.is_valid():
            try:
                if profile is None:
                    profile = services.style_create(workspace=request.workspace, user=request.user, **form.service_fields())
                    messages.success(request, f"Style “{profile.name}” created.")
                else:
                    services.style_update(profile=profile, user=request.user, **form.service_fields())
                    messages.success(request, f"Saved “{profile.name}” as version {profile.current.number}.")
                return redirect(profile)
            except services.StyleValidationError as exc:
                exc.add_to(form)
    else:
        form = StyleForm(request.workspace, initial=initial)
    return render(request, "styles/edit.html", {"form": form, "profile": profile})


@login_required
@require("styles.manage")
def style_create(request):
    return _editor(request)


@login_required
@require("styles.manage")
def style_edit(request, pk):
    return _editor(request, profile=_profile_for(request, pk, "styles.manage"))


@login_required
@require("styles.manage")
@require_POST
def style_system_prompt_preview(request):
    """htmx, as the editor types: the system prompt the fields produce."""
    data = request.POST
    level = data.get("reading_level", "")
    voice = Voice(
        name=data.get("name", "").strip(), voice=data.get("voice", ""), audience=data.get("audience", ""),
        tone=data.get("tone", ""), reading_level=int(level) if level.isdigit() else None,
        do_rules=lines(data.get("do_rules", "")), dont_rules=lines(data.get("dont_rules", "")),
        banned_words=words(data.get("banned_words", "")), examples=passages(data.get("examples", "")),
    )
    override = data.get("system_prompt_override", "").strip()
    return render(request, "styles/_system_prompt.html", {"generated": build_system_prompt(voice), "override": override})


@login_required
def style_detail(request, pk):
    profile = _profile_for(request, pk)
    return render(request, "styles/detail.html", {
        "profile": profile, "version": profile.current, "versions": profile.versions.select_related("created_by"),
        "can_manage": role_allows(request.membership.role, "styles.manage"),
    })


@login_required
def style_diff(request, pk):
    profile = _profile_for(request, pk)
    return version_diff_page(request, profile, profile.versions, text=lambda version: version.system_prompt,
                             compared="System prompts compared.", also=["default_params", "default_model"])


@login_required
@require("styles.manage")
@require_POST
def style_restore(request, pk, number):
    return version_restore_page(request, _profile_for(request, pk, "styles.manage"), number, services.style_restore)


@login_required
@require("styles.manage")
def style_delete(request, pk):
    profile = _profile_for(request, pk, "styles.manage")
    if request.method == "POST":
        name = profile.name
        services.style_delete(profile=profile)
        messages.success(request, f"Deleted “{name}”.")
        return redirect("style_list")
    return render(request, "_confirm_delete.html", {
        "obj": profile, "back_url": profile.get_absolute_url(), "consequence": "Drafts already written in it keep their text.",
    })
