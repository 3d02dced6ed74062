import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Membership
from accounts.permissions import decide
from corpora.models import Dataset
from training import services
from training.models import TrainingRun
from training.params import EDITABLE_PARAMS, kind

POLL_S = 0.5


def _value(name: str, text: str):
    """A --set value in the type its FinetuneParams field has."""
    field_kind = kind(name)
    if field_kind is bool:
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise CommandError(f"--set {name}: use true or false, not {text!r}.")
        return text.lower() in ("true", "1", "yes")
    if field_kind is tuple:
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return field_kind(text)
    except ValueError:
        raise CommandError(f"--set {name}: {text!r} is not a{'n' if field_kind is int else ''} "
                           f"{field_kind.__name__}.") from None


class Command(BaseCommand):
    help = "Start a training run on the training queue (as the web page does) and print its progress."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username of an admin of the workspace")
        parser.add_argument("--workspace", help="workspace slug (default: the user's first)")
        parser.add_argument("--dataset", help="the dataset's name (or id)")
        parser.add_argument("--dataset-version", type=int, dest="dataset_version", help="the dataset version's number (default: the latest)")
        parser.add_argument("--base", default="default", help="the base model's name on the Models page")
        parser.add_argument("--method", default="lora", choices=TrainingRun.Method.values)
        parser.add_argument("--preset", default="quick", choices=TrainingRun.Preset.values)
        parser.add_argument("--name", default="", help="name of the model it makes (default: from the dataset)")
        parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                            help=f"override a preset's setting ({', '.join(EDITABLE_PARAMS)})")
        parser.add_argument("--validation-fraction", type=float, default=0.1)
        parser.add_argument("--plan", action="store_true", help="only print the plan and the estimate")
        parser.add_argument("--follow", type=int, metavar="RUN_ID", help="print the progress of an existing run")
        parser.add_argument("--no-follow", action="store_true", help="only enqueue; print the run id")

    def handle(self, *args, **opts):
        membership = self._membership(opts)
        if opts["follow"]:
            run = TrainingRun.objects.filter(pk=opts["follow"], workspace=membership.workspace).first()
            if run is None:
                raise CommandError(f"No training run {opts['follow']} in {membership.workspace}.")
            return self._follow(run)
        if not decide(membership, "training.manage"):
            raise CommandError(f"{membership.user} is not an admin of {membership.workspace}: only admins train models.")
        request = services.RunRequest(
            dataset_version=self._version(membership.workspace, opts), base_model=opts["base"], method=opts["method"],
            preset=opts["preset"], name=opts["name"], params=self._overrides(opts["set"]),
            validation_fraction=opts["validation_fraction"],
        )
        try:
            if opts["plan"]:
                planned = services.run_plan(workspace=membership.workspace, request=request)
                return self._print_plan(planned.plan.to_json(), planned.validation)
            run = services.run_create(workspace=membership.workspace, user=membership.user, request=request)
        except services.TrainingError as exc:
            raise CommandError("; ".join(f"{field}: {message}" for field, message in exc.errors.items())) from None
        if opts["no_follow"]:
            self.stdout.write(str(run.pk))
            return
        self._print_plan(run.plan, run.validation)
        self.stderr.write(f"run {run.pk} “{run.name}” queued; waiting for a training worker…")
        self._follow(run)

    def _membership(self, opts) -> Membership:
        memberships = Membership.objects.filter(user__username=opts["user"]).select_related("workspace", "user")
        if opts["workspace"]:
            memberships = memberships.filter(workspace__slug=opts["workspace"])
        membership = memberships.order_by("created_at").first()
        if membership is None:
            raise CommandError(f"{opts['user']!r} is not a member of {opts['workspace'] or 'any workspace'}.")
        return membership

    def _version(self, workspace, opts):
        if not opts["dataset"]:
            raise CommandError("--dataset is required (a dataset's name or id).")
        datasets = Dataset.objects.filter(workspace=workspace)
        dataset = datasets.filter(name=opts["dataset"]).first()
        if dataset is None and opts["dataset"].isdigit():
            dataset = datasets.filter(pk=int(opts["dataset"])).first()
        if dataset is None:
            names = ", ".join(datasets.values_list("name", flat=True)[:20]) or "none"
            raise CommandError(f"No dataset {opts['dataset']!r} in {workspace}. Datasets: {names}.")
        versions = dataset.versions.order_by("-number")
        version = versions.filter(number=opts["dataset_version"]).first() if opts["dataset_version"] else versions.first()
        if version is None:
            raise CommandError(f"“{dataset.name}” has no version {opts['version'] or ''}.".replace("  ", " "))
        return version

    def _overrides(self, items: list[str]) -> dict:
        overrides = {}
        for item in items:
            name, sep, text = item.partition("=")
            name = name.strip()
            if not sep or name not in EDITABLE_PARAMS:
                raise CommandError(f"--set {item!r}: use FIELD=VALUE with FIELD one of {', '.join(EDITABLE_PARAMS)}.")
            overrides[name] = _value(name, text.strip())
        return overrides

    def _print_plan(self, plan: dict, validation: str) -> None:
        params = plan.get("params", {})
        self.stdout.write("settings: " + ", ".join(f"{k}={v}" for k, v in params.items()))
        for reason in plan.get("reasons", []):
            self.stdout.write(f"  · {reason}")
        seconds = plan.get("seconds") or plan.get("rough_seconds")
        self.stdout.write(
            f"estimate: {plan.get('train_records')} training / {plan.get('val_records')} validation records "
            f"({validation}), {plan.get('tokens', 0):,} tokens, {plan.get('optimizer_steps')} optimizer steps, "
            f"~{(plan.get('memory_bytes') or 0) / 2**30:.1f} GiB"
            + (f", ~{seconds / 60:.1f} min{' (rough)' if not plan.get('seconds') else ''}" if seconds else ""))

    def _follow(self, run: TrainingRun) -> None:
        """Print each new step and log line until the run stops."""
        shown_step, shown_log, status = 0, 0, None
        while True:
            run.refresh_from_db()
            for step in run.steps.filter(step__gt=shown_step).order_by("step"):
                self.stdout.write(
                    f"step {step.step}/{run.max_steps}  loss {_fmt(step.train_loss)}  val {_fmt(step.val_loss)}  "
                    f"{step.tokens_per_s or 0:.0f} tok/s")
                shown_step = step.step
            new_log = run.log[shown_log:] if len(run.log) >= shown_log else run.log
            for line in new_log.splitlines():
                self.stderr.write(f"  {line}")
            shown_log = len(run.log)
            if run.status != status:
                status = run.status
                position = services.queue_position(run)
                self.stderr.write(f"[{run.get_status_display()}]" + (f" {position} ahead in the queue" if position else ""))
            if run.status in TrainingRun.DONE:
                break
            time.sleep(POLL_S)
        if run.status != TrainingRun.Status.COMPLETED:
            raise CommandError(run.error or f"The run ended {run.get_status_display().lower()}.")
        evaluation = run.evaluation or {}
        before, after = evaluation.get("before", {}), evaluation.get("after", {})
        self.stdout.write(
            f"finished: validation perplexity {_fmt(before.get('perplexity'))} → {_fmt(after.get('perplexity'))}; "
            f"candidate model “{run.model_version.name if run.model_version else run.name}” waits to be promoted.")


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4g}"
