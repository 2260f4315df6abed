"""The test harness, installed with the ``testing`` extra (``pip install 'gpu-platform[testing]'``).

- ``gpu_platform.testing.fixtures``: pytest fixtures that plan any Pulumi project offline
  (``plan_env``, ``run_component``, ``refused``, ``conformance``); enable them with
  ``pytest_plugins = ["gpu_platform.testing.fixtures"]`` in a ``conftest.py``.
- ``gpu_platform.testing.conformance``: rendered objects and Helm values against upstream schemas,
  one object, one chart or a whole plan (``Conformance.check_plan``).
- ``gpu_platform.testing.security``: checkov over rendered manifests, pod templates included.

Nothing in the library's runtime imports this package (tests/test_layering.py).
"""
