"""Policy files that load without running code: weights as ``.npy`` arrays, arguments as JSON.

A trained policy is saved as a zip archive (stored, not compressed) of

* ``rlbench3-policy.json``: the format name and version, the policy class (one of
  :data:`POLICY_CLASSES`), its constructor arguments as JSON (Gymnasium spaces as plain
  descriptions, classes such as ``activation_fn`` by name from :data:`ARGUMENT_CLASSES`), and the
  list of tensors;
* ``tensors/NNNN.npy``: the state dict, one array per tensor, in NumPy's ``.npy`` format.

Reading it parses JSON and ``.npy`` headers (``allow_pickle=False``) and nothing else: no pickle,
so a policy file from someone else's results folder cannot execute code when it is loaded.
Anything that is not such an archive (SB3's ``policy.save`` format, which is a pickle, or a
tampered file) is refused with :class:`PolicyFileError`. The bytes are a pure function of the
policy (sorted JSON, fixed zip timestamps), so the same run gives the same file everywhere.

The helpers here (:func:`policy_bytes`, :func:`load_policy_bytes`) know nothing about results
folders; :func:`rlbench3.analysis.results.load_policy` checks a file against its record first.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import zipfile
from typing import Any

FORMAT_NAME = "rlbench3-policy"
FORMAT_VERSION = 1
MANIFEST = "rlbench3-policy.json"

# The policy classes a file may name ("module:qualname", as the run's record names them).
POLICY_CLASSES = (
    "stable_baselines3.common.policies:ActorCriticPolicy",
    "stable_baselines3.common.policies:ActorCriticCnnPolicy",
    "stable_baselines3.common.policies:MultiInputActorCriticPolicy",
    "stable_baselines3.dqn.policies:DQNPolicy",
    "stable_baselines3.dqn.policies:CnnPolicy",
    "stable_baselines3.dqn.policies:MultiInputPolicy",
    "stable_baselines3.sac.policies:SACPolicy",
    "stable_baselines3.sac.policies:CnnPolicy",
    "stable_baselines3.sac.policies:MultiInputPolicy",
    "stable_baselines3.td3.policies:TD3Policy",
    "stable_baselines3.td3.policies:CnnPolicy",
    "stable_baselines3.td3.policies:MultiInputPolicy",
    "sb3_contrib.ars.policies:ARSPolicy",
    "sb3_contrib.ars.policies:ARSLinearPolicy",
)
# Classes a constructor argument may name (activations, optimizers, feature extractors).
ARGUMENT_CLASSES = (
    *(
        f"torch.nn:{name}"
        for name in (
            "Tanh",
            "ReLU",
            "ELU",
            "LeakyReLU",
            "GELU",
            "SiLU",
            "Mish",
            "SELU",
            "CELU",
            "Sigmoid",
            "Softplus",
            "Softsign",
            "Hardtanh",
            "Identity",
        )
    ),
    *(f"torch.optim:{name}" for name in ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad")),
    "stable_baselines3.common.sb2_compat.rmsprop_tf_like:RMSpropTFLike",
    "stable_baselines3.common.torch_layers:FlattenExtractor",
    "stable_baselines3.common.torch_layers:NatureCNN",
    "stable_baselines3.common.torch_layers:CombinedExtractor",
)
# Array dtypes a tensor or a space may have.
DTYPES = (
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
)


class PolicyFileError(ValueError):
    """A policy file that is not a readable rlbench3 weights-only policy (refused unread)."""


# --------------------------------------------------------------------------------------------
# Writing


def class_name(cls: type) -> str:
    """``"module:qualname"`` of a class, as records and policy files name it."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _public_name(cls: type, allowed: tuple[str, ...]) -> str | None:
    """The allowed name of ``cls``: its own, or the public module it is exported from
    (``torch.nn.modules.activation:Tanh`` is ``torch.nn:Tanh``)."""
    for name in allowed:
        module, _, attr = name.partition(":")
        if attr == cls.__qualname__ and _resolve(name) is cls:
            return name
    return None


