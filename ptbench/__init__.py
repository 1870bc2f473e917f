"""The PTBench data format, in one place: samples (:mod:`ptbench.samples`), model answers in
the paper's text and JSON forms (:mod:`ptbench.answers`) and the training records the
synthesizer writes and the trainer reads (:mod:`ptbench.records`).

Why a package of its own: the assistant (benchmark mode), eval, synth and train all read or
write this format. It sits below all of them and imports none of them, so each imports it
directly and none re-exports it. The format itself is described in ``docs/ptbench.md``.
"""
