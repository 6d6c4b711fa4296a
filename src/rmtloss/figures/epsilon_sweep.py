"""Figure ``epsilon_sweep``: Adam's final test error against ε with SGD's band (left), the test
error during training for each ε (middle) and the validation error over each learning-rate grid
with the chosen rates (right), one row per setting. The left panel draws the premise of CLAIMS.md
v3: SGD's error + 2 s.e. of the difference at the smallest ε (dotted); Adam at the smallest ε must
lie above it for a gap to exist, and the title says whether it does."""

from __future__ import annotations

from matplotlib.figure import Figure

from rmtloss.figures import Record
from rmtloss.figures._style import arm_curve, grid, mean_curve, ramp


def _sgd_band(ax, sgd: dict) -> None:  # noqa: ANN001
    ax.axhspan(
        sgd["mean"] - sgd["se"],
        sgd["mean"] + sgd["se"],
        color="0.85",
        label=f"SGD, lr {sgd['lr']:g} (mean ± s.e.)",
    )
    ax.axhline(sgd["mean"], color="0.4", lw=0.8)


def _training(ax, rec: Record) -> None:  # noqa: ANN001
    """Mean test error per epoch for each ε and for SGD's reference learning rate."""
    s = rec.stats
    for arm, color in zip(s["adam"], ramp(len(s["adam"])), strict=True):
        curve = mean_curve(rec.samples, f"test_error.{arm['arm']}")
        ax.plot(curve, color=color, lw=1, label=f"{arm['eps']:g}")
    sgd = mean_curve(rec.samples, f"test_error.{s['sgd']['arm']}")
    ax.plot(sgd, color="0.3", ls="--", lw=1, label=f"SGD, lr {s['sgd']['lr']:g}")
    ax.set(yscale="log", xlabel="epoch", ylabel="test error (mean over seeds)",
           title="test error during training")
    ax.legend(fontsize=7, title=r"Adam $\epsilon$", title_fontsize=7, ncols=2)


def _tuning(ax, s: dict) -> None:  # noqa: ANN001
    """Mean final validation error against the learning rate for SGD and each ε; rings: the choices."""
    arms = [(s["sgd"], "SGD", "0.3", "--")] + [
        (a, f"{a['eps']:g}", c, "-") for a, c in zip(s["adam"], ramp(len(s["adam"])), strict=True)
    ]
    for arm, label, color, ls in arms:
        t = arm.get("tuning")
        if not t:
            continue
        lrs = [g["lr"] for g in t["grid"]]
        ax.plot(lrs, [g["val_mean"] for g in t["grid"]], ls, color=color, lw=1, marker=".", label=label)
        chosen = next(g for g in t["grid"] if g["lr"] == t["lr"])
        ax.plot(t["lr"], chosen["val_mean"], "o", mfc="none", color=color, ms=7)
    ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final validation error",
           title=f"tuning: {s['n_validation']} held-out training samples")
    ax.legend(fontsize=6, title=r"Adam $\epsilon$", title_fontsize=6, ncols=2)


def draw(records: list[Record]) -> Figure:
    """Test error vs ε (log axis; ε = 0 not allowed) and during training, every epsilon_sweep setting."""
    recs = [r for r in records if r.kind == "epsilon_sweep"]
    fig, axes = grid(3 * len(recs), ncols=3, size=3.0)
    for ax, ax2, ax3, rec in zip(axes[::3], axes[1::3], axes[2::3], recs, strict=True):
        s = rec.stats
        _sgd_band(ax, s["sgd"])
        adam = r"Adam (tuned lr) $\times (1 + \epsilon)$" if s["shrinkage"] else "Adam (tuned lr)"
        arm_curve(ax, s["adam"], "eps", adam, "o-", "C0")
        small = min(s["adam"], key=lambda a: a["eps"])
        se = (small["se"] ** 2 + s["sgd"]["se"] ** 2) ** 0.5
        ax.axhline(s["sgd"]["mean"] + 2 * se, color="C3", ls=":", lw=1,
                   label=r"premise: SGD + 2 s.e. (gap at the smallest $\epsilon$)")
        gap = "a gap exists" if small["mean"] - s["sgd"]["mean"] > 2 * se else "no gap: premise absent"
        ax.set_xscale("log")
        ax.set_xlabel(r"$\epsilon$ (damping)")
        ax.set_ylabel("final test error")
        ax.set_title(
            f"{s['setting']}: {s['model']} on {s['data']}\n(P = {s['num_params']}, "
            f"N = {s['n_train']}), {len(s['seeds'])} seeds, {s['epochs']} epochs; {gap}"
        )
        ax.legend(fontsize=7)
        _training(ax2, rec)
        if "n_validation" in s:
            _tuning(ax3, s)
        else:
            ax3.set_axis_off()
    return fig
