"""MIG (Multi-Instance GPU) profiles per GPU model, and a pure check of a per-GPU layout.

A MIG-capable GPU is cut into compute slices (GPCs: 7 on A100/H100/H200, 4 on A30) and memory
slices (8, or 4 on A30). Each profile ``<c>g.<m>gb`` takes a fixed number of each, and the
hardware allows at most ``max_instances`` of a profile per GPU.

Sources (read 2026-11-25):

- NVIDIA MIG User Guide, "Supported MIG Profiles" (fractions of SMs and memory, instance counts;
  A30 and A100 tables, and the A100-80GB renaming rule):
  https://docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-mig-profiles.html
- NVIDIA GPU Operator's default mig-parted config (profile names and the maximum count of each
  profile per GPU, grouped by PCI device ID, for A30, A100-40GB/80GB, H100-80GB and H200-141GB):
  https://github.com/NVIDIA/gpu-operator/blob/main/assets/state-mig-manager/0400_configmap.yaml
  (commit 0b0b6b154bdd7ed54102f3efe0239108b0c4a433)

Blackwell geometries (read 2026-11-26 from the same configmap at gpu-operator commit
a22dbf671f2e26f9a1e342f8eea28e196235e110, 2026-08-21): B200 (device 0x2901) all-1g.23gb 7,
all-1g.45gb 4, all-2g.45gb 3, all-3g.90gb 2, all-4g.90gb 1, all-7g.180gb 1; GB200 (0x2941)
1g.23gb/1g.47gb/2g.47gb/3g.93gb/4g.93gb/7g.186gb; B300 (0x3182) all-1g.34gb 7, all-1g.67gb 4,
all-2g.67gb 3, all-3g.135gb 2, all-4g.135gb 1, all-7g.269gb 1; RTX PRO 6000 96GB (0x2BB5)
all-1g.24gb 4 (as ``-me``/``+gfx`` variants), all-2g.48gb 2, all-4g.96gb 1 (four slices, like A30).

Media-extension (``+me``), graphics (``+gfx``) and shared-compute-instance (``<n>c.``) variants
are omitted on purpose: pools carve plain GPU instances only.

Slice sums are necessary but not sufficient: MIG also fixes where each profile may start on the
GPU, and a few combinations that fit by count cannot be placed. mig-parted reports those when
it applies the config; the placement tables are in the user guide above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gpu_platform.catalog.gpus import GPU_MODELS, get_gpu_model


@dataclass(frozen=True)
class MigProfile:
    """A GPU-instance profile: its slices of the GPU and how many fit on one GPU."""

    name: str
    compute_slices: int
    memory_slices: int
    max_instances: int


@dataclass(frozen=True)
class MigGeometry:
    """How one GPU model can be partitioned."""

    key: str
    compute_slices: int
    memory_slices: int
    profiles: tuple[MigProfile, ...]

    @property
    def profile_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.profiles)

    def profile(self, name: str) -> MigProfile | None:
        for candidate in self.profiles:
            if candidate.name == name:
                return candidate
        return None


def _seven_slice(key: str, sizes: tuple[int, int, int, int]) -> MigGeometry:
    """The A100/H100/H200 shape: 7 GPCs, 8 memory slices, the same six profiles.

    ``sizes`` are the GB in each profile name: 1/8, 2/8, 4/8 and 8/8 of the memory.
    """
    eighth, quarter, half, full = sizes
    return MigGeometry(
        key=key,
        compute_slices=7,
        memory_slices=8,
        profiles=(
            MigProfile(f"1g.{eighth}gb", 1, 1, 7),
            MigProfile(f"1g.{quarter}gb", 1, 2, 4),
            MigProfile(f"2g.{quarter}gb", 2, 2, 3),
            MigProfile(f"3g.{half}gb", 3, 4, 2),
            MigProfile(f"4g.{half}gb", 4, 4, 1),
            MigProfile(f"7g.{full}gb", 7, 8, 1),
        ),
    )


MIG_GEOMETRIES: dict[str, MigGeometry] = {
    geometry.key: geometry
    for geometry in (
        # gpu-operator default config: "A100-40GB" all-1g.5gb 7, all-1g.10gb 4, all-2g.10gb 3,
        # all-3g.20gb 2, all-4g.20gb 1, all-7g.40gb 1
        _seven_slice("A100-40GB", (5, 10, 20, 40)),
        # "H100-80GB, H800-80GB, A100-80GB, A800-80GB" share names and counts
        _seven_slice("A100-80GB", (10, 20, 40, 80)),
        _seven_slice("H100-80GB", (10, 20, 40, 80)),
        # "H200-141GB": all-1g.18gb 7, all-1g.35gb 4, all-2g.35gb 3, all-3g.71gb 2, ...
        _seven_slice("H200-141GB", (18, 35, 71, 141)),
        _seven_slice("B200", (23, 45, 90, 180)),
        # GB200's 1/8 profile is 1g.23gb while its 1/4 is 1g.47gb (the configmap's own names)
        _seven_slice("GB200", (23, 47, 93, 186)),
        _seven_slice("B300", (34, 67, 135, 269)),
        MigGeometry(
            key="RTX-PRO-6000-96GB",
            compute_slices=4,
            memory_slices=4,
            profiles=(
                MigProfile("1g.24gb", 1, 1, 4),
                MigProfile("2g.48gb", 2, 2, 2),
                MigProfile("4g.96gb", 4, 4, 1),
            ),
        ),
        # A30 has 4 GPCs and 4 memory slices (user guide: fractions of 1/4)
        MigGeometry(
            key="A30-24GB",
            compute_slices=4,
            memory_slices=4,
            profiles=(
                MigProfile("1g.6gb", 1, 1, 4),
                MigProfile("2g.12gb", 2, 2, 2),
                MigProfile("4g.24gb", 4, 4, 1),
            ),
        ),
    )
}


def get_mig_geometry(key: str) -> MigGeometry:
    try:
        return MIG_GEOMETRIES[key]
    except KeyError:
        known = ", ".join(MIG_GEOMETRIES)
        raise KeyError(f"unknown MIG geometry {key!r}; known: {known}") from None


def mig_capable_models() -> tuple[str, ...]:
    return tuple(key for key, model in GPU_MODELS.items() if model.mig_capable)


_ABSENT = object()


@dataclass(frozen=True)
class MigProblem:
    """One thing wrong with a layout.

    ``device`` is the index into the checked sequence (None: the whole layout); ``profile`` is
    set when the problem is about one profile; ``value`` is what was given (``_ABSENT`` if the
    message says it all).
    """

    message: str
    device: int | None = None
    profile: str | None = None
    value: object = _ABSENT

    @property
    def has_value(self) -> bool:
        return self.value is not _ABSENT

    def __str__(self) -> str:
        where = "layout" if self.device is None else f"device {self.device}"
        got = f" (got {self.value!r})" if self.has_value else ""
        return f"{where}: {self.message}{got}"


def check_mig_layout(gpu_model_key: str, devices: Sequence[Mapping[str, int]]) -> list[MigProblem]:
    """Every problem with carving GPU i as ``devices[i]`` (a ``{profile: count}`` mapping).

    An empty mapping means that GPU stays whole (MIG disabled) and is always fine. Raises
    KeyError for an unknown ``gpu_model_key``; a known GPU without MIG is a problem, not an error.
    """
    model = get_gpu_model(gpu_model_key)
    if model.mig is None:
        capable = ", ".join(mig_capable_models())
        return [MigProblem(f"{model.key} does not support MIG; MIG-capable GPUs: {capable}")]
    geometry = get_mig_geometry(model.mig)
    valid = ", ".join(geometry.profile_names)
    problems: list[MigProblem] = []
    for index, layout in enumerate(devices):
        compute = memory = 0
        known = True
        for name, count in layout.items():
            profile = geometry.profile(name)
            if profile is None:
                problems.append(
                    MigProblem(
                        f"unknown MIG profile for {model.key}; valid profiles: {valid}",
                        index,
                        name,
                        name,
                    )
                )
                known = False
                continue
            if count < 1:
                problems.append(MigProblem(f"count of {name} must be >= 1", index, name, count))
                continue
            if count > profile.max_instances:
                problems.append(
                    MigProblem(
                        f"at most {profile.max_instances} x {name} fit on one {model.key}",
                        index,
                        name,
                        count,
                    )
                )
            compute += profile.compute_slices * count
            memory += profile.memory_slices * count
        if not known:
            continue  # sums over a partly unknown layout would only add noise
        if compute > geometry.compute_slices:
            problems.append(
                MigProblem(
                    f"needs {compute} compute slices; {model.key} GPUs have {geometry.compute_slices}",
                    index,
                    value=dict(layout),
                )
            )
        if memory > geometry.memory_slices:
            problems.append(
                MigProblem(
                    f"needs {memory} memory slices; {model.key} GPUs have {geometry.memory_slices}",
                    index,
                    value=dict(layout),
                )
            )
    return problems
