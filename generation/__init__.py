"""Inkstone's ML library: load models, stream tokens, batch, fine-tune, evaluate.

Usable on its own (`python -m generation --help`). It never imports Django, and it imports
torch/transformers lazily so that `import generation` stays cheap.
"""

from generation.errors import GenerationError

__all__ = ["GenerationError"]
