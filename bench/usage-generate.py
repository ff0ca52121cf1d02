#!/usr/bin/env python3
"""Usage events for bench/usage.sh: EVENTS events over TENANTS tenants and DAYS days before END,
with the cardinalities of the issue (per tenant 5 teams, 10 features, 10 keys, 3 providers,
8 models, 20 endpoints), the same every run (seeded). Writes, into OUT:
  ndjson/<tenant>-<n>.ndjson   batches of at most 10,000 events of one tenant (the API's limit),
  copy/<tenant>-<n>.tsv        the same rows in COPY's text format, for the bare COPY beside it.
Usage: usage-generate.py OUT EVENTS TENANTS DAYS END_EPOCH"""
import json, os, random, sys

out, events, tenants, days, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
random.seed(20261127)
providers = {"openai": ["gpt-4o", "gpt-4o-mini", "o1-mini"], "anthropic": ["claude-3-5-sonnet", "claude-3-5-haiku", "claude-3-opus"],
             "vertex": ["gemini-1.5-pro", "gemini-1.5-flash"]}
models = [(p, m) for p, ms in providers.items() for m in ms]  # 3 providers, 8 models
os.makedirs(os.path.join(out, "ndjson"), exist_ok=True)
os.makedirs(os.path.join(out, "copy"), exist_ok=True)
per_tenant = events // tenants
start = end - days * 86400
for t in range(1, tenants + 1):
    slug = "u%02d" % t
    written = 0
    batch = 0
    while written < per_tenant:
        size = min(10000, per_tenant - written)
        with open(os.path.join(out, "ndjson", "%s-%05d.ndjson" % (slug, batch)), "w") as nd, \
             open(os.path.join(out, "copy", "%s-%05d.tsv" % (slug, batch)), "w") as tsv:
            for i in range(size):
                provider, model = models[random.randrange(8)]
                at = start + random.randrange(days * 86400)
                occurred = "%sZ" % __import__("datetime").datetime.utcfromtimestamp(at).isoformat()
                event = {
                    "event_id": "%s-%d" % (slug, written + i), "occurred_at": occurred, "provider": provider, "model": model,
                    "team": "team-%d" % random.randrange(5), "feature": "feature-%d" % random.randrange(10),
                    "key_ref": "key-%d" % random.randrange(10), "endpoint": "endpoint-%d" % random.randrange(20),
                    "input_tokens": random.randrange(50, 4000), "output_tokens": random.randrange(10, 800),
                    "cached_input_tokens": random.randrange(0, 2000), "requests": 1,
                    "latency_ms": random.randrange(200, 5000), "ttft_ms": random.randrange(50, 900), "status": "ok",
                }
                nd.write(json.dumps(event, separators=(",", ":")) + "\n")
                tsv.write("\t".join(str(x) for x in [
                    event["event_id"], occurred, "tokens", provider, model, model, event["endpoint"], event["team"], event["feature"],
                    event["key_ref"], event["input_tokens"], event["output_tokens"], event["cached_input_tokens"], 1,
                    event["latency_ms"], event["ttft_ms"], "ok", "", "", "0"]) + "\n")
        written += size
        batch += 1
