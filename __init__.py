"""newsmon: watch the news for numbers that change.

The repository root is this package (pyproject.toml: `package-dir = {"newsmon" = "."}`): cli.py is
`newsmon.cli`, spiders/ is `newsmon.spiders`, and so on; tests/, bench/ and docs/ are not part of
the wheel. Nothing is imported here, so `import newsmon.figures` stays as light as the module.
"""
