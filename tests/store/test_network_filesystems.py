"""SQLite is refused on every network or FUSE file system, read from mountinfo."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.store import engine as engine_module
from runtime.store.engine import (
    WorkspaceError,
    filesystem_type,
    is_lock_safe_filesystem,
    is_network_path,
)
from runtime.store.workspace import Workspace


def _mountinfo(root: Path, mounts: list[tuple[str, str]]) -> str:
    """A /proc/self/mountinfo text: the root on ext4, then ``(folder, type)`` mounts
    (the folders are made: mount points exist)."""
    lines = ["22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw"]
    for number, (folder, fs_type) in enumerate(mounts, 30):
        (root / folder).mkdir(parents=True, exist_ok=True)
        point = f"{root}/{folder}".replace("\\", "\\134").replace(" ", "\\040")
        point = point.replace("\t", "\\011")
        lines.append(f"{number} 22 0:{number} / {point} rw,nosuid master:3 - {fs_type} src rw")
    return "\n".join(lines) + "\n"


REFUSED = [
    "fuse.rclone",
    "fuse.sshfs",
    "fuse.s3fs",
    "fuse.gvfsd-fuse",
    "fuse",
    "davfs",
    "fuse.davfs2",
    "9p",
    "virtiofs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "afs",
    "ceph",
    "glusterfs",
    "lustre",
    "gpfs",
    "vboxsf",
    "vmhgfs",
    "fuse.vmhgfs-fuse",
    "prl_fs",
    "drvfs",
    "beegfs",
]
ACCEPTED = ["ext4", "xfs", "btrfs", "tmpfs", "zfs", "f2fs", "overlay", "vfat", "exfat", "fuseblk"]


@pytest.mark.parametrize("fs_type", REFUSED)
def test_network_and_fuse_file_systems_cannot_hold_sqlite_locks(tmp_path, fs_type):
    root = tmp_path.resolve()
    text = _mountinfo(root, [("share", fs_type)])
    assert filesystem_type(root / "share" / "ws.sqlite", mountinfo=text) == fs_type
    assert not is_lock_safe_filesystem(fs_type)
    assert is_network_path(root / "share" / "sub" / "ws.sqlite", mountinfo=text)
    assert not is_network_path(root / "elsewhere" / "ws.sqlite", mountinfo=text)


@pytest.mark.parametrize("fs_type", ACCEPTED)
def test_local_file_systems_are_accepted(tmp_path, fs_type):
    root = tmp_path.resolve()
    text = _mountinfo(root, [("disk", fs_type)])
    assert is_lock_safe_filesystem(fs_type)
    assert not is_network_path(root / "disk" / "ws.sqlite", mountinfo=text)


def test_longest_mount_point_wins_and_escapes_are_read(tmp_path):
    root = tmp_path.resolve()
    text = _mountinfo(
        root,
        [
            ("remote", "fuse.rclone"),
            ("remote/cache", "ext4"),
            ("ward share", "cifs"),
            ("tab\there", "nfs4"),
            ("back\\slash", "9p"),
            ("remote/cache/deeper", "sshfs"),
        ],
    )
    assert filesystem_type(root / "remote" / "x" / "ws.sqlite", mountinfo=text) == "fuse.rclone"
    assert filesystem_type(root / "remote" / "cache" / "ws.sqlite", mountinfo=text) == "ext4"
    assert filesystem_type(root / "remote" / "cachex" / "ws", mountinfo=text) == "fuse.rclone"
    assert filesystem_type(root / "ward share" / "ws.sqlite", mountinfo=text) == "cifs"
    assert filesystem_type(root / "tab\there" / "ws.sqlite", mountinfo=text) == "nfs4"
    assert filesystem_type(root / "back\\slash" / "ws.sqlite", mountinfo=text) == "9p"
    assert filesystem_type(root / "remote/cache/deeper/ws", mountinfo=text) == "sshfs"
    assert filesystem_type(root / "ws.sqlite", mountinfo=text) == "ext4"


def test_opening_a_workspace_on_a_fuse_mount_is_refused(tmp_path, monkeypatch):
    root = tmp_path.resolve()
    (root / "rclone").mkdir()
    text = _mountinfo(root, [("rclone", "fuse.rclone")])
    monkeypatch.setattr(engine_module, "read_mountinfo", lambda: text)
    with pytest.raises(WorkspaceError) as refused:
        Workspace.open(f"sqlite:///{root / 'rclone' / 'ws.sqlite'}")
    assert "fuse.rclone" in refused.value.message and "PostgreSQL" in refused.value.message
    assert "\n" not in refused.value.message
    assert not (root / "rclone" / "ws.sqlite").exists()


def test_the_real_mount_table_accepts_the_test_folder(tmp_path):
    """The machine's own /proc/self/mountinfo: the temporary folder is a local disk."""
    fs_type = filesystem_type(tmp_path / "ws.sqlite")
    assert fs_type is not None and is_lock_safe_filesystem(fs_type)
    Workspace.open(f"sqlite:///{tmp_path / 'ws.sqlite'}").dispose()
