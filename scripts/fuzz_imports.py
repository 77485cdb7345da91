"""`make fuzz-imports`: the hostile import corpus and the generated files (tests/test_hostile_imports.py), with the
figures: files tried, errors found (each refused with its French message), crashes (must be 0).

HYPOTHESIS_PROFILE=fuzz runs 2,000 generated examples per property instead of 200.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Summary:
    def __init__(self):
        self.passed, self.failed = [], []

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome == "failed":
            (self.passed if report.passed else self.failed).append(report.nodeid)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    summary = Summary()
    code = pytest.main([str(ROOT / "tests" / "test_hostile_imports.py"), "-q", "-p", "no:randomly"], plugins=[summary])
    from tests import test_hostile_imports as suite

    corpus = len(suite.CORPUS)
    refused = sum(1 for node in summary.passed if "is_refused_by" in node)
    print()
    print(f"Corpus : {corpus} fichiers hostiles, essayés par import_projects, import_territories et l'envoi web")
    for case in suite.CORPUS:
        print(f"  - {case.name} : {case.what}")
    print(f"Refus avec message français (commande et web) : {refused} sur {2 * corpus - 1} essais")
    print(f"Exemples générés (hypothesis) : {suite.EXAMPLES['csv']} CSV, {suite.EXAMPLES['bytes']} suites d'octets")
    print(f"Plantages (exception, erreur 500, base modifiée, mémoire) : {len(summary.failed)}")
    for node in summary.failed:
        print(f"  ÉCHEC {node}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
