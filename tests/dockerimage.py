"""The container image of the Dockerfile, for tests/test_docker.py: a base image made from Debian's
packages where no registry is reachable, the image built on it, and containers of it.

Where the public image registry cannot be reached (as on the machines this suite runs on), the base is
made here: ``debootstrap`` with the machine's own apt source, then ``tar | docker import``; it is kept
under a tag that names what went into it, so that a later run reuses it. ``.ci/run`` installs docker.io
and debootstrap and starts dockerd (vfs storage, no bridge, no iptables).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: What the Dockerfile needs of a Debian base (python3 with its venv module, CAs for pip).
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
#: The machine's CA bundle, which pip inside the build uses (Dockerfile: docker/ca-certificates.crt).
CA_BUNDLE = ROOT / "docker" / "ca-certificates.crt"


def docker(
    *args: str, check: bool = True, timeout: float = 900, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args[:3])} ...: exit {done.returncode}\n{done.stderr[-3000:]}"
        )
    return done


def missing() -> str | None:
    """Why the image cannot be built and run here, or None."""
    if shutil.which("docker") is None:
        return "docker not found: .ci/run installs docker.io (apt-get install docker.io)"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60, check=False)
    if info.returncode != 0:
        return (
            "the docker daemon does not answer (`docker info`): .ci/run starts it as root with "
            "`dockerd --storage-driver vfs --bridge=none --iptables=false --ip6tables=false`; "
            f"docker said: {info.stderr.strip()[-300:]}"
        )
    if shutil.which("debootstrap") is None and not _has_image(base_tag()):
        return "debootstrap not found (needed once, for the base image): .ci/run installs it"
    if os.geteuid() != 0 and not _has_image(base_tag()):
        return "making the base image with debootstrap needs root"
    return None


def _has_image(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


def apt_source(sources: list[Path] | None = None, codename: str | None = None) -> tuple[str, str]:
    """(mirror URL, suite) of the machine's own Debian source for its release, from
    /etc/apt/sources.list and /etc/apt/sources.list.d (one-line and deb822 forms)."""
    codename = codename or _os_release().get("VERSION_CODENAME", "bookworm")
    if sources is None:
        folder = Path("/etc/apt/sources.list.d")
        sources = [
            Path("/etc/apt/sources.list"),
            *sorted(folder.glob("*.list")),
            *sorted(folder.glob("*.sources")),
        ]
    for path in sources:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        for uri, suites in _entries(text):
            if codename in suites:
                return uri.rstrip("/"), codename
    raise AssertionError(f"no apt source for {codename} in /etc/apt/sources.list*")


def _entries(text: str) -> list[tuple[str, list[str]]]:
    """(URI, suites) of each ``deb`` entry of a sources file, either form."""
    found = []
    for line in text.splitlines():
        match = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match:
            found.append((match.group(1), [match.group(2)]))
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
        if "deb" in fields.get("Types", "").split() and fields.get("URIs"):
            found.extend((uri, fields.get("Suites", "").split()) for uri in fields["URIs"].split())
    return found


def _os_release() -> dict[str, str]:
    text = Path("/etc/os-release").read_text(encoding="utf-8")
    return {k: v.strip('"') for k, v in re.findall(r"^([A-Z_]+)=(.*)$", text, re.M)}


def base_tag() -> str:
    """The base image's tag: what went into it (apt source, release, packages) as a short hash."""
    mirror, suite = apt_source()
    digest = hashlib.sha256(json.dumps([mirror, suite, PACKAGES]).encode()).hexdigest()[:12]
    return f"b24local-test-base:{suite}-{digest}"


def base_image() -> str:
    """The tag of a Debian base image with PACKAGES, made once by debootstrap and kept."""
    mirror, suite = apt_source()
    tag = base_tag()
    if _has_image(tag):
        return tag
    with tempfile.TemporaryDirectory(prefix="b24local-rootfs-", dir="/var/tmp") as folder:
        rootfs = Path(folder) / "rootfs"
        made = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                suite,
                str(rootfs),
                mirror,
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        if made.returncode != 0:
            raise AssertionError(
                f"debootstrap {suite} {mirror}: exit {made.returncode}\n{made.stdout[-3000:]}"
            )
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        docker(
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "ENV LANG=C.UTF-8",
            "-",
            tag,
            stdin=tar.stdout,
        )
        assert tar.wait() == 0
    return tag


def build(base: str) -> tuple[str, set[str]]:
    """Build the repository's Dockerfile on ``base`` as a new tag; (tag, ids of the images it made).
    On the host network, so that pip reaches its index as the machine does (with its CA bundle)."""
    machine = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
    if not CA_BUNDLE.exists() and machine.is_file():  # a bundle someone put there stays as it is
        shutil.copyfile(machine, CA_BUNDLE)
    before = _image_ids()
    tag = f"b24local-test:{uuid.uuid4().hex[:12]}"
    extra = [f"--build-arg=PIP_INDEX_URL={url}"] if (url := _pip_index()) else []
    built = docker(
        "build",
        "--network=host",
        "--force-rm",
        f"--build-arg=BASE_IMAGE={base}",
        *extra,
        "--tag",
        tag,
        str(ROOT),
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},  # docker.io has no buildx; the classic builder
    )
    made = _image_ids() - before
    if built.returncode != 0:
        remove_images(made)
        raise AssertionError(
            f"docker build: exit {built.returncode}\n{built.stdout[-3000:]}{built.stderr[-3000:]}"
        )
    return tag, made


def _pip_index() -> str | None:
    """The machine's pip index when it is not PyPI (``$PIP_INDEX_URL`` or pip's configuration)."""
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        got = subprocess.run(
            ["python3", "-m", "pip", "config", "get", "global.index-url"],
            capture_output=True,
            text=True,
            check=False,
        )
        url = got.stdout.strip() if got.returncode == 0 else ""
    return url if url.startswith(("http://", "https://")) else None


def _image_ids() -> set[str]:
    return set(docker("image", "ls", "--all", "--quiet", "--no-trunc").stdout.split())


def remove_images(ids: set[str]) -> None:
    """Remove the images a build made (its tag and the build stage's), newest first."""
    for image in sorted(ids, key=_created, reverse=True):
        docker("image", "rm", "--force", image, check=False)


def _created(image: str) -> str:
    return docker("image", "inspect", "--format", "{{.Created}}", image, check=False).stdout.strip()
