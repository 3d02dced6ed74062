"""Training helpers around generation.finetune.

data: dataset records, tokenization, batching. presets: `plan_training` (settings that fit the
data, with reasons and estimates). failures: `explain` (a failed run in plain words). launch:
`train` in this process or data-parallel over several. report: `compare_models` (base vs tuned).
"""
