"""The pages every versioned object shares: comparing two versions, and restoring an old one.
The app's view finds the owner and checks the permission, then hands over to these."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render

from core.diffing import compare_versions, line_diff


def version_diff_page(request, owner, versions, *, text, compared: str = "", also=(), diff=line_diff, mark: str = "v"):
    """The diff page (templates/_version_diff.html) of `owner` (its str is the heading, its
    get_absolute_url the way back). `?a=&b=` pick two of `versions`; what is compared is
    `text(version)`, by `diff` (line_diff; word_diff shows prose inline); `compared` says what
    that is; `also` names other fields of the version whose change the page mentions; `mark`
    goes before numbers ("v2")."""
    context = compare_versions(versions, request.GET, text, diff=diff)
    old, new = context["old"], context["new"]
    context["also_changed"] = [old._meta.get_field(name).verbose_name for name in also if getattr(old, name) != getattr(new, name)]
    return render(request, "_version_diff.html", {
        "obj": owner, "noun": owner._meta.verbose_name, "compared": compared, "inline": diff is not line_diff, "mark": mark, **context,
    })


def version_restore_page(request, owner, number: int, restore):
    """POST: `restore(owner, number=, user=)` makes version `number` the newest one (404 when
    there is none), then back to the owner's page, saying so."""
    try:
        version = restore(owner, number=number, user=request.user)
    except ObjectDoesNotExist:
        raise Http404(f"There is no version {number}.") from None
    messages.success(request, f"Restored version {number} as version {version.number}.")
    return redirect(owner)
