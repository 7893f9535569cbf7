"""`python -m tests.packages.build_until_killed MARKER`: run content_packages in this process and
stop mid-build, with a package half-written in staging, until the test kills the process.

The environment (store, PACKAGES_DIR, API) comes from the parent test. Once the first staged file
of a package is on disk, MARKER is written and the build waits forever: the test then knows, not
guesses, that a build is in progress when it sends SIGKILL.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dagster as dg

from content_assets.environment import build_resources
from content_assets.packages.assets import content_packages
from resources.package_files import writer as package_writer


def main(marker: Path) -> None:
    write_file = package_writer._write_unsynced

    def write_then_hang(path: Path, data: bytes) -> None:
        write_file(path, data)
        # A file inside a package's staging folder (.staging/<id>/...), not a top-level file.
        if package_writer.STAGING in path.parts and path.parent.name != package_writer.STAGING:
            marker.write_text(str(path))
            while True:
                time.sleep(1)

    package_writer._write_unsynced = write_then_hang
    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([content_packages], resources=build_resources(), instance=instance, partition_key="default",
                       run_config={"ops": {"content_packages": {"config": {"image_threads": 2}}}})


if __name__ == "__main__":
    main(Path(sys.argv[1]))
