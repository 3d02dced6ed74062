from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import services
from accounts.permissions import require
from accounts.selectors import workspace_members
from accounts.tokens import api_token_create, api_token_revoke
from core.fields import parse_id


@login_required
@require_POST
def workspace_switch(request):
    workspace_id = parse_id(request.POST.get("workspace"))
    membership = services.workspace_switch(request=request, workspace_id=workspace_id)
    messages.success(request, f"Now working in {membership.workspace.name}.")
    target = request.POST.get("next") or "dashboard"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}) and target != "dashboard":
        target = "dashboard"
    return redirect(target)


@login_required
@require("members.view")
def members(request):
    return render(
        request,
        "accounts/members.html",
        {"members": workspace_members(request.workspace)},
    )


@login_required
def profile(request):
    new_key = None
    if request.method == "POST":
        if "revoke" in request.POST:
            api_token_revoke(user=request.user, token_id=parse_id(request.POST["revoke"]))
            messages.success(request, "Token revoked: requests using it are refused from now on.")
            return redirect("profile")
        token, new_key = api_token_create(user=request.user, name=request.POST.get("name", ""))
    return render(request, "accounts/profile.html", {"tokens": request.user.api_tokens.all(), "new_key": new_key})
