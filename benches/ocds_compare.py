# Used by benches/screen.sh.
# Flags of ocdscardinal and of `kaibiao screen` on the same file, compared per indicator.
import json, sys
card = json.load(open(sys.argv[1]))
kb = json.load(open(sys.argv[2]))
codes = ["R018", "R024", "R028", "R035", "R036", "R058"]
c_sets = {c: {o for o, r in card.get("OCID", {}).items() if c in r} for c in codes}
k_sets = {c: {t["ocid"] for t in kb["tenders"] if c in t["flags"]} for c in codes}
print("| flag | ocdscardinal | kaibiao screen | only cardinal | only kaibiao |")
print("| --- | --- | --- | --- | --- |")
for c in codes:
    print(f"| {c} | {len(c_sets[c])} | {len(k_sets[c])} | {len(c_sets[c]-k_sets[c])} | {len(k_sets[c]-c_sets[c])} |")
groups = {"Buyer": "buyer", "ProcuringEntity": "procuring_entity", "Tenderer": "tenderer"}
for g, ours in groups.items():
    cs = {o for o, r in card.get(g, {}).items() if "R038" in r}
    ks = {f["org_id"] for f in kb["cross"]["r038"] if f["group"] == ours}
    print(f"| R038 {g} | {len(cs)} | {len(ks)} | {len(cs-ks)} | {len(ks-cs)} |")
for c in codes:
    d = sorted(c_sets[c] ^ k_sets[c])[:3]
    if d:
        print(c, "differs on e.g.", d, file=sys.stderr)