def _encode(value: Any, where: str) -> Any:
    import gymnasium as gym
    import numpy as np

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, gym.spaces.Space):
        return {"__space__": encode_space(value, where)}
    if isinstance(value, type):
        name = _public_name(value, ARGUMENT_CLASSES)
        if name is None:
            raise PolicyFileError(
                f"{where}: class {class_name(value)} cannot be saved in a weights-only policy "
                f"file (allowed: {', '.join(ARGUMENT_CLASSES)})"
            )
        return {"__class__": name}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise PolicyFileError(f"{where}: only string keys can be saved, got {list(value)}")
        if any(k.startswith("__") for k in value):
            raise PolicyFileError(f"{where}: keys starting with '__' are reserved")
        return {k: _encode(v, f"{where}.{k}") for k, v in value.items()}
    raise PolicyFileError(
        f"{where}: a {type(value).__name__} cannot be saved in a weights-only policy file"
    )


def encode_space(space: Any, where: str = "space") -> dict[str, Any]:
    """A Gymnasium space as plain JSON data (:func:`decode_space` rebuilds it)."""
    import gymnasium as gym
    import numpy as np

    spaces = gym.spaces
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": np.dtype(space.dtype).name,
            "low": space.low.tolist(),
            "high": space.high.tolist(),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {
            "type": "MultiDiscrete",
            "nvec": space.nvec.tolist(),
            "start": space.start.tolist(),
            "dtype": np.dtype(space.dtype).name,
        }
    if isinstance(space, spaces.MultiBinary):
        n = space.n
        return {"type": "MultiBinary", "n": n.tolist() if isinstance(n, np.ndarray) else n}
    if isinstance(space, spaces.Dict):
        return {
            "type": "Dict",
            "spaces": [[k, encode_space(s, f"{where}.{k}")] for k, s in space.spaces.items()],
        }
    if isinstance(space, spaces.Tuple):
        return {
            "type": "Tuple",
            "spaces": [encode_space(s, f"{where}[{i}]") for i, s in enumerate(space.spaces)],
        }
    raise PolicyFileError(f"{where}: a {type(space).__name__} space cannot be saved")


def _npy(array: Any) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=(1, 0), allow_pickle=False)
    return buffer.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def constructor_arguments(policy: Any) -> dict[str, Any]:
    """The arguments that rebuild ``policy``: SB3's ``_get_constructor_parameters()``, less
    those its class's constructor does not take (sb3-contrib's ``ARSLinearPolicy`` reports a
    ``net_arch`` its constructor refuses)."""
    arguments = dict(policy._get_constructor_parameters())
    accepted = inspect.signature(type(policy).__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in accepted.values()):
        arguments = {k: v for k, v in arguments.items() if k in accepted}
    return arguments


def policy_bytes(policy: Any) -> bytes:
    """``policy`` (an SB3 policy of a class in :data:`POLICY_CLASSES`) as a weights-only file."""
    import numpy as np

    name = class_name(type(policy))
    if name not in POLICY_CLASSES:
        raise PolicyFileError(
            f"policy class {name} cannot be saved in a weights-only policy file "
            f"(allowed: {', '.join(POLICY_CLASSES)})"
        )
    arguments = {}
    for key, value in sorted(constructor_arguments(policy).items()):
        if key == "lr_schedule":  # only builds the optimizer; a loaded policy is not trained
            arguments[key] = {"__schedule__": None}
        else:
            arguments[key] = _encode(value, key)
    tensors, files = [], {}
    for i, (key, tensor) in enumerate(policy.state_dict().items()):
        array = np.ascontiguousarray(tensor.detach().cpu().numpy())
        if array.dtype.name not in DTYPES:
            raise PolicyFileError(f"tensor {key}: dtype {array.dtype} cannot be saved")
        file = f"tensors/{i:04d}.npy"
        tensors.append(
            {"name": key, "file": file, "dtype": array.dtype.name, "shape": list(array.shape)}
        )
        files[file] = _npy(array)
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "class": name,
        "arguments": arguments,
        "tensors": tensors,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        text = json.dumps(manifest, sort_keys=True, indent=1, allow_nan=True)
        archive.writestr(_entry(MANIFEST), text.encode())
        for file, data in files.items():
            archive.writestr(_entry(file), data)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Reading


