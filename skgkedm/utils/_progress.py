"""What a fit shows while it trains: a progress bar per phase, or a line per epoch."""

import sys


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class EpochReporter:
    """Report the epochs of one training phase.

    ``verbose=1`` shows a progress bar (tqdm when installed; otherwise a plain line every
    tenth of the phase) and a closing line; ``verbose>=2`` prints every epoch and the
    closing line; ``verbose=0`` shows nothing.

    Parameters
    ----------
    verbose : int
        Verbosity of the estimator.
    phase : str
        Name of the phase, e.g. ``"phase 1 (backbone)"``, or ``""`` for a single phase.
    max_epochs : int
        Epochs the phase may run.
    score_name : str, default="accuracy"
        Name of the validation score.
    """

    def __init__(self, verbose, phase, max_epochs, score_name="accuracy"):
        self.verbose = verbose
        self.score_name = score_name
        self.label = phase or "training"
        self.max_epochs = max_epochs
        self._bar = None
        if verbose == 1:
            tqdm = _tqdm()
            if tqdm is not None:
                self._bar = tqdm(total=max_epochs, desc=self.label, unit="epoch", leave=True)

    def epoch(self, epoch, loss, validation_score, milliseconds):
        """Report one finished epoch."""
        if not self.verbose:
            return
        message = f"loss {loss:.4f}"
        if validation_score is not None:
            message += f"  validation {self.score_name} {validation_score:.4f}"
        if self._bar is not None:
            self._bar.set_postfix_str(message, refresh=False)
            self._bar.update(1)
        elif self.verbose >= 2 or epoch % max(1, self.max_epochs // 10) == 0:
            print(f"{self.label}  epoch {epoch:4d}  {message}  ({milliseconds:.0f} ms)")

    def close(self, epochs, reason, best_epoch, best_score):
        """Report how the phase ended: epochs run, why it stopped, the epoch kept."""
        if self._bar is not None:
            self._bar.close()
        if not self.verbose:
            return
        kept = f"best epoch {best_epoch}"
        if best_score is not None:
            kept += f" (validation {self.score_name} {best_score:.4f})"
        sys.stdout.flush()
        print(f"{self.label}: {epochs} epochs, stopped: {reason}; {kept}")
