"""`sam build` needs no Python 3.12 and no Docker: every function and the layer are built by
shared/Makefile's recipes (the layer from wheels for the functions' runtime and architecture), and
`sam validate --lint` passes where the SAM CLI is installed (`make lint` installs it)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from outbound_local.template import TEMPLATE_PATH, Template
from tests.conftest import ROOT

TEMPLATE = Template(TEMPLATE_PATH)
MAKEFILE = (ROOT / "shared" / "Makefile").read_text()


def test_every_function_and_the_layer_build_with_the_makefile():
    built = {name: r for name, r in TEMPLATE.resources.items()
             if r["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion")}
    for name, resource in built.items():
        metadata = resource.get("Metadata") or {}
        assert metadata.get("BuildMethod") == "makefile", (
            f"{name}: without `Metadata: BuildMethod: makefile`, sam build needs a python3.12 on PATH")
        if resource["Type"] == "AWS::Serverless::Function":
            assert metadata.get("ContextPath") == "shared", name  # the one Makefile with the recipes
            assert re.search(r"^build-%Function:", MAKEFILE, re.M) and name.endswith("Function"), name
        else:
            assert resource["Properties"]["ContentUri"] == "shared/"
            assert re.search(rf"^build-{name}:", MAKEFILE, re.M), name


def test_the_layer_is_built_for_the_functions_runtime_and_architecture():
    functions = TEMPLATE.doc["Globals"]["Function"]
    layer = TEMPLATE.resources["SharedLayer"]
    assert functions["Runtime"] == "python3.12" and layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert "LAMBDA_PYTHON_VERSION := 3.12" in MAKEFILE and "--only-binary=:all:" in MAKEFILE
    arch = {"arm64": "aarch64", "x86_64": "x86_64"}[functions["Architectures"][0]]
    assert layer["Metadata"]["BuildArchitecture"] == functions["Architectures"][0]
    assert f"LAMBDA_ARCH ?= {arch}" in MAKEFILE
    # Every runtime dependency of the package goes into the layer.
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer_requirements = [line.split("#")[0].strip() for line in (ROOT / "shared" / "requirements.txt").read_text().splitlines()]
    assert sorted(declared) == sorted(r for r in layer_requirements if r)


def sam_cli() -> str | None:
    local = ROOT / ".venv-sam" / "bin" / "sam"
    return str(local) if local.exists() else shutil.which("sam")


@pytest.mark.skipif(sam_cli() is None, reason="the SAM CLI is not installed (`make lint` installs it into .venv-sam)")
def test_sam_validate_lint_passes():
    done = subprocess.run([sam_cli(), "validate", "--lint", "--template", str(TEMPLATE_PATH)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_snapstart_is_a_parameter_off_by_default_on_the_call_path():
    parameter = TEMPLATE.parameters["SnapStart"]
    assert parameter["Default"] == "Disabled" and set(parameter["AllowedValues"]) == {"Enabled", "Disabled"}
    assert TEMPLATE.doc["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "Enabled"]}
    function = TEMPLATE.resources["CallsApiFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}}
    assert function["AutoPublishAlias"] == "live"  # SnapStart applies to published versions only
    assert "snapstart.register()" in (ROOT / "functions" / "calls_api" / "app.py").read_text()
