"""describe_model: what an admin registers as a model is checked without loading weights."""

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generation.errors import GenerationError, InvalidModelError, ModelNotFoundError
from generation.gguf_check import check_gguf
from generation.models import (
    ModelSource,
    ModelSpec,
    classify_source,
    convert_gguf,
    describe_model,
    find_default_gguf,
    load_model,
    resolve_model_dir,
)
from tests.generation.gguf_files import endless_array, header, write_gguf


def test_a_model_directory_is_described_with_an_absolute_path(tiny_model_dir, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)
    info = describe_model(f"./{tiny_model_dir.name}")
    assert info.kind == "model" and info.source == info.spec == str(tiny_model_dir.resolve())
    assert info.base == ""


def test_a_lora_adapter_loads_over_its_recorded_base(tiny_lora_dir, tiny_model_dir):
    info = describe_model(str(tiny_lora_dir))
    assert info.kind == "lora" and info.base == str(tiny_model_dir)
    assert info.metadata["metrics"]["val_loss"] == 2.5
    spec = ModelSpec.parse(info.spec)
    assert spec.source == str(tiny_model_dir) and spec.adapters == (str(tiny_lora_dir),)
    loaded = load_model(info.spec)
    assert loaded.adapter_names and loaded.name.endswith(tiny_lora_dir.name)


def test_the_bundled_model_is_default():
    assert describe_model("default").kind == "default"


@pytest.mark.parametrize("make, error, message", [
    (lambda d: d / "nope", ModelNotFoundError, "model not found"),
    (lambda d: _write(d / "notes.txt", b"hello"), InvalidModelError, "not a .gguf model"),
    (lambda d: _write(d / "broken.gguf", b"PK\x03\x04zip"), InvalidModelError, "bad magic bytes"),
    (lambda d: (d / "empty").mkdir() or d / "empty", InvalidModelError, "no config.json or adapter_config.json"),
    (lambda d: _write(d / "m" / "config.json", b"{not json"), InvalidModelError, "config.json is not valid JSON"),
    (lambda d: _write(d / "m" / "config.json", b'{"hidden_size": 4}'), InvalidModelError, "has no model_type"),
    (lambda d: _write(d / "a" / "adapter_config.json", b"{}"), InvalidModelError, "does not name its base model"),
])
def test_what_is_not_a_model_is_refused_in_one_line(tmp_path, make, error, message):
    target = make(tmp_path)
    path = target.parent if target.name.endswith(".json") else target
    with pytest.raises(error, match=message) as caught:
        describe_model(str(path))
    assert "\n" not in str(caught.value)


def test_a_hub_id_outside_the_local_cache_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))  # an empty cache
    with pytest.raises(ModelNotFoundError, match="nor in the local Hugging Face cache"):
        describe_model("someone/not-downloaded")


def test_an_adapter_over_an_adapter_is_refused(tiny_lora_dir, tmp_path):
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(tiny_lora_dir)}))
    with pytest.raises(InvalidModelError, match="is itself a LoRA adapter"):
        describe_model(str(nested))


def _write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_an_adapter_naming_itself_as_its_base_is_refused(tmp_path):
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(loop)}))
    with pytest.raises(InvalidModelError, match="is itself a LoRA adapter"):
        describe_model(str(loop))


def test_paths_that_would_break_a_spec_are_refused(tmp_path):
    odd = _write(tmp_path / "model?dtype=float16" / "config.json", b'{"model_type": "llama"}').parent
    with pytest.raises(InvalidModelError, match="cannot contain"):
        describe_model(str(odd))


def test_sources_are_told_apart_by_their_text_alone(tiny_model_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "HuggingFaceTB" / "SmolLM2-135M").mkdir(parents=True)  # a folder by that name changes nothing
    assert classify_source("default").kind == "default"
    assert classify_source("HuggingFaceTB/SmolLM2-135M") == ModelSource("hub", "HuggingFaceTB/SmolLM2-135M")
    assert classify_source(str(tiny_model_dir)) == ModelSource("path", str(tiny_model_dir), tiny_model_dir)
    assert classify_source("/no/such/model").path == Path("/no/such/model")
    assert classify_source("models/a/b").path == tmp_path / "models/a/b"
    assert classify_source("voice.gguf").path == tmp_path / "voice.gguf"
    assert classify_source("./x/../y").path == tmp_path / "x/../y"  # .. is left to the file system


