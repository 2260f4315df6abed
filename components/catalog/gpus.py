"""NVIDIA GPU models the platform provisions, keyed by a short name such as ``"A100-80GB"``.

Sources (read 2026-11-25):

- ``product``: the ``nvidia.com/gpu.product`` label GPU Feature Discovery (GFD) sets, i.e. the
  driver's device name with spaces replaced by dashes.
  https://github.com/NVIDIA/k8s-device-plugin/blob/main/docs/gpu-feature-discovery/README.md
  The values below were checked against node labels published by GFD-labelled clusters
  (``Tesla-T4``, ``NVIDIA-A10G``, ``NVIDIA-L4``, ``NVIDIA-L40S``, ``NVIDIA-A30``,
  ``NVIDIA-A100-SXM4-40GB``, ``NVIDIA-A100-SXM4-80GB``, ``NVIDIA-H100-80GB-HBM3``,
  ``NVIDIA-H200``). Drivers before the R470 era dropped the ``NVIDIA-`` prefix on data-centre
  parts (``A100-SXM4-40GB``), which is why older guides show shorter names.
- time-slicing suffix: with ``renameByDefault: false`` GFD appends ``-SHARED`` to the product
  label of time-sliced nodes.
  https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html
- ``architecture``: the ``nvidia.com/gpu.family`` label spelling (``ada-lovelace`` etc.).
- ``memory_gib``: the vendor's nominal memory size (marketing GB, not measured GiB; GFD's
  ``nvidia.com/gpu.memory`` label reports the exact MiB).
  https://docs.nvidia.com/nim/large-language-models/1.7.0/supported-models.html (H200 141,
  H100 80, A100 80, L40S 48, A10G 24) and
  https://docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-mig-profiles.html
  (A30-24GB, A100-SXM4-40GB); T4 16 GB and L4 24 GB from NVIDIA's product pages.
- ``mig``: which MIG geometry applies; see ``gpu_platform.catalog.mig``.
"""

from __future__ import annotations

from dataclasses import dataclass

# GFD appends this to ``nvidia.com/gpu.product`` on nodes whose GPUs are time-sliced (unless the
# device plugin config sets renameByDefault: true), so selectors for shared pools need it.
SHARED_PRODUCT_SUFFIX = "-SHARED"


@dataclass(frozen=True)
class GpuModel:
    """One GPU model: how Kubernetes labels it and what it can be partitioned into."""

    key: str
    product: str
    memory_gib: int
    architecture: str
    mig: str | None = None

    @property
    def mig_capable(self) -> bool:
        return self.mig is not None

    @property
    def shared_product(self) -> str:
        """The product label GFD reports once the node is time-sliced."""
        return self.product + SHARED_PRODUCT_SUFFIX


GPU_MODELS: dict[str, GpuModel] = {
    model.key: model
    for model in (
        GpuModel("T4", "Tesla-T4", 16, "turing"),
        GpuModel("A10G", "NVIDIA-A10G", 24, "ampere"),
        GpuModel("L4", "NVIDIA-L4", 24, "ada-lovelace"),
        GpuModel("L40S", "NVIDIA-L40S", 48, "ada-lovelace"),
        GpuModel("A30", "NVIDIA-A30", 24, "ampere", mig="A30-24GB"),
        GpuModel("A100-40GB", "NVIDIA-A100-SXM4-40GB", 40, "ampere", mig="A100-40GB"),
        GpuModel("A100-80GB", "NVIDIA-A100-SXM4-80GB", 80, "ampere", mig="A100-80GB"),
        GpuModel("H100-80GB", "NVIDIA-H100-80GB-HBM3", 80, "hopper", mig="H100-80GB"),
        # the SXM part (HGX H200 / p5en); the H200 NVL PCIe card reports a different name
        GpuModel("H200-141GB", "NVIDIA-H200", 141, "hopper", mig="H200-141GB"),
    )
}


def get_gpu_model(key: str) -> GpuModel:
    """The catalog entry for ``key``; KeyError names the known keys if there is none."""
    try:
        return GPU_MODELS[key]
    except KeyError:
        known = ", ".join(GPU_MODELS)
        raise KeyError(f"unknown GPU model {key!r}; known models: {known}") from None


def gpu_model_for_product(product: str) -> GpuModel | None:
    """The model whose GFD product label is ``product`` (with or without ``-SHARED``)."""
    base = product.removesuffix(SHARED_PRODUCT_SUFFIX)
    for model in GPU_MODELS.values():
        if model.product == base:
            return model
    return None
