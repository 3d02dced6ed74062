"""`platform/` is a source root, not a package: the standard library's `platform` must win."""

import subprocess
import sys

from tests.support import ROOT


def test_stdlib_platform_still_works_from_repo_root():
    result = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.system())"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert result.stdout.strip() == "Linux"


def test_stdlib_platform_works_inside_the_test_process():
    import platform

    assert platform.system() == "Linux"
    assert not (ROOT / "platform" / "__init__.py").exists()