# --------------------------------------------------------------------------- GGUF files


def test_the_bundled_gguf_passes_the_check():
    summary = check_gguf(find_default_gguf())
    assert summary.architecture == "llama" and summary.tensors == 272 and summary.version == 3


def test_a_valid_gguf_is_described(tmp_path):
    path = write_gguf(tmp_path / "tiny.gguf")
    info = describe_model(str(path))
    assert info.kind == "gguf" and info.source == info.spec == str(path)


def _cut(path: Path, size: int) -> Path:
    data = path.read_bytes()[:size]
    path.write_bytes(data)
    return path


def _patched(path: Path, old: bytes, new: bytes) -> Path:
    data = path.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    path.write_bytes(data.replace(old, new))
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("make, message", [
    (lambda d: _write(d / "m.gguf", header(tensors=291, kvs=0)),
     "truncated: the tensor table says 291 tensors but the file ends at byte 24"),
    (lambda d: _write(d / "m.gguf", header(tensors=2**63, kvs=0)),
     f"truncated: the tensor table says {2**63} tensors but the file ends at byte 24"),
    (lambda d: _write(d / "m.gguf", header(tensors=1, kvs=2**63)),
     f"truncated: the header says {2**63} metadata entries but the file ends at byte 24"),
    (lambda d: _write(d / "m.gguf", header(tensors=2**64 - 1, kvs=2**64 - 1) + bytes(1000)),
     "metadata entries but the file ends at byte 1024"),
    (lambda d: _write(d / "m.gguf", b"GGUF\x03\x00"), "truncated: a GGUF header is 24 bytes but the file ends at byte 6"),
    (lambda d: _write(d / "m.gguf", header(version=99) + bytes(100)), "GGUF version 99 is not supported"),
    (lambda d: _write(d / "m.gguf", endless_array()), "truncated: its metadata needs bytes up to"),
    (lambda d: _cut(write_gguf(d / "m.gguf"), 200), "truncated: its tensor data needs bytes up to 288 but the file ends at byte 200"),
    (lambda d: _cut(write_gguf(d / "m.gguf"), 120), "truncated: its tensor table needs bytes up to"),
    (lambda d: _patched(write_gguf(d / "m.gguf"), b"general.architecture", b"general.architectur_"),
     "has no general.architecture"),
    (lambda d: _patched(write_gguf(d / "m.gguf"), b"token_embd.weight\x02", b"token_embd.weight\x07"),
     "corrupt tensor table: tensor 'token_embd.weight' has 7 dimensions"),
    (lambda d: _write(d / "m.gguf", header(tensors=0, kvs=0)), "has no tensors"),
    (lambda d: _write(d / "m.gguf", header(tensors=1, kvs=200_000) + bytes(200_000 * 13 + 24)),
     "implausible: the header says 200000 metadata entries and 1 tensors"),
])
def test_a_corrupt_gguf_is_refused_in_one_line(tmp_path, make, message):
    path = make(tmp_path)
    started = time.perf_counter()
    with pytest.raises(InvalidModelError) as caught:
        describe_model(str(path))
    text = str(caught.value)
    assert message in text and text.startswith(f"'{path}': ")
    assert "\n" not in text and time.perf_counter() - started < 5


def test_metadata_arrays_are_checked_without_parsing_each_item(tmp_path, monkeypatch):
    tokens = [f"token-{i}" for i in range(1000)]
    path = write_gguf(tmp_path / "vocab.gguf", arrays={"tokenizer.ggml.tokens": tokens, "tokenizer.ggml.scores": [0.5] * 1000})
    assert check_gguf(path).metadata_entries == 4
    monkeypatch.setattr("generation.gguf_check.MAX_ARRAY_ITEMS", 1500)
    path = write_gguf(tmp_path / "big-vocab.gguf", arrays={"tokenizer.ggml.tokens": tokens, "tokenizer.ggml.scores": [0.5] * 1000})
    with pytest.raises(InvalidModelError, match="implausible: its metadata arrays hold more than 1,500 items"):
        check_gguf(path)


