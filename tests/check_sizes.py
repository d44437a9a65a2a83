#!/usr/bin/env python3
"""The size rule of docs/ARCHITECTURE.md: no file under src/, apps/ or python/ over 800 lines and no
function over 100 lines (docstrings of the Python bindings, R"doc(...)doc", and comments excluded).
Functions are found by their braces after comments and string literals are blanked; a function's
lambdas and blocks count toward it. Usage: check_sizes.py SOURCE_DIR"""
import pathlib
import re
import sys

MAX_FILE_LINES, MAX_FUNCTION_LINES = 800, 100
SIGNATURE_END = re.compile(r"\)\s*(const)?\s*(override)?\s*(noexcept)?\s*(->\s*[\w:<>&*, ]+)?\s*$")


def blank(text):
    """Comments and string literals replaced by nothing or "" (newlines kept, so lines still count)."""
    keep_lines = lambda m: "\n" * m.group(0).count("\n")
    text = re.sub(r'R"doc\(.*?\)doc"', lambda m: '""' + keep_lines(m), text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", keep_lines, text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(\\.|[^'\\\n])'", "''", text)


def long_functions(text):
    """(first line, length) of every function body longer than MAX_FUNCTION_LINES."""
    found, stack, head_start, line = [], [], 0, 1
    for i, ch in enumerate(text):
        if ch == "\n":
            line += 1
        elif ch == "{":
            head = text[head_start:i].strip()
            if stack and stack[-1][0] in ("function", "block"):
                kind = "block"
            elif SIGNATURE_END.search(head) or re.search(r"\)\s*:\s*\w", head):
                kind = "function"
            else:
                kind = "scope"  # namespace, class, struct, enum, initialiser
            stack.append((kind, line))
            head_start = i + 1
        elif ch == "}":
            if stack:
                kind, start = stack.pop()
                if kind == "function" and line - start + 1 > MAX_FUNCTION_LINES:
                    found.append((start, line - start + 1))
            head_start = i + 1
        elif ch == ";":
            head_start = i + 1
    return found


def main(root):
    root = pathlib.Path(root)
    problems, checked = [], 0
    for folder in ("src", "apps", "python"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".h"):
                continue
            checked += 1
            text = path.read_text(errors="replace")
            lines = text.count("\n")
            if lines > MAX_FILE_LINES:
                problems.append(f"{path.relative_to(root)}: {lines} lines (at most {MAX_FILE_LINES})")
            for start, length in long_functions(blank(text)):
                problems.append(f"{path.relative_to(root)}:{start}: a function of {length} lines "
                                f"(at most {MAX_FUNCTION_LINES})")
    if checked < 50:
        sys.exit(f"only {checked} files under {root}: wrong SOURCE_DIR?")
    if problems:
        sys.exit("size rule broken:\n  " + "\n  ".join(problems))
    print(f"size rule holds for {checked} files")


if __name__ == "__main__":
    # A self-check first, so that a detector that finds nothing cannot pass silently.
    sample = "namespace a {\nint f(int x) {\n" + "  x += 1;\n" * 120 + "  return x;\n}\n}\n"
    assert long_functions(blank(sample)) == [(2, 123)], long_functions(blank(sample))
    main(sys.argv[1])
