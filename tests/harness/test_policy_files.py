"""Weight-only policy files: every shipped algorithm's policy round-trips, nothing is unpickled.

A policy file from someone else's results folder must never run code when it is loaded. These
tests build policies without training (constructors only), save them with
:func:`policy_bytes`, and check that loading gives the same actions; then they feed the loader
SB3's own pickle format, crafted pickles whose payload would create a file, and tampered
archives, and check each is refused with a clear message and the payload never ran.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.agents.config import load_policy_bytes as reexported_load
from rlbench3.agents.config import policy_bytes as reexported_bytes
from rlbench3.agents.policy_files import (
    MANIFEST,
    PolicyFileError,
    class_name,
    load_policy_bytes,
    policy_bytes,
    read_policy_file,
)
from rlbench3.analysis.results import load_policy
from rlbench3.harness.storage import RunStore

LOCK = "rlbench3/CombinationLock-v0"
REACH = "rlbench3/SparseReach-v0"

# (algorithm, policy name, env id): every policy class the shipped agents train.
CASES = [
    ("PPO", "MlpPolicy", LOCK),
    ("PPO", "MlpPolicy", REACH),
    ("A2C", "MlpPolicy", LOCK),
    ("DQN", "MlpPolicy", LOCK),
    ("SAC", "MlpPolicy", REACH),
    ("TD3", "MlpPolicy", REACH),
    ("ARS", "LinearPolicy", LOCK),
    ("ARS", "LinearPolicy", REACH),
    ("TRPO", "MlpPolicy", REACH),
]


def make_policy(algo: str, policy: str, env_id: str):
    import sb3_contrib
    import stable_baselines3

    module = sb3_contrib if algo in ("ARS", "TRPO") else stable_baselines3
    kwargs = {"policy_kwargs": {"net_arch": [8, 8]}} if algo in ("SAC", "TD3") else {}
    model = getattr(module, algo)(policy, env_id, seed=3, device="cpu", **kwargs)
    return model.policy


def observations(env_id: str, n: int = 5) -> np.ndarray:
    env = gym.make(env_id)
    return np.stack([env.reset(seed=i)[0] for i in range(n)])


@pytest.mark.parametrize(("algo", "policy", "env_id"), CASES, ids=lambda v: str(v))
def test_every_policy_class_round_trips_and_acts_the_same(algo, policy, env_id):
    original = make_policy(algo, policy, env_id)
    data = policy_bytes(original)
    assert data == policy_bytes(original)  # a pure function of the policy: byte-identical
    loaded = load_policy_bytes(data, expected_class=class_name(type(original)))
    assert type(loaded) is type(original)
    obs = observations(env_id)
    for deterministic in (True,):
        expected, _ = original.predict(obs, deterministic=deterministic)
        actual, _ = loaded.predict(obs, deterministic=deterministic)
        np.testing.assert_array_equal(actual, expected)
    for (k1, v1), (k2, v2) in zip(original.state_dict().items(), loaded.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)
    # The file is plain data: a zip of JSON and .npy entries, stored uncompressed.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names[0] == MANIFEST and all(n.endswith(".npy") for n in names[1:])
        manifest = json.loads(archive.read(MANIFEST))
    assert manifest["class"] == class_name(type(original))
    assert reexported_bytes is policy_bytes and reexported_load is load_policy_bytes


def test_spaces_and_argument_classes_are_described_as_data():
    data = policy_bytes(make_policy("PPO", "MlpPolicy", REACH))
    name, arguments, state = read_policy_file(data)
    assert name == "stable_baselines3.common.policies:ActorCriticPolicy"
    assert isinstance(arguments["observation_space"], gym.spaces.Box)
    assert arguments["activation_fn"] is torch.nn.Tanh
    assert all(isinstance(v, np.ndarray) for v in state.values())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    assert manifest["arguments"]["activation_fn"] == {"__class__": "torch.nn:Tanh"}
    assert manifest["arguments"]["action_space"]["__space__"]["type"] == "Box"


# --------------------------------------------------------------------------------------------
# Refused without being unpickled


class Payload:
    """Unpickling this creates a file (standing in for os.system)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def tampered(data: bytes, edit) -> bytes:
    """``data`` with its manifest edited by ``edit(manifest)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == MANIFEST:
                manifest = json.loads(content)
                edit(manifest)
                content = json.dumps(manifest).encode()
            archive.writestr(info.filename, content)
    return out.getvalue()


def test_crafted_pickles_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    raw = pickle.dumps(Payload(marker))
    archive = io.BytesIO()
    torch.save({"state_dict": {}, "data": Payload(marker)}, archive)
    for data, message in (
        (raw, "raw Python pickle"),
        (archive.getvalue(), "torch/SB3 pickle archive"),
    ):
        with pytest.raises(PolicyFileError, match=message):
            load_policy_bytes(data)
        assert not marker.exists()
    pickle.loads(raw)  # the payload works: the loader refused it, it did not fail to run it
    assert marker.exists()


def test_sb3_policy_save_files_are_refused_with_the_reason():
    policy = make_policy("PPO", "MlpPolicy", LOCK)
    buffer = io.BytesIO()
    policy.save(buffer)
    with pytest.raises(PolicyFileError, match=r"SB3's policy.save format.*could run arbitrary"):
        load_policy_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update({"class": "os:system"}), "policy class 'os:system' is not one"),
        (
            lambda m: m["arguments"].update({"activation_fn": {"__class__": "os:system"}}),
            "class 'os:system' is not allowed",
        ),
        (
            lambda m: m["arguments"].update({"activation_fn": {"__reduce__": "x"}}),
            "unknown tag",
        ),
        (lambda m: m.update({"format": "other"}), "format 'other'"),
        (lambda m: m.update({"version": 99}), "version 99"),
        (lambda m: m["tensors"][0].update({"shape": [1]}), "holds float32"),
        (lambda m: m["tensors"].pop(), "unexpected entries"),
        (lambda m: m["arguments"].update({"surprise": 1}), "do not fit"),
    ],
)
def test_tampered_manifests_are_refused(edit, message):
    data = policy_bytes(make_policy("PPO", "MlpPolicy", LOCK))
    with pytest.raises(PolicyFileError, match=message):
        load_policy_bytes(tampered(data, edit))


def test_object_arrays_and_compressed_or_foreign_archives_are_refused():
    data = policy_bytes(make_policy("ARS", "LinearPolicy", LOCK))
    source = zipfile.ZipFile(io.BytesIO(data))
    # an .npy entry holding pickled objects: numpy refuses it without allow_pickle
    objects = io.BytesIO()
    np.save(objects, np.array([Payload(Path("/nonexistent/x"))], dtype=object), allow_pickle=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for info in source.infolist():
            body = source.read(info.filename)
            npy = info.filename.endswith(".npy")
            archive.writestr(info.filename, objects.getvalue() if npy else body)
    with pytest.raises(PolicyFileError, match="not a plain .npy array"):
        load_policy_bytes(out.getvalue())
    compressed = io.BytesIO()
    with zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info.filename))
    with pytest.raises(PolicyFileError, match="compressed entries"):
        load_policy_bytes(compressed.getvalue())
    for junk, message in ((b"", "unknown contents"), (b"PK\x03\x04junk", "damaged zip")):
        with pytest.raises(PolicyFileError, match=message):
            load_policy_bytes(junk)


def test_load_policy_refuses_an_old_pickled_policy_file_in_a_results_folder(
    tmp_path, make_config, make_record
):
    """A results folder written by an older rlbench3 (SB3 pickle policies, valid sha256): the
    record is fine, the policy is refused, the payload never runs."""
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    torch.save({"state_dict": {}, "data": Payload(marker)}, buffer)
    config, record = make_config(), make_record()
    record["meta"]["policy_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    record["meta"]["policy_class"] = "stable_baselines3.common.policies:ActorCriticPolicy"
    store = RunStore(tmp_path / "out")
    store.write_policy(config.run_id, buffer.getvalue())
    store.write(config, record)
    assert store.status(config.run_id).state == "finished"  # the file is the one recorded
    with pytest.raises(PolicyFileError, match=r"policies/.*\.pt: not a weights-only"):
        load_policy(store.root, config.run_id)
    assert not marker.exists()


def test_load_policy_checks_the_class_against_the_record(tmp_path, make_config, make_record):
    data = policy_bytes(make_policy("ARS", "LinearPolicy", LOCK))
    config, record = make_config(), make_record()
    record["meta"]["policy_sha256"] = hashlib.sha256(data).hexdigest()
    record["meta"]["policy_class"] = "stable_baselines3.dqn.policies:DQNPolicy"
    store = RunStore(tmp_path / "out")
    store.write_policy(config.run_id, data)
    store.write(config, record)
    with pytest.raises(PolicyFileError, match="its record says .*DQNPolicy"):
        load_policy(store.root, config.run_id)
    record["meta"]["policy_class"] = "sb3_contrib.ars.policies:ARSLinearPolicy"
    store.write(config, record)
    assert type(load_policy(store.root, config.run_id)).__name__ == "ARSLinearPolicy"


def test_an_unsupported_policy_class_cannot_be_saved():
    class Custom(torch.nn.Module):
        pass

    with pytest.raises(PolicyFileError, match="cannot be saved"):
        policy_bytes(Custom())
