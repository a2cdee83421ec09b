"""Executes notebooks headless, one fresh kernel each, and fails on the first cell that raises.

    python Notebooks/run.py [NOTEBOOK ...] [--timeout SECONDS] [--save DIR]
    python Notebooks/run.py --clear [NOTEBOOK ...]

Without notebooks it runs every Notebooks/*.ipynb in name order. Each notebook runs in its own
directory, as Jupyter would run it, and nothing is written back: the notebooks stay committed without
outputs, and the temporary directories they work in are removed afterwards. --save DIR writes the
executed copies into DIR for reading; --clear strips outputs and execution counts in place (do that
before committing a notebook you ran in Jupyter).

Prints one line per notebook with its time and ends with a count. The exit status is 1 when a cell
raised or timed out, and the line for that notebook names the cell.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# Prefer the kernel of the environment running this script over a "python3" kernel a user may have
# installed elsewhere.
os.environ.setdefault("JUPYTER_PREFER_ENV_PATH", "1")
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

import nbformat  # noqa: E402
import zmq  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from traitlets.config import Config  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402

HERE = Path(__file__).resolve().parent


def has_outputs(notebook) -> bool:
    return any(
        cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
        for cell in notebook.cells
    )


def clear(notebook) -> None:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def describe(notebook, index: int) -> str:
    """Names a cell so it can be found in Jupyter: its place, its kind of count and its first line."""
    cell = notebook.cells[index]
    code_number = sum(1 for c in notebook.cells[: index + 1] if c.cell_type == "code")
    lines = [line for line in cell.source.splitlines() if line.strip()]
    first = lines[0].strip() if lines else "(empty)"
    if len(first) > 70:
        first = first[:67] + "..."
    return f"cell {index + 1} (code cell {code_number}): {first}"


def error_summary(notebook, index: int) -> str:
    for output in notebook.cells[index].get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
    return ""


def execute(path: Path, timeout: int, save: Path | None) -> bool:
    notebook = nbformat.read(path, as_version=4)
    if has_outputs(notebook):
        print(f"  note: {path.name} holds outputs; clear them before committing (run.py --clear)")
        clear(notebook)
    current = {"index": -1}

    def on_cell_start(cell, cell_index):
        current["index"] = cell_index

    # The kernel talks to this process over local sockets; encrypt them when ZeroMQ can.
    config = Config({"KernelManager": {"transport_encryption": "auto" if zmq.has("curve") else "disabled"}})
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
        config=config,
    )
    start = time.monotonic()
    failure = None
    saved_tmpdir = os.environ.get("TMPDIR")
    try:
        # The kernel inherits TMPDIR: what the notebook puts in temporary directories goes when it ends.
        with tempfile.TemporaryDirectory(prefix="notebook-") as scratch:
            os.environ["TMPDIR"] = scratch
            client.execute()
    except CellTimeoutError:
        failure = f"timed out after {timeout} s"
    except DeadKernelError as error:
        failure = f"the kernel died ({error})"
    except CellExecutionError:
        failure = "raised"
    except Exception as error:  # the kernel did not start, say
        failure = f"could not run: {type(error).__name__}: {error}"
    finally:
        if saved_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_tmpdir
    seconds = time.monotonic() - start

    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, save / path.name)
    if failure is None:
        print(f"{path.name:<32} {seconds:6.1f} s")
        return True
    index = current["index"]
    where = describe(notebook, index) if index >= 0 else "before the first cell:"
    print(f"{path.name:<32} {seconds:6.1f} s  FAILED: {where} {failure}")
    summary = error_summary(notebook, index) if index >= 0 and failure == "raised" else ""
    # The whole message: a failed command's error output (a crash report, say) is in it.
    lines = summary.splitlines()
    if len(lines) > 60:
        lines = lines[:20] + [f"... ({len(lines) - 40} lines left out)"] + lines[-20:]
    for line in lines:
        print(f"  {line}")
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: Notebooks/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("NOTEBOOK_CELL_TIMEOUT", "120")),
                        help="seconds one cell may take (default: 120, or NOTEBOOK_CELL_TIMEOUT)")
    parser.add_argument("--save", type=Path, help="write the executed notebooks into this directory")
    parser.add_argument("--clear", action="store_true", help="strip outputs in place instead of executing")
    arguments = parser.parse_args()

    paths = [p.resolve() for p in arguments.notebooks] or sorted(HERE.glob("*.ipynb"))
    if not paths:
        print("no notebooks found")
        return 1

    if arguments.clear:
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            clear(notebook)
            nbformat.write(notebook, path)
            print(f"cleared {path.name}")
        return 0

    failed = [path.name for path in paths if not execute(path, arguments.timeout, arguments.save)]
    executed = len(paths) - len(failed)
    noun = "notebook" if executed == 1 else "notebooks"
    if failed:
        print(f"{executed} {noun} executed, {len(failed)} failed: {', '.join(failed)}")
        return 1
    print(f"{executed} {noun} executed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
