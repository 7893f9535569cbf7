"""post.js, the package file the gallery's copy button loads (a page opened from file:// may load
a script but not fetch a file): one call handing over the post exactly as post.html holds it and
the title exactly as meta.json does, whatever the seller wrote."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from content_assets.packages.plan import POST_SCRIPT_CALLBACK
from tests.packages.single_build import package_builds, product

CALL = re.compile(rf"^window\.{POST_SCRIPT_CALLBACK} && window\.{POST_SCRIPT_CALLBACK}\((.*)\);\n$", re.DOTALL)


def test_post_js_hands_over_the_post_and_the_title_and_nothing_else(tmp_path: Path):
    name = '"); alert(1); ("</script><script>alert(2)</script> 녹차\u2028티백 \\ 50개입'
    with package_builds(tmp_path) as build:
        folder, meta = build(product(7, name, pictures=2))

    script = (folder / "post.js").read_text()
    (payload,) = CALL.fullmatch(script).groups()
    handed = json.loads(payload)
    assert handed == {"originProductNo": 7, "variant": "default", "title": meta["title"],
                      "html": (folder / "post.html").read_text()}
    assert "\u2028" not in script  # a line separator ended a string literal in JavaScript before ES2019
    assert "post.js" not in zipfile.ZipFile(folder / "package.zip").namelist()  # the gallery's, not the blog's