def _resolve(name: str) -> Any:
    module, _, attr = name.partition(":")
    value: Any = importlib.import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def _refuse(message: str) -> PolicyFileError:
    return PolicyFileError(f"not a weights-only rlbench3 policy file: {message}")


def _describe_foreign(data: bytes) -> str:
    """What a file that is not ours looks like (for the error message)."""
    if data[:1] == b"\x80":
        return "a raw Python pickle; it is refused because unpickling it could run arbitrary code"
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return "a damaged zip archive"
        if any(n.endswith("data.pkl") for n in names):
            return (
                "a torch/SB3 pickle archive (SB3's policy.save format, written by rlbench3 "
                "before 0.3); it is refused because unpickling it could run arbitrary code; "
                "run the suite again into a new results folder"
            )
        return f"a zip archive without {MANIFEST}"
    return "unknown contents"


def is_policy_file(data: bytes) -> bool:
    """Whether ``data`` looks like a weights-only policy file (its manifest is present)."""
    if data[:4] != b"PK\x03\x04":
        return False
    try:
        return MANIFEST in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _checked(value: Any, types: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
        raise _refuse(f"{where}: unexpected {type(value).__name__}")
    return value


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def decode_space(data: Any, where: str = "space") -> Any:
    """The Gymnasium space described by :func:`encode_space`'s output (validated)."""
    import gymnasium as gym
    import numpy as np

    spaces = gym.spaces
    _checked(data, dict, where)
    kind = data.get("type")
    try:
        if kind == "Box":
            dtype = _checked(data["dtype"], str, f"{where}.dtype")
            if dtype not in DTYPES:
                raise _refuse(f"{where}.dtype: {dtype!r}")
            shape = tuple(_checked(s, int, f"{where}.shape") for s in data["shape"])
            low = np.array(data["low"], dtype=dtype)
            high = np.array(data["high"], dtype=dtype)
            if low.shape != shape or high.shape != shape:
                raise _refuse(f"{where}: bounds do not have the shape {shape}")
            return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
        if kind == "Discrete":
            n = _checked(data["n"], int, f"{where}.n")
            return spaces.Discrete(n, start=_checked(data["start"], int, f"{where}.start"))
        if kind == "MultiDiscrete":
            dtype = _checked(data["dtype"], str, f"{where}.dtype")
            if dtype not in DTYPES:
                raise _refuse(f"{where}.dtype: {dtype!r}")
            nvec = np.array(data["nvec"], dtype=np.int64)
            start = np.array(data["start"], dtype=np.int64)
            return spaces.MultiDiscrete(nvec, dtype=dtype, start=start)
        if kind == "MultiBinary":
            n = data["n"]
            return spaces.MultiBinary(n if isinstance(n, int) else [int(k) for k in n])
        if kind == "Dict":
            return spaces.Dict(
                {
                    _checked(k, str, where): decode_space(s, f"{where}.{k}")
                    for k, s in _checked(data["spaces"], list, where)
                }
            )
        if kind == "Tuple":
            return spaces.Tuple(
                [decode_space(s, f"{where}[{i}]") for i, s in enumerate(data["spaces"])]
            )
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, PolicyFileError):
            raise
        raise _refuse(f"{where}: {type(err).__name__}: {err}") from None
    raise _refuse(f"{where}: unknown space type {kind!r}")


def _constant_schedule(_: float) -> float:
    return 0.0


