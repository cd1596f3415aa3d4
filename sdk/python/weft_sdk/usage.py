"""Reporting what a call used that the host cannot measure itself (an LLM's
tokens and their cost): a log record the host reads, counted before the log
budget applies. Several reports in one attempt add up.

    from weft_sdk import usage
    usage.report(llm_input_tokens=1200, llm_output_tokens=300, llm_cost_micros=1_050_000)
"""

from __future__ import annotations

from . import log

RECORD = "weft.usage"
"""The message of the log record the host reads as a usage report."""


def report(llm_input_tokens: int = 0, llm_output_tokens: int = 0, llm_cost_micros: int = 0) -> None:
    """Report usage; zero counters are not sent, an all-zero report is not written."""
    fields = {k: str(int(v)) for k, v in (("llm_input_tokens", llm_input_tokens),
                                           ("llm_output_tokens", llm_output_tokens),
                                           ("llm_cost_micros", llm_cost_micros)) if int(v) > 0}
    if fields:
        log.write(log.Level.INFO, RECORD, **fields)
