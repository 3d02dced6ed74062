"""django-q2 tasks of the `training` cluster: take ids only, call the runner. Safe to run twice."""


def run_training(run_id: int) -> None:
    from training.runner import run_training as run

    run(run_id)
