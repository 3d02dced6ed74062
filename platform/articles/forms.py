from django import forms

from articles.models import Article
from articles.services import MAX_PROMPT_CHARS, MAX_VARIANTS
from catalog.services import model_choices
from core.sampling import STYLE_PARAMS, add_param_fields, seed_form_field
from prompts.models import PromptTemplate
from styles.models import StyleProfile


class DraftForm(forms.Form):
    source = forms.ChoiceField(
        choices=[("template", "From a template"), ("free", "Free prompt"), ("rewrite", "Rewrite a text")],
        initial="template", widget=forms.RadioSelect,
    )
    title = forms.CharField(required=False, max_length=200, label="Article title (optional)",
                            help_text="Blank: the template's Title variable or name, or the prompt's first line.")
    template = forms.ModelChoiceField(queryset=PromptTemplate.objects.none(), required=False, empty_label="Choose a template")
    prompt = forms.CharField(required=False, max_length=MAX_PROMPT_CHARS, widget=forms.Textarea(attrs={"rows": 4}), label="Prompt")
    rewrite_text = forms.CharField(required=False, max_length=MAX_PROMPT_CHARS, widget=forms.Textarea(attrs={"rows": 6}), label="Text to rewrite")
    rewrite_article = forms.ModelChoiceField(
        queryset=Article.objects.none(), required=False, label="…or an article to rewrite", empty_label="—",
    )
    style = forms.ModelChoiceField(queryset=StyleProfile.objects.none(), required=False, empty_label="No style")
    model = forms.ChoiceField(choices=(), required=False, help_text="Blank: the style's model, else the default.")
    variants = forms.IntegerField(min_value=1, max_value=MAX_VARIANTS, initial=1)

    PARAMS = STYLE_PARAMS

    def __init__(self, workspace, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_param_fields(self, self.PARAMS, placeholder="style default")
        self.fields["seed"] = seed_form_field()
        self.fields["template"].queryset = PromptTemplate.objects.filter(workspace=workspace).select_related("current")
        self.fields["style"].queryset = StyleProfile.objects.filter(workspace=workspace).select_related("current")
        self.fields["rewrite_article"].queryset = Article.objects.filter(workspace=workspace).exclude(body="")
        self.fields["model"].choices = [("", "Style's model (or the default)")] + [
            (choice.key, choice.label) for choice in model_choices(workspace)
        ]

    def params_have_errors(self) -> bool:
        """Open the collapsed *Advanced* section when one of its fields needs attention."""
        return any(self.errors.get(name) for name in (*self.PARAMS, "seed", "params"))

    def param_fields(self):
        """The bound sampling fields and the seed, for the *Advanced* section."""
        return [self[name] for name in (*self.PARAMS, "seed")]
