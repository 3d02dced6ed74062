"""django-q2 tasks: take ids only, load, call the runner. Safe to run twice."""


def run_generation(generation_id: int) -> None:
    from articles.runner import run_generation as run

    run(generation_id)
