"""Atomic writes: nothing half-written is left, and finished files follow the process umask."""

from __future__ import annotations

import os
import stat

import pytest

from rmtloss._io import atomic_path, write_text


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_finished_file_has_the_permissions_of_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == mode


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "b.npz") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_long_panel_titles_are_wrapped_so_neighbours_never_overlap(tmp_path):
    """A title longer than its panel (the float32 set's in spacing_ratios) is broken into lines by
    figures._style.save; the titles' boxes of neighbouring panels stay apart (they overlapped before)."""
    from rmtloss.figures import _style

    def titled():
        fig, axes = _style.grid(4)
        long = "logistic: Hessian, trained, b=64, float32 (the authors' pipeline, reported)"
        for ax in axes:
            ax.set_title(long + "\n" + r"$\langle\tilde r\rangle$ = 0.5")
        return fig, axes

    def apart(axes):
        boxes = [ax.title.get_window_extent() for ax in axes]
        return all(not a.overlaps(b) for a, b in zip(boxes, boxes[1:], strict=False))

    fig, axes = titled()
    fig.draw_without_rendering()
    assert not apart(axes)  # the control: unwrapped, they run into each other
    fig, axes = titled()
    _style.save(fig, str(tmp_path / "f"))
    assert apart(axes)
    text = axes[0].title.get_text()
    assert text.count("\n") >= 2 and r"$\langle\tilde r\rangle$ = 0.5" in text
    assert (tmp_path / "f.png").is_file()
