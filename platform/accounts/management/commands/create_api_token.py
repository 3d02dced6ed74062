from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.tokens import api_token_create


class Command(BaseCommand):
    help = "Create a personal API token for a user and print its key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Created from the command line")

    def handle(self, *args, username, name, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        token, key = api_token_create(user=user, name=name)
        self.stdout.write(key)
