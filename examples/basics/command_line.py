"""
Train, predict and screen from the command line
===============================================

The ``skmatnet`` command does the whole job without Python: ``train`` fits a network on a
dataset or a CSV file and saves it, ``predict`` adds its predictions to a table of formulas,
and ``screen`` ranks every composition of a chemical system. Each is run here as a user
would run it in a shell.
"""

# %%
# Settings: the gallery trains on 3,000 rows for 3 epochs. Full:
# ``python examples/basics/command_line.py --full`` trains on every row for the recipe's
# schedule (100 epochs on a set this size).
import sys

FULL = "--full" in sys.argv[1:]
BUDGET = [] if FULL else ["--max-rows", "3000", "--max-epochs", "3"]

# %%
# A helper that runs one command and shows what it prints, as a terminal would.
import subprocess
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())


def skmatnet(*args):
    print("$ skmatnet", " ".join(args))
    result = subprocess.run([sys.executable, "-m", "skmatnet", *args], cwd=folder,
                            capture_output=True, text=True)
    # The progress lines rewrite themselves with carriage returns; the last state is kept.
    progress = [line.split("\r")[-1].strip() for line in result.stderr.splitlines()]
    print(result.stdout + "\n".join(line for line in progress if line))
    result.check_returncode()


# %%
# ``skmatnet train DATA`` takes a dataset name or a CSV file with a formula and a target
# column, and writes a model file that loads without running code from it.
skmatnet("train", "jarvis_formation_energy", "--model", "brnet", *BUDGET, "--seed", "0",
         "-o", "brnet.skmatnet")

# %%
# ``skmatnet predict MODEL FORMULAS`` reads a CSV (or standard input, ``-``) and writes its
# columns plus ``prediction``. A formula it cannot read is an error naming its row.
(folder / "candidates.csv").write_text("formula\nLiFePO4\nFe2O3\nNaCl\nLi2MnO3\n")
skmatnet("predict", "brnet.skmatnet", "candidates.csv", "-o", "predicted.csv")
print((folder / "predicted.csv").read_text())

# %%
# ``skmatnet screen`` lists every composition of the systems (here Li-Fe-O and its binaries,
# at most 8 atoms per formula unit), predicts them in chunks, and keeps the lowest.
skmatnet("screen", "brnet.skmatnet", "--systems", "Li-Fe-O", "--subsystems",
         "--max-atoms", "8", "--bottom", "5")
