"""A batch's submissions graded `jobs` at a time, with a progress line as each ends."""
import threading
from concurrent.futures import ThreadPoolExecutor

from course.core import escape


def graded_in_parallel(grade_one, name, students, jobs):
    """{student: grade_one(student)} for `students` (in their order), `jobs` at a time, with a
    progress line as each ends: what a batch of assignment `name` prints, here or on a queue."""
    records, done, lock = {}, 0, threading.Lock()

    def task(student):
        nonlocal done
        record = grade_one(student)
        with lock:
            done += 1
            records[student] = record
            print(f"[{done}/{len(students)}] {name}: graded {escape(student, 40):40s} "
                  f"{record.seconds:5.1f} s  {escape(record.problem or 'ok', 160)}",
                  flush=True)

    with ThreadPoolExecutor(max(1, min(jobs, len(students)))) as pool:
        list(pool.map(task, students))
    return {student: records[student] for student in students}
