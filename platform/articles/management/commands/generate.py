import asyncio
import sys

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Membership
from articles import services
from articles.events import generation_state
from articles.models import Generation, generation_group
from articles.relay import Relay
from prompts.models import PromptTemplate
from styles.models import StyleProfile


class Command(BaseCommand):
    help = "Enqueue a generation and print its text in the terminal as it is written."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username of the writer")
        parser.add_argument("--workspace", help="workspace slug (default: the user's first)")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--prompt", help="a free prompt")
        source.add_argument("--template", help="a prompt template's name")
        parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a template variable")
        parser.add_argument("--style", help="a style profile's name")
        parser.add_argument("--model", default="", help="a model's name from the Models page (default: the style's, else the bundled one)")
        parser.add_argument("--max-new-tokens", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument("--no-follow", action="store_true", help="only enqueue; print the generation id")

    def handle(self, *args, **opts):
        membership = Membership.objects.filter(user__username=opts["user"]).select_related("workspace", "user")
        if opts["workspace"]:
            membership = membership.filter(workspace__slug=opts["workspace"])
        membership = membership.order_by("created_at").first()
        if membership is None:
            raise CommandError(f"{opts['user']!r} is not a member of {opts['workspace'] or 'any workspace'}.")
        workspace = membership.workspace
        template = style = None
        if opts["template"]:
            template = PromptTemplate.objects.filter(workspace=workspace, name=opts["template"]).first()
            if template is None:
                raise CommandError(f"No template named {opts['template']!r} in {workspace}.")
        if opts["style"]:
            style = StyleProfile.objects.filter(workspace=workspace, name=opts["style"]).first()
            if style is None:
                raise CommandError(f"No style named {opts['style']!r} in {workspace}.")
        variables = dict(item.split("=", 1) for item in opts["var"] if "=" in item)
        params = {"max_new_tokens": opts["max_new_tokens"]} if opts["max_new_tokens"] else {}
        request = services.DraftRequest(
            template_version=template.current if template else None, variables=variables,
            prompt=opts["prompt"] or "", style_version=style.current if style else None,
            model=opts["model"], params=params, seed=opts["seed"],
        )
        try:
            article = services.draft_create(workspace=workspace, user=membership.user, request=request)
        except services.DraftError as exc:
            raise CommandError(str(exc)) from None
        generation = article.generations.get()
        if opts["no_follow"]:
            self.stdout.write(str(generation.pk))
            return
        self.stderr.write(f"generation {generation.pk} queued; waiting for a worker…")
        final = asyncio.run(follow(generation.pk, sys.stdout))
        self.stdout.write("")
        self.stderr.write(
            f"{final['status']} · {final['completion_tokens'] or 0} tokens · "
            f"{final['tokens_per_s'] or 0:.1f} tok/s · finish: {final['finish_reason'] or '-'}"
        )


@sync_to_async
def _state(gid: int) -> dict:
    return generation_state(Generation.objects.get(pk=gid))


async def follow(gid: int, out) -> dict:
    """Print a generation's text once, in order: persisted part, then live pieces."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(generation_group(gid), channel)  # join first, then read the database
    relay = Relay()
    try:
        state = await _state(gid)
        out.write(relay.catch_up(state) or "")
        out.flush()
        while state["status"] in Generation.ACTIVE:
            try:
                event = await asyncio.wait_for(layer.receive(channel), timeout=1.0)
            except TimeoutError:
                event = {"type": "poll"}
            if event["type"] == "generation.piece":
                out.write("".join(piece["text"] for piece in relay.receive(event)))
            if event["type"] != "generation.piece" or relay.has_gap:
                # a state change, a quiet second or a gap: catch up from the database
                state = await _state(gid)
                out.write(relay.catch_up(state) or "")
                out.write("".join(piece["text"] for piece in relay.ready()))
                if event["type"] == "generation.state":
                    state = {**state, **{k: v for k, v in event.items() if k != "type"}}
            out.flush()
        return state
    finally:
        await layer.group_discard(generation_group(gid), channel)
