"""The layerlab grader: hidden suites, the sandboxed judge, nbgrader integration, the CLI."""