@pytest.fixture(scope="module")
def mutants(tmp_path_factory):
    """A folder for mutated GGUF files, each under a new name (the check is cached per file)."""
    folder = tmp_path_factory.mktemp("mutants")
    return folder, write_gguf(folder / "original.gguf", arrays={"tokenizer.ggml.tokens": ["a", "bb", "ccc"]}).read_bytes(), []


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6), keep=st.integers(0, 400))
def test_any_damage_to_a_gguf_is_accepted_or_refused_in_one_line(mutants, changes, keep):
    folder, original, made = mutants
    data = bytearray(original)
    for offset, value in changes:
        if offset < len(data):
            data[offset] = value
    path = folder / f"m{len(made)}.gguf"
    made.append(path)
    path.write_bytes(bytes(data[: max(keep, 4)] if keep < len(data) else data))
    started = time.perf_counter()
    try:
        check_gguf(path)
    except InvalidModelError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"'{path}': ")
    assert time.perf_counter() - started < 2


def test_a_corrupt_gguf_is_refused_before_it_is_converted(tmp_path):
    bad = _write(tmp_path / "m.gguf", endless_array())
    cache = tmp_path / "models"
    with pytest.raises(InvalidModelError, match="truncated: its metadata"):
        resolve_model_dir(str(bad), cache_dir=cache)
    with pytest.raises(InvalidModelError, match="truncated: its metadata"):
        convert_gguf(bad, cache / "out")
    assert not cache.exists() or list(cache.iterdir()) == []


# --------------------------------------------------------------------------- odd paths


