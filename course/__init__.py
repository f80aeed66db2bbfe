"""The course's own code: grading, the grade audit, references, data and the pretrained model."""
import sys

# nbformat imports jsonschema, which imports rfc3987_syntax where it is installed (jupyter's
# jsonschema[format-nongpl] installs it) and builds an IRI grammar at import: about 1 s of every
# grading process's start (course.grade, each worker), most of importing nbgrader. Only
# jsonschema's "iri" format checks need it, and nothing here checks formats (nbformat validates
# notebooks without them), so the course's processes go without it.
sys.modules.setdefault("rfc3987_syntax", None)
