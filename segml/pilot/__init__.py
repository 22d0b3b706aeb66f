"""Pilot a segmentation on a small sample with a control group, then read the effect out.

:func:`pilot_sample` draws a reproducible stratified pilot (treatment and control arms in
every segment, with a balance check); :func:`pilot_readout` compares the arms per segment
after the pilot window; :func:`simulate_pilot_outcomes` plants an effect to check both.
"""

from __future__ import annotations

from segml.pilot.readout import METRICS, PilotReadout, customer_outcomes, holm, pilot_readout
from segml.pilot.sample import ARMS, PilotSample, as_assignments, pilot_sample
from segml.pilot.simulate import simulate_pilot_outcomes

__all__ = [
    "ARMS",
    "METRICS",
    "PilotReadout",
    "PilotSample",
    "as_assignments",
    "customer_outcomes",
    "holm",
    "pilot_readout",
    "pilot_sample",
    "simulate_pilot_outcomes",
]
