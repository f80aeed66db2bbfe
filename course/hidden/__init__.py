"""Hidden tests: computed in the student's kernel, judged in the grader (judge.py). The kernel's
side, untrusted.py and roles.py, is never imported by the grader's code: judge.py sends their
text into the kernel, where it runs beside the submission. signatures.py: what each cataloged
mistake leaves when graded, and which one a failed cell shows. This file is the face the other
packages call.
"""
from course.hidden import untrusted  # modules it shows
from course.hidden.judge import ATOL, HiddenTests, OUTPUT_BYTES, ROLES_SOURCE
from course.hidden.signatures import Signature, Signatures, SignaturesError

__all__ = ["ATOL", "HiddenTests", "OUTPUT_BYTES", "ROLES_SOURCE", "Signature", "Signatures",
           "SignaturesError", "untrusted"]
