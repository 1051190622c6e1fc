# Used by benches/screen.sh.
# A synthetic city as OCDS 1.1 compiled releases (JSON lines), for `kaibiao screen` and
# ocdscardinal on the same file.
import json, random, sys
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
n = int(sys.argv[1])
buyers = [f"CN-USCC-12420200MA4{i:06d}" for i in range(40)]
agencies = [f"CN-USCC-91420200MA5{i:06d}" for i in range(12)]
firms = [f"CN-USCC-91420200MA6{i:06d}" for i in range(600)]
out = sys.stdout
for p in range(n):
    k = random.choice([1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8])
    tenderers = random.sample(firms, k)
    budget = random.randint(50_000, 5_000_000)
    prices = [round(budget * random.uniform(0.78, 1.0), 2) for _ in tenderers]
    r = random.random()
    if r < 0.02 and k >= 2:
        prices[1] = prices[0]                      # identical prices
    statuses = ["valid"] * k
    if random.random() < 0.08 and k >= 2:          # a disqualified bid or two
        for i in random.sample(range(k), random.randint(1, k - 1)):
            statuses[i] = "disqualified"
    valid = [i for i in range(k) if statuses[i] == "valid"]
    winner = min(valid, key=lambda i: prices[i])
    others = [i for i in valid if i != winner]
    if 0.02 <= r < 0.05 and others:               # a runner-up just above the winner
        prices[others[0]] = round(prices[winner] * 1.002, 2)
    award_status = "pending" if random.random() < 0.03 else "active"
    release = {
        "ocid": f"ocds-kbhs-{p:07d}",
        "id": f"{p}-1",
        "date": "2026-06-01T00:00:00Z",
        "tag": ["compiled"],
        "initiationType": "tender",
        "buyer": {"id": random.choice(buyers)},
        "tender": {"id": str(p), "procuringEntity": {"id": random.choice(agencies)},
                   "numberOfTenderers": k, "procurementMethod": "open",
                   "awardCriteria": "priceOnly", "status": "complete"},
        "bids": {"details": [{"id": f"{p}-{i}", "status": statuses[i],
                              "tenderers": [{"id": t}],
                              "value": {"amount": prices[i], "currency": "CNY"}}
                             for i, t in enumerate(tenderers)]},
        "awards": [{"id": "1", "status": award_status, "suppliers": [{"id": tenderers[winner]}]}],
    }
    out.write(json.dumps(release, separators=(",", ":")) + "\n")
