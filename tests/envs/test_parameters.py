"""The shared parameter mechanism: validation, distributions, sampling."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import numpy as np
import pytest

from rlbench3.envs.parameters import Distribution, EnvParams, choice, number, parse_distribution


@dataclass(frozen=True)
class ToyParams(EnvParams):
    family = "Toy"

    size: int = number(3, ge=1, integer=True, randomizable=False)
    mass: float = number(1.0, gt=0.0)
    fraction: float = number(0.5, ge=0.0, le=1.0)
    seed: int = number(0, ge=0, integer=True)
    mode: str = choice("a", ("a", "b"))


def test_defaults_and_fixed_values_are_normalised():
    p = ToyParams()
    assert (p.size, p.mass, p.fraction, p.seed, p.mode) == (3, 1.0, 0.5, 0, "a")
    p = ToyParams(mass=2, seed=np.int64(4), size=5.0)
    assert isinstance(p.mass, float) and isinstance(p.seed, int) and p.size == 5
    assert p.randomized == ()


def test_params_are_frozen():
    with pytest.raises(FrozenInstanceError):
        ToyParams().mass = 3.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"size": 0}, ValueError, r"size must be an integer >= 1, got 0"),
        ({"size": 2.5}, TypeError, r"size must be an integer >= 1, got 2.5"),
        ({"size": {"low": 1, "high": 3}}, ValueError, r"size cannot be randomized"),
        ({"mass": 0.0}, ValueError, r"mass must be a number > 0, got 0.0"),
        ({"mass": -1}, ValueError, r"mass must be a number > 0"),
        ({"mass": float("nan")}, ValueError, r"mass must be a number > 0"),
        ({"mass": float("inf")}, ValueError, r"mass must be a number > 0"),
        ({"mass": "heavy"}, TypeError, r"mass must be a number > 0, got 'heavy'"),
        ({"mass": True}, TypeError, r"mass must be a number > 0"),
        ({"mass": {"low": -1.0, "high": 2.0}}, ValueError, r"mass must be a number > 0 everywhere"),
        ({"mass": {"low": 2.0, "high": 1.0}}, ValueError, r"mass: interval low must be <= high"),
        ({"fraction": 1.5}, ValueError, r"fraction must be a number >= 0 and <= 1, got 1.5"),
        ({"seed": {"low": 0.5, "high": 3}}, TypeError, r"seed: interval low must be a finite int"),
        ({"mode": "c"}, ValueError, r"mode must be one of 'a', 'b', got 'c'"),
    ],
)
def test_bad_values_name_the_parameter_and_range(kwargs, error, message):
    with pytest.raises(error, match=message):
        ToyParams(**kwargs)


def test_unknown_keyword_lists_valid_names_and_suggests():
    with pytest.raises(TypeError, match=r"unknown parameter 'mas' for Toy; did you mean 'mass'"):
        ToyParams.from_kwargs(mas=1.0)
    with pytest.raises(TypeError, match=r"Valid parameters: size, mass, fraction, seed, mode"):
        ToyParams.from_kwargs(zzz=1.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([{"low": 0.1, "high": 0.5}, {"low": 0.4, "high": 0.9}], r"overlaps"),
        ([[0.1, 0.5], [0.2, 0.3]], r"overlaps"),
        ([], r"at least one interval"),
        ([0.1, 0.5], r"ambiguous \[a, b\]"),
        ({"low": 0.1}, r"interval is written"),
        ({"low": 0.1, "high": 0.2, "mid": 0.15}, r"interval is written"),
        ({"intervals": [[0.1, 0.2]], "weighting": "area"}, r"weighting must be one of"),
        ({"intervals": [[0.1, 0.2]], "shape": 1}, r"unknown distribution keys"),
        ("0.5", r"fraction must be a number >= 0 and <= 1, got '0.5'"),
    ],
)
def test_malformed_distributions_are_rejected(value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ToyParams(fraction=value)


def test_integer_union_rejects_shared_integer():
    with pytest.raises(ValueError, match="seed: the intervals of a union must be disjoint"):
        ToyParams(seed=[{"low": 0, "high": 5}, {"low": 5, "high": 9}])


def test_forms_of_distributions_parse_to_the_same_object():
    a = parse_distribution("x", [{"low": 0.5, "high": 1.0}, {"low": 0.0, "high": 0.25}])
    b = parse_distribution("x", [[0.0, 0.25], [0.5, 1.0]])
    c = parse_distribution("x", {"intervals": [[0.5, 1.0], [0.0, 0.25]]})
    assert a == b == c
    assert a.intervals == ((0.0, 0.25), (0.5, 1.0)) and a.low == 0.0 and a.high == 1.0
    assert a.to_config() == [{"low": 0.0, "high": 0.25}, {"low": 0.5, "high": 1.0}]
    assert parse_distribution("x", a.to_config()) == a
    eq = parse_distribution("x", {"intervals": [[0, 1], [2, 5]], "weighting": "equal"})
    assert parse_distribution("x", eq.to_config()) == eq


def test_touching_intervals_are_allowed_for_reals():
    d = parse_distribution("x", [[0.0, 1.0], [1.0, 2.0]])
    assert d.contains(1.0) and not d.contains(2.5)


def test_union_sampling_weights_length_or_equal():
    # [0, 1] and [2, 5]: by length the right interval has probability 3/4, by "equal" 1/2.
    rng = np.random.default_rng(0)
    by_length = parse_distribution("x", [[0, 1], [2, 5]]).sample(rng, size=200_000)
    equal = parse_distribution("x", {"intervals": [[0, 1], [2, 5]], "weighting": "equal"})
    by_interval = equal.sample(rng, size=200_000)
    assert abs((by_length >= 2).mean() - 0.75) < 0.005
    assert abs((by_interval >= 2).mean() - 0.5) < 0.005
    for xs in (by_length, by_interval):
        assert ((xs <= 1) | (xs >= 2)).all() and xs.min() >= 0 and xs.max() <= 5


def test_integer_sampling_covers_closed_intervals_uniformly():
    d = parse_distribution("seed", [{"low": 0, "high": 1}, {"low": 5, "high": 6}], integer=True)
    xs = d.sample(np.random.default_rng(1), size=80_000)
    values, counts = np.unique(xs, return_counts=True)
    assert values.tolist() == [0, 1, 5, 6]
    assert np.allclose(counts / counts.sum(), 0.25, atol=0.01)
    one = d.sample(np.random.default_rng(1))
    assert isinstance(one, int) and one in (0, 1, 5, 6)


def test_scalar_draw_equals_first_of_a_batch_draw():
    # The single envs draw one value, the batched envs draw many: same generator, same stream.
    d = parse_distribution("x", [[0.0, 1.0], [3.0, 4.0]])
    assert d.sample(np.random.default_rng(7)) == d.sample(np.random.default_rng(7), size=1)[0]


def test_sample_resolves_every_distribution_reproducibly():
    p = ToyParams(mass={"low": 1.0, "high": 2.0}, seed={"low": 10, "high": 20})
    assert p.randomized == ("mass", "seed")
    a = p.sample(np.random.default_rng(3))
    b = p.sample(np.random.default_rng(3))
    assert a == b and 1.0 <= a["mass"] <= 2.0 and 10 <= a["seed"] <= 20 and a["size"] == 3
    assert isinstance(p.mass, Distribution)
    assert p.to_config()["mass"] == {"low": 1.0, "high": 2.0}


def test_describe_lists_default_and_range():
    text = ToyParams.describe()
    assert text["size"] == "3 (an integer >= 1, fixed)"
    assert text["fraction"] == "0.5 (a number >= 0 and <= 1)"
    assert text["mode"] == "'a' (one of 'a', 'b')"


# --------------------------------------------------------------------------------------------
# Values that cannot work (issue 11, point 13)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"mass": 10**400}, ValueError, r"mass must be a number > 0, got 1000000000.*\.\.\."),
        ({"mass": {"low": 1.0, "high": 10**400}}, TypeError, r"mass: interval high must be a fin"),
        ({"fraction": 10**5000}, ValueError, r"fraction must be .*, got an integer of 16610 bits"),
        ({"seed": {"low": 0, "high": 2**64}}, ValueError, r"seed: integer interval high must be"),
        ({"seed": {"low": -(2**64), "high": 0}}, ValueError, r"seed: integer interval low must"),
        ({"mode": ["a"]}, ValueError, r"mode must be one of 'a', 'b', got \['a'\]"),
        ({"mode": np.array(["a", "b"])}, ValueError, r"mode must be one of 'a', 'b', got array"),
    ],
)
def test_huge_and_odd_values_get_a_clear_error(kwargs, error, message):
    with pytest.raises(error, match=message):
        ToyParams(**kwargs)


def test_integer_distributions_sample_exactly_beyond_float_precision():
    # Bounds above 2**53 are not floats: every draw must lie in the closed interval.
    d = parse_distribution("seed", {"low": 2**62 + 1, "high": 2**62 + 3}, integer=True)
    xs = d.sample(np.random.default_rng(0), size=1000)
    assert set(xs.tolist()) == {2**62 + 1, 2**62 + 2, 2**62 + 3}
    top = parse_distribution("seed", {"low": 2**63 - 2, "high": 2**63 - 1}, integer=True)
    assert set(top.sample(np.random.default_rng(0), size=100).tolist()) == {2**63 - 2, 2**63 - 1}


def test_integer_sampling_stream_is_unchanged():
    # Drawn with rng.integers(low, high, endpoint=True), which draws what rng.integers(low,
    # high + 1) drew: recorded results keep their parameter draws.
    d = parse_distribution("seed", [{"low": 0, "high": 9}, {"low": 20, "high": 29}], integer=True)
    rng = np.random.default_rng(5)
    k = rng.choice(2, size=50, p=[0.5, 0.5])
    expected = rng.integers(np.array([0, 20])[k], np.array([9, 29])[k] + 1)
    assert np.array_equal(d.sample(np.random.default_rng(5), size=50), expected)


def test_integer_bounds_are_described_exactly():
    @dataclass(frozen=True)
    class Seeded(EnvParams):
        seed: int = number(0, ge=0, le=2**63 - 1, integer=True)

    assert Seeded.describe()["seed"] == "0 (an integer >= 0 and <= 9223372036854775807)"


def _family_params():
    from rlbench3.envs import (
        arm_reach,
        classic_control,
        combination_lock,
        locomotion,
        sparse_reach,
    )

    return [
        combination_lock.CombinationLockParams,
        sparse_reach.SparseReachParams,
        arm_reach.ArmReachParams,
        classic_control.CartPoleParams,
        classic_control.MountainCarParams,
        classic_control.AcrobotParams,
        classic_control.PendulumParams,
        locomotion.HalfCheetahParams,
        locomotion.HopperParams,
    ]


@pytest.mark.parametrize("params_cls", _family_params(), ids=lambda c: c.__name__)
def test_every_number_of_the_families_has_a_finite_range(params_cls):
    from dataclasses import fields

    from rlbench3.envs.parameters import NumberSpec

    for f in fields(params_cls):
        spec = f.metadata["spec"]
        if isinstance(spec, NumberSpec):
            assert spec.le is not None or spec.lt is not None, f"{f.name} has no upper bound"
            assert spec.ge is not None or spec.gt is not None, f"{f.name} has no lower bound"
            if spec.integer:
                assert (spec.le if spec.le is not None else spec.lt) <= 2**63 - 1, f.name


FAMILY_IDS = [
    "rlbench3/CombinationLock-v0",
    "rlbench3/SparseReach-v0",
    "rlbench3/ArmReach-v0",
    "rlbench3/CartPole-v0",
    "rlbench3/MountainCar-v0",
    "rlbench3/Acrobot-v0",
    "rlbench3/Pendulum-v0",
    "rlbench3/HalfCheetah-v0",
    "rlbench3/Hopper-v0",
]


@pytest.mark.parametrize("env_id", FAMILY_IDS)
@pytest.mark.parametrize("preset", [["R"], {"R": 1}, 1, ("R",)])
def test_a_preset_that_is_not_a_name_is_refused_naming_the_valid_ones(env_id, preset):
    import gymnasium as gym

    import rlbench3  # noqa: F401

    with pytest.raises(TypeError, match=r"preset must be one of D, R, E for \w+, got "):
        gym.make(env_id, preset=preset)


@pytest.mark.parametrize("env_id", FAMILY_IDS)
def test_huge_integers_are_refused_at_construction(env_id):
    import gymnasium as gym

    import rlbench3  # noqa: F401

    params_cls = type(gym.make(env_id).unwrapped.params)
    from dataclasses import fields

    from rlbench3.envs.parameters import NumberSpec

    for f in fields(params_cls):
        if isinstance(f.metadata["spec"], NumberSpec):
            for huge in (10**30, 1e30, 2**70, 10**5000):
                with pytest.raises(ValueError, match=rf"^{f.name} must be .* and <= "):
                    gym.make(env_id, **{f.name: huge})
