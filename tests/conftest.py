pytest_plugins = ["components.testing.fixtures"]
