from django import forms


class ScheduleForm(forms.Form):
    """When to publish and unpublish (UTC, the site's time zone); empty: not scheduled."""

    publish_at = forms.DateTimeField(required=False, label="Publish at (UTC)",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    unpublish_at = forms.DateTimeField(required=False, label="Unpublish at (UTC)",
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
