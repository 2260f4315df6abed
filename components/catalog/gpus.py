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

Blackwell models (added 2026-11-26):

- ``B200`` (p6-b200): GFD label ``NVIDIA-B200`` as published by GFD-labelled clusters; 180 GB
  (AWS p6-b200: 1,440 GB of GPU memory for 8 GPUs; MIG full profile ``7g.180gb``).
- ``GB200`` (GB200 NVL72 / HGX GB200, on-prem racks; EC2's p6e-gb200 UltraServers are not in the
  instance catalog, see its docstring): ``NVIDIA-GB200``, 186 GB (MIG full profile ``7g.186gb``).
- ``B300`` (p6-b300): ``NVIDIA-B300-SXM6-AC`` (the name GFD-labelled p6-b300 nodes report),
  288 GB nominal HBM3e (NVIDIA Blackwell Ultra; MIG full profile ``7g.269gb``).
- ``RTX-PRO-6000`` (g7e): ``NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition``, 96 GB.
- ``RTX-PRO-4500`` (g7): ``NVIDIA-RTX-PRO-4500-Blackwell-Server-Edition`` (the driver's name
  for the RTX PRO Server parts with spaces as dashes, by the rule above), 32 GB (AWS G7
  announcement 2026-06-18: 32 GB per GPU). No MIG profiles are published for it.
- MIG geometries for B200, GB200, B300 and RTX PRO 6000: the GPU Operator's default
  mig-parted config (``gpu_platform.catalog.mig``).

``autoscaler_accelerator``: the value of the ``k8s.amazonaws.com/accelerator`` node label that
cluster-autoscaler's AWS provider reads to tell GPU nodes apart (it treats a node carrying the
label as a GPU node that is still starting until the device plugin advertises the GPUs).
cluster-autoscaler/cloudprovider/aws/aws_cloud_provider.go (``GPULabel``,
``availableGPUTypes``: nvidia-tesla-k80/p100/v100/t4/a100, nvidia-a10g, nvidia-l4, nvidia-l40s)
and cloudprovider/aws/README.md "Special note on GPU instances", kubernetes/autoscaler commit
55c37cd5eb55 (2026-08-22). Models the provider does not list follow its ``nvidia-<model>``
spelling; only the label's presence decides GPU handling, the value feeds ``--gpu-total``.
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
    def autoscaler_accelerator(self) -> str:
        """The ``k8s.amazonaws.com/accelerator`` label value cluster-autoscaler expects."""
        return AUTOSCALER_ACCELERATORS[self.key]

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
        GpuModel("B200", "NVIDIA-B200", 180, "blackwell", mig="B200"),
        GpuModel("GB200", "NVIDIA-GB200", 186, "blackwell", mig="GB200"),
        GpuModel("B300", "NVIDIA-B300-SXM6-AC", 288, "blackwell", mig="B300"),
        GpuModel("RTX-PRO-6000", "NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition", 96, "blackwell",
                 mig="RTX-PRO-6000-96GB"),
        GpuModel("RTX-PRO-4500", "NVIDIA-RTX-PRO-4500-Blackwell-Server-Edition", 32, "blackwell"),
    )
}

# cluster-autoscaler AWS provider's ``k8s.amazonaws.com/accelerator`` values (see docstring).
AUTOSCALER_ACCELERATORS: dict[str, str] = {
    "T4": "nvidia-tesla-t4",
    "A10G": "nvidia-a10g",
    "L4": "nvidia-l4",
    "L40S": "nvidia-l40s",
    "A30": "nvidia-a30",
    "A100-40GB": "nvidia-tesla-a100",
    "A100-80GB": "nvidia-tesla-a100",
    "H100-80GB": "nvidia-h100",
    "H200-141GB": "nvidia-h200",
    "B200": "nvidia-b200",
    "GB200": "nvidia-gb200",
    "B300": "nvidia-b300",
    "RTX-PRO-6000": "nvidia-rtx-pro-6000",
    "RTX-PRO-4500": "nvidia-rtx-pro-4500",
}
assert set(AUTOSCALER_ACCELERATORS) == set(GPU_MODELS)


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
