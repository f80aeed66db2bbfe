"""Names and text from a submission, made safe: a student id to grade under, a line of a report."""
import unicodedata

ID_PUNCTUATION = "._@+-"  # besides letters and digits of any script, in a student id


def safe_id(student):
    """Whether `student` is a safe path component to grade under: 1 to 64 characters, letters
    and digits of any script (with their combining marks: "ü" written as u + ¨) and . _ @ + -,
    starting with a letter or digit (so never "." or ".."). nbgrader and JupyterHub accept such
    names; separators, control characters, spaces and leading dots stay out."""
    return (isinstance(student, str) and 0 < len(student) <= 64 and student[0].isalnum()
            and all(c.isalnum() or c in ID_PUNCTUATION or unicodedata.category(c) in ("Mn", "Mc")
                    for c in student))


def escape(text, limit=300):
    """`text` on one line, at most `limit` characters: control and other unprintable characters
    become escapes, so nothing a submission chose can start a line of a report."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(text))
    return text if len(text) <= limit else text[:limit - 3] + "..."
