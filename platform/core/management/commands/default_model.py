from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Find the bundled default model (SmolLM2-135M-Instruct GGUF) and convert it once into a safetensors cache."

    def handle(self, *args, **options):
        from generation.errors import GenerationError
        from generation.models import ensure_default_model

        try:
            report = ensure_default_model()
        except GenerationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(report))
