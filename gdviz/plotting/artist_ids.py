"""The ids (matplotlib gids) of the artists in the path and loss figures, by which the
animation and the explorer find what ``gdviz.plotting`` drew: each kind of artist is named
here once, and every module that sets or looks for one uses these names."""
from __future__ import annotations

# drawn by gdviz.plotting (plot_contour, mark_minima, plot_trajectory, plot_loss)
CONTOUR = "contour"              # the surface's contour lines
MINIMUM = "minimum"              # ★ at each minimum
SADDLE = "saddle"                # ✕ at each saddle point
START = "start"                  # □ at a run's first point
PATH = "path"                    # a run's path θ_0 … θ_n
LOSS = "loss"                    # a run's loss curve f(θ_k) − f_min
DIVERGED = "diverged"            # ✕ where a diverged run stops (path and loss panels)
AT_MINIMUM = "at_minimum"        # ▼ where the loss gap reached 0 (off the log scale)
DIVERGED_NOTE = "diverged_note"  # "SGD diverged at step 7 →" at the view's edge
DIVERGED_HATCH = "diverged_hatch"  # the hatching over diverged cells of a map

# drawn by the explorer on top of those
DIVERGED_STEP = "diverged-step"       # the loss panel's dashed line at the divergence
DIVERGED_STEP_NOTE = "diverged-note"  # … and its words
CURRENT_SETTING = "current-setting"   # the sliders' setting on the stability map

# the other figures of gdviz.plotting (the tests find their parts by these)
TERM = "term"                    # step anatomy: one term of the step
REFERENCE = "reference"          # … the plain gradient step it is compared with
STEP = "step"                    # … the whole step
QUANTITY = "quantity"            # stability map: the measured quantity
NOT_CONVERGED = "not_converged"  # … runs that neither converged nor diverged
THEORY = "theory"                # … the stability limit from theory
OPTIMAL = "optimal"              # stability and rate maps: the best setting
SETTING = "current"              # … the setting asked about
RATE = "rate"                    # rate map: the contraction rate per eigen-direction
CRITICAL = "critical"            # … the edge of stability
MEASURED = "measured"            # eigen-errors: measured
PREDICTED = "predicted"          # … and predicted
VELOCITY = "velocity"            # internal state: momentum's velocity arrows
EFFECTIVE_LR = "effective_lr"    # … the effective learning rate per coordinate
LR = "lr"                        # … the base learning rate
