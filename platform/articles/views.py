from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.permissions import check, require
from articles import services
from articles.forms import DraftForm
from articles.models import SUGGESTION, Article, Generation
from articles.selectors import articles_for, variant_cards
from core.fields import parse_id
from core.health import workers_health
from core.markdown import render_markdown
from prompts.forms import ValuesForm
from prompts.models import PromptTemplate


@login_required
@require("drafts.view")
def write_index(request):
    page = Paginator(articles_for(request.workspace, request.GET.get("q", "")), 25).get_page(request.GET.get("page"))
    return render(request, "articles/index.html", {"page": page})


def _draft_request(form: DraftForm, values: dict) -> services.DraftRequest:
    data = form.cleaned_data
    source = data["source"]
    template = data["template"] if source == "template" else None
    rewrite_text = data["rewrite_text"] if source == "rewrite" else ""
    if source == "rewrite" and not rewrite_text.strip() and data["rewrite_article"] is not None:
        rewrite_text = data["rewrite_article"].body
    return services.DraftRequest(
        title=data["title"], template_version=template.current if template else None, variables=values,
        prompt=data["prompt"] if source == "free" else "", rewrite_text=rewrite_text,
        style_version=data["style"].current if data["style"] else None, model=data["model"],
        params={name: data[name] for name in DraftForm.PARAMS if data[name] is not None},
        variants=data["variants"], seed=data["seed"],
    )


def _values_form(request, form: DraftForm) -> tuple[ValuesForm | None, PromptTemplate | None]:
    """The chosen template's variable fields, rendered with the page (never reloaded over it):
    as posted, after a refused post (what was typed stays, whatever else is wrong); else empty
    for the template the page was opened with (?template=). None without a template."""
    posted = request.method == "POST"
    if posted and request.POST.get("source", "template") != "template":
        return None, None
    template_id = parse_id(request.POST.get("template") if posted else request.GET.get("template"))
    template = form.fields["template"].queryset.filter(pk=template_id).first() if template_id else None
    if template is None:
        return None, None
    return ValuesForm(template.current.variable_list(), request.POST if posted else None, prefix="var"), template


@login_required
@require("drafts.create")
def draft_new(request):
    form = DraftForm(request.workspace, request.POST or None, initial={"template": request.GET.get("template"), "model": request.GET.get("model", "")})
    values_form, template = _values_form(request, form)
    if request.method == "POST" and form.is_valid():
        values = {k.removeprefix("var-"): v for k, v in request.POST.items() if k.startswith("var-")}
        try:
            article = services.draft_create(workspace=request.workspace, user=request.user, request=_draft_request(form, values))
            return redirect(article)
        except services.RateLimited as exc:
            form.add_error(None, str(exc))
        except services.DraftError as exc:
            for field, message in exc.errors.items():
                if field.startswith("variables.") and values_form is not None:
                    values_form.add_error(field.removeprefix("variables."), message)
                else:
                    form.add_error(field if field in form.fields else None, message)
    return render(request, "articles/new.html", {"form": form, "values_form": values_form, "template_obj": template,
                                                 "workers": workers_health()})


@login_required
@require("drafts.create")
def template_fields(request):
    """htmx: the variable form of the template just chosen, keeping what was typed into fields
    of the same name (the request includes the fields shown before)."""
    template_id = parse_id(request.GET.get("template"))
    template = PromptTemplate.objects.filter(workspace=request.workspace, pk=template_id).select_related("current").first() if template_id else None
    values_form = None
    if template:
        typed = {k.removeprefix("var-"): v for k, v in request.GET.items() if k.startswith("var-") and v.strip()}
        values_form = ValuesForm(template.current.variable_list(), prefix="var", initial=typed)
    return render(request, "articles/_template_fields.html", {"values_form": values_form, "template_obj": template})


def _article_for(request, pk, action="drafts.view") -> Article:
    article = get_object_or_404(Article, pk=pk)
    check(request.membership, action, article)
    return article


def _generation_for(request, pk, action) -> Generation:
    generation = get_object_or_404(Generation.objects.select_related("article"), pk=pk)
    check(request.membership, action, generation)
    return generation


@login_required
def article_detail(request, pk):
    article = _article_for(request, pk)
    services.generations_sweep_stale()
    return render(request, "articles/detail.html", {
        "article": article, "variants": variant_cards(article, request.membership),
        "body_html": render_markdown(article.body) if article.body else "",
    })


@login_required
@require_POST
def generation_cancel(request, pk):
    generation = _generation_for(request, pk, "generations.cancel")
    services.generation_cancel(generation=generation)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(generation.article)


@login_required
@require_POST
def generation_again(request, pk, kind):
    if kind not in ("retry", "regenerate", "continue"):
        raise Http404(f"No action {kind!r}.")
    generation = _generation_for(request, pk, "generations.rerun")
    try:
        if kind == "continue":
            services.generation_continue(generation=generation, user=request.user)
        else:
            services.generation_again(generation=generation, user=request.user, kind=kind)
    except (services.RateLimited, services.DraftError) as exc:
        messages.error(request, " ".join(exc.errors.values()) if isinstance(exc, services.DraftError) else str(exc))
        if request.htmx:
            return HttpResponseClientRedirect(generation.article.get_absolute_url())
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(generation.article)


@login_required
@require_POST
def article_choose(request, pk, generation_pk):
    article = _article_for(request, pk, "drafts.choose")
    # a variant; a suggestion (one passage rewritten) is accepted in the editor, never used whole
    generation = get_object_or_404(article.generations.exclude(kind=SUGGESTION), pk=generation_pk)
    services.article_choose(article=article, generation=generation, membership=request.membership)
    messages.success(request, f"Variant {generation.variant} is now the article text.")
    if request.htmx:  # cards streamed over the socket carry no CSRF field: htmx sends the header
        return HttpResponseClientRedirect(article.get_absolute_url())
    return redirect(article)
