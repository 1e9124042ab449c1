"""Incremental builds: a build over a previous dist/ links in the documents whose parts of the graph did not
change and renders the others, and gives exactly the bytes a clean build of the same data gives, after a
study is added, changed and removed."""
import os
import shutil
import subprocess
import sys

import pytest

from licn import paths
from test_add_a_study import BIBTEX, CODINGS, code_twice

WORK = "id/work/example-2024-leading.html"


def build(home, out):
    run = subprocess.run([sys.executable, "-m", "licn.cli", "build", "--out", str(out)],
                         env=dict(os.environ, LICN_HOME=str(home)), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return out.resolve()


def files(folder):
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_tree(built, clean):
    built_files, clean_files = files(built), files(clean)
    assert built_files.keys() == clean_files.keys()
    assert [name for name in built_files if built_files[name].read_bytes() != clean_files[name].read_bytes()] == []


def linked(built, previous):
    """The site's files that the build linked in from the previous version (the same file on disk)."""
    return {name for name, path in files(built / "site").items()
            if (previous / "site" / name).exists() and os.path.samefile(path, previous / "site" / name)}


def published_copy(dist, out):
    """out as a build of the real data would leave it: a link to a version folder, here a copy of dist's."""
    version = out.with_name(f".{out.name}.versions") / "v-0"
    shutil.copytree(dist.resolve(), version, copy_function=os.link)
    out.symlink_to(version)
    return version


def copy_of_project(tmp_path):
    home = tmp_path / "home"
    for folder in ("data", "ontology", "queries"):
        shutil.copytree(paths.ROOT / folder, home / folder)
    return home


@pytest.mark.slow
def test_incremental_builds_give_the_bytes_of_clean_builds(tmp_path, dist):
    home = copy_of_project(tmp_path)
    out = tmp_path / "dist"
    first = published_copy(dist, out)

    # a study added: its page is new, most others are the previous files
    (home / "data" / "new-studies.bib").write_text(BIBTEX, encoding="utf-8")
    with open(home / "data" / "curator-codings.csv", "a", encoding="utf-8") as sheet:
        sheet.write("\n".join(CODINGS) + "\n")
    code_twice(home, CODINGS)
    added = build(home, out)
    assert_same_tree(added, build(home, tmp_path / "clean-added" / "dist"))
    reused = linked(added, first)
    resources = {name for name in files(added / "site") if name.startswith("id/")}
    assert WORK not in reused and len(reused) > 0.9 * len(resources)
    # rendered again: about 2 % of the files of the resources there were (a page that reads only another
    # term's label or types is not rendered again when that term's other statements change)
    again = {name for name in resources if (first / "site" / name).exists()} - reused
    assert 0 < len(again) < 0.03 * len(resources), len(again)
    assert "site/id/coding/curator-example-2024-leading-1-r.html" in files(added)

    # its title changed: the pages that show it (its codings' among them) change with it
    bibtex = BIBTEX.replace("a qualitative study", "a mixed-methods study")
    (home / "data" / "new-studies.bib").write_text(bibtex, encoding="utf-8")
    changed = build(home, out)
    assert_same_tree(changed, build(home, tmp_path / "clean-changed" / "dist"))
    reused = linked(changed, added)
    coding = "id/coding/curator-example-2024-leading-1-r.html"
    assert WORK not in reused and coding not in reused and "a mixed-methods study" in (changed / "site" / coding).read_text()
    assert len(reused) > 0.9 * len(resources)

    # removed again: the data as it was, and the bytes of the first build
    shutil.rmtree(home / "data")
    shutil.copytree(paths.ROOT / "data", home / "data")
    removed = build(home, out)
    assert_same_tree(removed, dist.resolve())
    assert WORK not in files(removed)


def test_a_damaged_record_renders_everything_again(tmp_path, dist):
    """A record of the previous build that cannot be read is no reason to fail: every document is rendered."""
    home = copy_of_project(tmp_path)
    out = tmp_path / "dist"
    first = published_copy(dist, out)
    record = first / "site-pages.json"
    record.unlink()
    record.write_text('{"setting": "', encoding="utf-8")
    again = build(home, out)
    assert linked(again, first) == set()
    assert_same_tree(again, dist.resolve())
