pytest_plugins = ["gpu_platform.testing.fixtures"]
