"""Write the generated lexicons the local extractor ships in functions/healthchat/data/.

    .venv/bin/python scripts/build_lexicons.py

drug_names.tsv: drug names filtered from the `drug-named-entity-recognition` dictionary (see
healthchat.adapters.local.drug_lexicon for the rules).

gazetteer_conditions.txt: condition names from ICD-10-CM.

The CRF tagger (healthchat.adapters.local.ner_crf) reads "is this token inside a known condition name"
as one feature; this list is that knowledge. It comes from the ICD-10-CM code set that the
`simple-icd-10-cm` package ships (CDC/NCHS, public domain): each description and inclusion term of the
chapters for diseases, pregnancy, perinatal and congenital conditions and symptoms (A00-R99), cut to
its head ("Acute cystitis without hematuria" -> "acute cystitis"; "Tinnitus, unspecified ear" ->
"tinnitus"), one lower-case name a line. Injuries, external causes and encounter codes (S-Z) are left
out. The file is shipped so that tagging needs neither the package nor the build time (about 1 s), and
the model card hashes both files: after changing either, retrain with scripts/train_ner.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import simple_icd_10_cm as icd

from healthchat.adapters.local import drug_lexicon

DATA = Path(__file__).resolve().parents[1] / "functions" / "healthchat" / "data"
OUT = DATA / "gazetteer_conditions.txt"
_BRACKETS = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_CUT = re.compile(
    r",| with | without | due to | in | following | complicating | associated with | NOS\b| NEC\b"
    r"| of (?:unspecified|other|left|right|bilateral)\b"
)
_SKIP = re.compile(
    r"^(?:other|unspecified|personal|family|encounter|history|presence|status|contact|exposure|"
    r"underdosing|poisoning|adverse|person|toxic effect|abnormal findings?|elevated|low)\b",
    re.IGNORECASE,
)


def heads(description: str) -> str | None:
    """The head of one ICD-10-CM description or inclusion term, or None if it names no condition."""
    head = _CUT.split(_BRACKETS.sub("", description))[0]
    head = " ".join(head.split()).lower()
    if not head or _SKIP.match(head) or len(head.split()) > 5 or len(head) < 4:
        return None
    return head


def names() -> list[str]:
    out = set()
    for code in icd.get_all_codes(with_dots=False):
        if not "A" <= code[0] <= "R":
            continue
        for text in [icd.get_description(code), *icd.get_inclusion_term(code)]:
            head = heads(text)
            if head:
                out.add(head)
    return sorted(out)


def main() -> int:
    found = names()
    OUT.write_text(
        "# condition names from ICD-10-CM (public domain) via simple-icd-10-cm; scripts/build_gazetteer.py\n"
        + "\n".join(found)
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(found)} names -> {OUT}", file=sys.stderr)
    drugs = drug_lexicon.build_from_package()
    if not drugs:
        print("drug-named-entity-recognition is not installed", file=sys.stderr)
        return 1
    drug_lexicon.write_tsv(drugs, DATA / drug_lexicon.TSV_FILE)
    print(f"{len(drugs)} drug names -> {DATA / drug_lexicon.TSV_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
