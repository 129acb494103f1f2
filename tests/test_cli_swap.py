"""``frameswap swap``'s flags: their defaults are the option records' own, and each flag lands."""

from __future__ import annotations

from dataclasses import replace

from frameswap.cli import build_parser
from frameswap.cli.swap_cmd import options_from
from frameswap.options import EncodeOptions, SwapOptions, TrackerOptions


def parse(*flags: str):
    return build_parser().parse_args(["swap", "me.jpg", "clip.gif", *flags])


def test_no_flags_give_exactly_the_default_swap_options():
    assert options_from(parse()) == SwapOptions()


def test_each_flag_reaches_its_option_and_nothing_else_moves():
    got = options_from(parse("--input-faces-index", "1,0", "--source-faces-index", "0,1",
                             "--face-restore", "GFPGANv1.4.pth", "--restore-weight", "0.7",
                             "--restore-blend", "0.4", "--engine", "classic", "--analyzer", "dlib",
                             "--reference-frame", "3", "--detect-every", "5", "--quality", "55",
                             "--batch-size", "2"))
    assert got == replace(
        SwapOptions(), input_faces_index="1,0", source_faces_index="0,1", face_restore="gfpgan-1.4",
        restore_weight=0.7, restore_blend=0.4, engine="classic", analyzer="dlib", reference_frame=3,
        tracker=TrackerOptions(detect_every=5), encode=EncodeOptions(quality=55), batch_size=2,
    )


def test_help_states_the_records_defaults():
    parser = build_parser()
    swap = parser._subparsers._group_actions[0].choices["swap"]  # the subcommand's own parser
    text = " ".join(swap.format_help().split())
    defaults = SwapOptions()
    assert f"(default {defaults.batch_size})" in text
    assert f"(default {defaults.encode.quality})" in text
    assert f"(default {defaults.tracker.detect_every})" in text
    assert f"(default {defaults.restore_weight})" in text
