"""Helpers for the training tests: runs, steps and datasets made directly."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

QUOTES = [
    "The sea does not reward those who are too anxious.",
    "A calm sea never made a skilled sailor.",
    "Ships are safe in harbour, but that is not what ships are for.",
    "We cannot direct the wind, but we can adjust the sails.",
    "The pessimist complains about the wind; the optimist expects it to change.",
    "Smooth seas do not make skilful sailors.",
    "To reach a port we must sail, not drift or lie at anchor.",
    "The cure for anything is salt water: sweat, tears or the sea.",
    "He that will not sail till all dangers are over must never put to sea.",
    "A ship in port is safe, but that is not what ships are built for.",
    "Land was created to provide a place for boats to visit.",
    "The wind and the waves are always on the side of the ablest navigators.",
]


def upload(workspace, user, name: str, texts: list[str]):
    from corpora.services import dataset_create_from_upload

    body = "".join(json.dumps({"text": t}) + "\n" for t in texts).encode()
    return dataset_create_from_upload(workspace=workspace, user=user, name=name,
                                      files=[SimpleUploadedFile("texts.jsonl", body)])


def make_run(workspace, user=None, name="sea-v1-lora", **fields):
    from training.models import TrainingRun

    defaults = {"dataset_label": "Sea quotes v1", "base_label": "tiny", "base_spec": "tiny",
                "output_dir": f"/tmp/inkstone-test-adapters/{workspace.pk}/{name}", "max_steps": 10,
                "params": {"learning_rate": 0.001, "batch_size": 4, "lora_r": 16, "pack": False}}
    return TrainingRun.objects.create(workspace=workspace, name=name, created_by=user, **{**defaults, **fields})


def add_steps(run, count: int, start: int = 1, val_every: int = 0):
    from training.models import TrainingStep

    for step in range(start, start + count):
        TrainingStep.objects.create(run=run, step=step, train_loss=3.0 / step ** 0.5,
                                    val_loss=(2.5 / step ** 0.5) if val_every and step % val_every == 0 else None)
