"""Training helpers for generation.finetune: dataset records, tokenization, batching."""
