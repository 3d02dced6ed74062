from django.core.management.base import BaseCommand

from accounts.demo import demo_bootstrap


class Command(BaseCommand):
    help = "Create (idempotently) the demo workspaces and the writer/editor/admin users, and print their logins."

    def handle(self, *args, **options):
        result = demo_bootstrap()
        self.stdout.write(self.style.SUCCESS(f"Demo workspace: {result.workspace.name}"))
        for login in result.logins:
            self.stdout.write(f"  {login.role:<7} {login.username:<8} password: {login.password}")
        self.stdout.write(f"  (passwords kept in {result.password_file})")
