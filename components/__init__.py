"""gpu-platform: Pulumi components for GPU/AI infrastructure on Kubernetes."""
