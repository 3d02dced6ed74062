from django import forms

from articles.models import Article
from catalog.services import model_choices
from prompts.models import PromptTemplate
from styles.models import StyleProfile


class DraftForm(forms.Form):
    source = forms.ChoiceField(
        choices=[("template", "From a template"), ("free", "Free prompt"), ("rewrite", "Rewrite a text")],
        initial="template", widget=forms.RadioSelect,
    )
    title = forms.CharField(required=False, max_length=200, help_text="Optional: defaults to the template's name.")
    template = forms.ModelChoiceField(queryset=PromptTemplate.objects.none(), required=False, empty_label="Choose a template")
    prompt = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Prompt")
    rewrite_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Text to rewrite")
    rewrite_article = forms.ModelChoiceField(
        queryset=Article.objects.none(), required=False, label="…or an article to rewrite", empty_label="—",
    )
    style = forms.ModelChoiceField(queryset=StyleProfile.objects.none(), required=False, empty_label="No style")
    model = forms.ChoiceField(choices=(), required=False, help_text="Blank: the style's model, else the default.")
    variants = forms.IntegerField(min_value=1, max_value=4, initial=1)
    temperature = forms.FloatField(required=False, min_value=0, max_value=2, widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "style default"}))
    top_p = forms.FloatField(required=False, min_value=0.05, max_value=1, widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "style default"}))
    max_new_tokens = forms.IntegerField(required=False, min_value=1, max_value=4096, widget=forms.NumberInput(attrs={"placeholder": "style default"}))
    repetition_penalty = forms.FloatField(required=False, min_value=1, max_value=2, widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "style default"}))
    seed = forms.IntegerField(required=False, min_value=0, help_text="Same seed, same text.")

    PARAMS = ("temperature", "top_p", "max_new_tokens", "repetition_penalty")

    def __init__(self, workspace, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PromptTemplate.objects.filter(workspace=workspace).select_related("current")
        self.fields["style"].queryset = StyleProfile.objects.filter(workspace=workspace).select_related("current")
        self.fields["rewrite_article"].queryset = Article.objects.filter(workspace=workspace).exclude(body="")
        self.fields["model"].choices = [("", "Style's model (or the default)")] + [
            (choice.key, choice.label) for choice in model_choices(workspace)
        ]
