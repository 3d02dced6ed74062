"""Bad input reported per field, one shape for every service."""

from rest_framework.exceptions import ValidationError


class FieldErrors(ValueError):
    """{field: message}, so that a form or the API shows each message where it belongs."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def add_to(self, form) -> None:
        """Put each message on its form field (or on the form, for fields it does not have)."""
        for field, message in self.errors.items():
            form.add_error(field if field in form.fields else None, message)

    def as_api_error(self) -> ValidationError:
        return ValidationError({field: [message] for field, message in self.errors.items()})