@pytest.mark.parametrize("source, message", [
    ("~nosuchuser/models/x", "~user paths are not expanded"),
    ("~root/models", "~user paths are not expanded"),  # a real account: still not expanded
    ("/tmp/" + "a" * 300 + "/m", "a folder or file name in it is longer than 255 bytes"),
    ("/m/" + "a/" * 3000, "is too long"),
    ("/models/x\x00y", "cannot contain control characters"),
    ("/models/x\ny", "cannot contain control characters"),
    ("/models/\ud800", "is not valid UTF-8 text"),
    ("/models/x?dtype=float16", "cannot contain ? or &"),
    ("/proc/self/cwd", "is not a model directory"),
    ("no-such/folder/model", "model not found: 'no-such/folder/model'"),
    ("./missing.gguf", "model not found: './missing.gguf'"),
    ("~/no-such-model-here", "model not found: '~/no-such-model-here'"),
], ids=lambda value: value[:40])
def test_odd_paths_are_refused_quoting_what_was_typed(source, message, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(GenerationError) as caught:
        describe_model(source)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert _reveals_nothing(text, source)


def _reveals_nothing(text: str, typed: str) -> bool:
    """No working folder, process id or home folder that the user did not type."""
    secrets = [os.getcwd(), f"/proc/{os.getpid()}", str(Path.home())]
    return not any(secret in text and secret not in typed for secret in secrets)


def test_a_symlink_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(InvalidModelError, match="symbolic links go round in a loop") as caught:
        describe_model(str(tmp_path / "a" / "model"))
    assert str(caught.value).startswith(f"'{tmp_path}/a/model': ")


def test_a_link_to_a_path_that_would_break_a_spec_is_refused(tiny_model_dir, tmp_path):
    import shutil

    shutil.copytree(tiny_model_dir, tmp_path / "m?dtype=float16")
    (tmp_path / "plain").symlink_to(tmp_path / "m?dtype=float16")
    with pytest.raises(InvalidModelError) as caught:
        describe_model(str(tmp_path / "plain"))
    assert str(caught.value) == f"'{tmp_path}/plain': the real path it leads to cannot contain ? or & (they start a spec's options)"


def test_home_relative_paths_name_the_home_of_the_account_running_inkstone(tiny_model_dir, monkeypatch):
    monkeypatch.setenv("HOME", str(tiny_model_dir.parent))
    info = describe_model(f"~/{tiny_model_dir.name}")
    assert info.kind == "model" and info.source == str(tiny_model_dir.resolve())


def test_an_unreadable_model_is_refused_with_the_reason(tiny_model_dir, tmp_path):
    """A folder the server may not enter. Root reads everything, so as root the check runs in a
    forked child that has become `nobody`."""
    import pwd
    import shutil

    locked = tmp_path / "locked"
    shutil.copytree(tiny_model_dir, locked / "model")
    (locked / "model").chmod(0o000)
    for parent in (locked, *locked.parents):
        if not parent.stat().st_mode & 0o001:
            parent.chmod(parent.stat().st_mode | 0o111)  # let `nobody` reach it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            describe_model(str(locked / "model"))
            result = "accepted"
        except Exception as exc:
            result = f"{type(exc).__name__} {exc}"
        os.write(write, result.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result = pipe.read()
    os.waitpid(child, 0)
    assert result == f"InvalidModelError '{locked}/model': cannot read inkstone.json in it (Permission denied)"


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(["", "/", "./", "../", "~", "~/", "/proc/self/", "/tmp/", "a/b/"]),
       rest=st.text(max_size=80))
def test_any_text_is_a_model_or_one_clear_line(prefix, rest):
    source = prefix + rest
    try:
        describe_model(source)
    except GenerationError as exc:
        text = str(exc)
        assert text and "\n" not in text and _reveals_nothing(text, source)


# --------------------------------------------------------------------------- odd JSON files


@pytest.mark.timeout(60)
@pytest.mark.parametrize("files, message", [
    ({"config.json": b" " * (2 << 20) + b"{}"}, "config.json is 2097154 bytes"),
    ({"config.json": b"[" * 100_000}, "config.json is nested too deeply"),
    ({"config.json": b'{"model_type": "llama", "n": ' + b"1" * 5000 + b"}"}, "config.json is not valid JSON"),
    ({"config.json": b'{"model_type": 5}'}, "config.json: model_type must be a non-empty string"),
    ({"config.json": b"\xff\xfe{}"}, "config.json is not UTF-8 text"),
    ({"config.json": b'{"model_type": "llama"}', "inkstone.json": b'{"metrics": [1, 2]}'},
     "inkstone.json: metrics must be an object of numbers"),
    ({"config.json": b'{"model_type": "llama"}', "inkstone.json": b'{"metrics": {"val_loss": NaN}}'},
     "inkstone.json is not valid JSON: NaN is not allowed"),
    ({"config.json": b'{"model_type": "llama"}', "inkstone.json": b'{"params": "lr=1"}'},
     "inkstone.json: params must be an object"),
    ({"adapter_config.json": b'{"base_model_name_or_path": 42}'}, "adapter_config.json: base_model_name_or_path must be"),
    ({"adapter_config.json": b"{}", "inkstone.json": b'{"base_model": ["x"]}'}, "inkstone.json: base_model must be"),
    ({"adapter_config.json": b'{"base_model_name_or_path": "/models/x\\u0000"}'},
     "its base model cannot be used: '/models/x\\x00': a model source cannot contain control characters"),
    ({"adapter_config.json": b'{"base_model_name_or_path": "~someone/base"}'}, "~user paths are not expanded"),
    ({"config.json": b'{"model_type": "llama"}', "inkstone.json": b'{"params": {"note": "a\\u0000b"}}'},
     "inkstone.json holds text that cannot be stored"),
    ({"config.json": b'{"model_type": "llama"}', "inkstone.json": b'{"data_hash": "\\ud800"}'},
     "inkstone.json holds text that cannot be stored"),
])
def test_odd_model_files_are_refused_naming_the_file(tmp_path, files, message):
    model = tmp_path / "m"
    for name, data in files.items():
        _write(model / name, data)
    with pytest.raises(InvalidModelError) as caught:
        describe_model(str(model))
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["config.json", "inkstone.json", "adapter_config.json"])
def test_a_model_file_that_is_a_pipe_is_refused_without_waiting(tmp_path, name):
    model = tmp_path / "m"
    _write(model / "config.json", b'{"model_type": "llama"}')
    (model / name).unlink(missing_ok=True)
    os.mkfifo(model / name)
    with pytest.raises(InvalidModelError, match=f"{name} is not a regular file"):
        describe_model(str(model))
