"""Token counts with the default model's tokenizer, loaded once per process."""

import functools

from django.conf import settings


@functools.cache
def default_tokenizer():
    """The default model's fast tokenizer.

    `tokenizers` reads the model directory's tokenizer.json directly (the same ids as
    transformers' AutoTokenizer, without importing transformers: 0.4 s instead of ~8 s).
    """
    from generation.models import ModelSpec, resolve_model_dir

    directory = resolve_model_dir(ModelSpec.parse(settings.INKSTONE_DEFAULT_MODEL).base)
    path = directory / "tokenizer.json"
    if path.is_file():
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(path))
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(directory).backend_tokenizer


def count_tokens(texts: list[str]) -> list[int]:
    if not texts:
        return []
    return [len(encoding.ids) for encoding in default_tokenizer().encode_batch(texts)]
