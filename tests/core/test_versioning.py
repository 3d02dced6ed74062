"""core.versioning and core.diffing: numbered versions, said once for prompts, styles and articles."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction
from django.http import Http404, QueryDict
from django.template.loader import render_to_string

from catalog.models import ModelVersion
from core.diffing import compare_versions, line_diff, word_diff
from core.versioning import version_add, version_add_current, version_restore, version_save
from prompts.models import PromptTemplateVersion
from prompts.services import prompt_create
from styles.models import StyleProfileVersion
from styles.services import VERSIONED_FIELDS, style_create, style_update


@pytest.fixture
def writer(make_member, workspace):
    return make_member("writer", workspace)


@pytest.fixture
def template(workspace, writer):
    return prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="About {topic}",
                         variables=[{"name": "topic"}])


def test_versions_added_in_a_row_are_numbered_one_after_the_other(template, writer):
    with transaction.atomic():
        second = version_add(PromptTemplateVersion, template, user=writer, note="Second", body="Two", variables=[])
        third = version_add(PromptTemplateVersion, template, user=writer, body="Three", variables=[])
    assert (second.number, third.number) == (2, 3)
    assert (second.note, second.created_by, second.owner) == ("Second", writer, template)
    assert list(PromptTemplateVersion.of(template).values_list("number", flat=True)) == [3, 2, 1]
    template.refresh_from_db()
    assert template.current.number == 1  # version_add alone leaves `current` where it was


def test_each_owner_numbers_its_own_versions(workspace, writer, template):
    other = prompt_create(workspace=workspace, user=writer, name="Other", category="free", body="x", variables=[])
    with transaction.atomic():
        version_add_current(PromptTemplateVersion, template, user=writer, body="Two", variables=[])
    assert other.current.number == 1 and template.current.number == 2


def test_adding_a_current_version_moves_the_owners_current(template, writer):
    with transaction.atomic():
        version = version_add_current(PromptTemplateVersion, template, user=writer, note="Edited", body="New text", variables=[])
    template.refresh_from_db()
    assert template.current == version and (version.number, template.current.body) == (2, "New text")


def test_saving_unchanged_fields_makes_no_version(template, writer):
    with transaction.atomic():
        unchanged = version_save(PromptTemplateVersion, template, user=writer, body="About {topic}", variables=template.current.variables)
    assert unchanged is None and template.versions.count() == 1
    with transaction.atomic():
        changed = version_save(PromptTemplateVersion, template, user=writer, note="Edited", body="About {topic}!",
                               variables=template.current.variables)
    template.refresh_from_db()
    assert template.current == changed and (changed.number, changed.note) == (2, "Edited")


def test_restoring_copies_every_saved_field_into_a_new_current_version(workspace, writer):
    model = ModelVersion.objects.create(workspace=workspace, name="sea-lora", kind="lora", source="/x", spec="/x",
                                        status=ModelVersion.Status.PROMOTED)
    profile = style_create(workspace=workspace, user=writer, name="Sunny", tone="warm", reading_level=5,
                           default_params={"temperature": 0.3}, default_model="sea-lora")
    style_update(profile=profile, user=writer, name="Sunny", tone="dry")
    assert profile.current.default_model is None
    with transaction.atomic():
        restored = version_restore(StyleProfileVersion, profile, 1, user=writer)
    profile.refresh_from_db()
    assert profile.current == restored and (restored.number, restored.note) == (3, "Restored v1")
    assert (restored.tone, restored.reading_level, restored.default_model, restored.params()["temperature"]) == ("warm", 5, model, 0.3)
    with pytest.raises(StyleProfileVersion.DoesNotExist), transaction.atomic():
        version_restore(StyleProfileVersion, profile, 9, user=writer)


def test_a_version_saves_all_but_its_bookkeeping():
    assert {f.name for f in StyleProfileVersion.content_fields()} == set(VERSIONED_FIELDS)
    assert [f.name for f in PromptTemplateVersion.content_fields()] == ["body", "variables"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_never_take_the_same_number(workspace, writer):
    template = prompt_create(workspace=workspace, user=writer, name="Blog", category="free", body="v1", variables=[])
    start, errors = threading.Barrier(4), []

    def save(n):
        try:
            start.wait()
            with transaction.atomic():
                version_add_current(PromptTemplateVersion, template, user=writer, body=f"text {n}", variables=[])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(template.versions.values_list("number", flat=True)) == [1, 2, 3, 4, 5]


def test_word_diff_shows_a_changed_word_as_that_word():
    old = "The quick brown fox jumps.\n\nThe second paragraph stays.\n"
    new = "The slow brown fox jumps!\n\nThe second paragraph stays.\nA new one.\n"
    assert word_diff(old, new) == [
        {"kind": "same", "text": "The "}, {"kind": "removed", "text": "quick"}, {"kind": "added", "text": "slow"},
        {"kind": "same", "text": " brown fox jumps"}, {"kind": "removed", "text": "."}, {"kind": "added", "text": "!"},
        {"kind": "same", "text": "\n\nThe second paragraph stays.\n"}, {"kind": "added", "text": "A new one.\n"},
    ]


def test_word_diff_gives_back_both_texts_even_for_long_rewrites():
    old = "\n\n".join(f"Paragraph {n} says something about lanterns and boats." for n in range(400))
    new = old.replace("lanterns", "lamps").replace("Paragraph 7 ", "Part seven ")
    rewritten = "word " * 5000  # one changed stretch too long to match word by word
    for before, after in [(old, new), ("", "Fresh text."), ("Gone.", ""), (old, rewritten)]:
        parts = word_diff(before, after)
        assert "".join(p["text"] for p in parts if p["kind"] != "added") == before
        assert "".join(p["text"] for p in parts if p["kind"] != "removed") == after
    assert {"kind": "removed", "text": "lanterns"} in word_diff(old, new)


def test_word_diff_renders_inline_and_line_diff_as_lines():
    inline = render_to_string("_diff.html", {"diff": word_diff("a <b> cat", "a <b> dog"), "inline": True})
    assert '&lt;b&gt; <del class="diff-removed">cat</del><ins class="diff-added">dog</ins>' in inline
    lines = render_to_string("_diff.html", {"diff": line_diff("one\ntwo", "one\n2")})
    assert '<span class="diff-removed">- two</span>' in lines and '<span class="diff-added">+ 2</span>' in lines


def test_compare_versions_picks_the_asked_versions_and_the_diff(template, writer):
    with transaction.atomic():
        version_add_current(PromptTemplateVersion, template, user=writer, body="About {topic} today", variables=[])
    context = compare_versions(template.versions, QueryDict("a=1&b=2"), lambda v: v.body, diff=word_diff)
    assert (context["old"].number, context["new"].number, context["numbers"]) == (1, 2, [1, 2])
    assert context["diff"][-1] == {"kind": "added", "text": " today"}
    assert compare_versions(template.versions, QueryDict("a=x"), lambda v: v.body)["old"].number == 1  # not a number: the default
    with pytest.raises(Http404):
        compare_versions(template.versions, QueryDict("a=7"), lambda v: v.body)
    with pytest.raises(Http404):
        compare_versions(template.versions.none(), QueryDict(""), lambda v: v.body)