def _decode(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if "__space__" in value:
            return decode_space(value["__space__"], where)
        if "__class__" in value:
            name = value["__class__"]
            if name not in ARGUMENT_CLASSES:
                raise _refuse(f"{where}: class {name!r} is not allowed")
            return _resolve(name)
        if "__schedule__" in value:
            return _constant_schedule
        if any(k.startswith("__") for k in value):
            raise _refuse(f"{where}: unknown tag in {sorted(value)}")
        return {k: _decode(v, f"{where}.{k}") for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise _refuse(f"{where}: unexpected {type(value).__name__}")


def read_policy_file(data: bytes) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(class name, constructor arguments, state dict of numpy arrays)`` of a policy file,
    validated; raises :class:`PolicyFileError` for anything else."""
    import numpy as np

    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    if not is_policy_file(bytes(data)):
        raise _refuse(_describe_foreign(bytes(data)))
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = {info.filename: info for info in archive.infolist()}
    if len(infos) != len(archive.infolist()):
        raise _refuse("duplicate archive entries")
    if sum(info.file_size for info in infos.values()) > len(data):
        raise _refuse("entries larger than the archive (compressed entries are not written)")
    if any(info.compress_type != zipfile.ZIP_STORED for info in infos.values()):
        raise _refuse("compressed entries (rlbench3 stores them uncompressed)")
    try:
        manifest = json.loads(archive.read(MANIFEST).decode())
    except (UnicodeDecodeError, ValueError, zipfile.BadZipFile) as err:
        raise _refuse(f"{MANIFEST} is not valid JSON ({err})") from None
    _checked(manifest, dict, MANIFEST)
    if manifest.get("format") != FORMAT_NAME:
        raise _refuse(f"format {manifest.get('format')!r}, expected {FORMAT_NAME!r}")
    if manifest.get("version") != FORMAT_VERSION:
        raise PolicyFileError(
            f"policy file version {manifest.get('version')!r}; this rlbench3 reads version "
            f"{FORMAT_VERSION}"
        )
    name = _checked(manifest.get("class"), str, "class")
    if name not in POLICY_CLASSES:
        raise _refuse(f"policy class {name!r} is not one of the allowed classes")
    arguments = _decode(_checked(manifest.get("arguments"), dict, "arguments"), "arguments")
    state: dict[str, Any] = {}
    expected_files = {MANIFEST}
    for i, entry in enumerate(_checked(manifest.get("tensors"), list, "tensors")):
        where = f"tensors[{i}]"
        _checked(entry, dict, where)
        key = _checked(entry.get("name"), str, f"{where}.name")
        file = _checked(entry.get("file"), str, f"{where}.file")
        dtype = _checked(entry.get("dtype"), str, f"{where}.dtype")
        shape = tuple(_checked(s, int, f"{where}.shape") for s in entry.get("shape", [None]))
        if file not in infos or file in expected_files or key in state:
            raise _refuse(f"{where}: missing or repeated entry {file!r} / {key!r}")
        expected_files.add(file)
        try:
            with archive.open(file) as fh:
                array = np.lib.format.read_array(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
            raise _refuse(f"{where}: not a plain .npy array ({err})") from None
        if array.dtype.name != dtype or dtype not in DTYPES or array.shape != shape:
            raise _refuse(f"{where}: holds {array.dtype}{array.shape}, says {dtype}{shape}")
        state[key] = array
    if set(infos) != expected_files:
        raise _refuse(f"unexpected entries {sorted(set(infos) - expected_files)}")
    return name, arguments, state


def load_policy_bytes(data: bytes, *, expected_class: str | None = None) -> Any:
    """The SB3 policy saved by :func:`policy_bytes`, on the CPU (no pickle involved).

    ``expected_class`` (``"module:qualname"``, e.g. the record's ``meta.policy_class``) must
    match the file's class when given.
    """
    import torch

    name, arguments, state = read_policy_file(data)
    if expected_class is not None and name != expected_class:
        raise PolicyFileError(f"the policy file holds a {name}, its record says {expected_class}")
    policy_class = _resolve(name)
    accepted = inspect.signature(policy_class.__init__).parameters
    missing = [
        p
        for p, spec in accepted.items()
        if p != "self"
        and spec.default is inspect.Parameter.empty
        and spec.kind not in (spec.VAR_KEYWORD, spec.VAR_POSITIONAL)
        and p not in arguments
    ]
    if missing or not all(k in accepted for k in arguments):
        raise _refuse(f"arguments {sorted(arguments)} do not fit {name} (missing {missing})")
    try:
        policy = policy_class(**arguments)
        tensors = {k: torch.from_numpy(v.copy()) for k, v in state.items()}
        policy.load_state_dict(tensors, strict=True)
    except (RuntimeError, TypeError, ValueError, AssertionError) as err:
        raise _refuse(f"the weights do not fit a {name} ({str(err).splitlines()[0]})") from None
    return policy.to("cpu")
