#!/usr/bin/env python3
"""Usage events for bench/usage.sh: EVENTS events over TENANTS tenants and DAYS days before END,
with the cardinalities of the issue (per tenant 5 teams, 10 features, 10 keys, 3 providers,
8 models, 20 endpoints), the same every run (each tenant's events seeded by its number, so
tenants FIRST..LAST can be written by one process and the rest by another). ORDER `spread` (the
default) scatters each batch over all DAYS days, the rollups' worst case (nearly every event its own
row of the daily and hourly rollups); `time` sends each tenant's events in the order they occurred,
as a gateway reporting as it goes does, so a batch covers a few days. Writes, into OUT:
  ndjson/<tenant>-<n>.ndjson   batches of at most 10,000 events of one tenant (the API's limit),
  copy/<tenant>-<n>.tsv        the same rows in COPY's text format, for the bare COPY beside it.
Usage: usage-generate.py OUT EVENTS TENANTS DAYS END_EPOCH [FIRST LAST [ORDER]]"""
import os, random, sys, time

out, events, tenants, days, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
first, last = (int(sys.argv[6]), int(sys.argv[7])) if len(sys.argv) > 7 else (1, tenants)
order = sys.argv[8] if len(sys.argv) > 8 else "spread"
providers = {"openai": ["gpt-4o", "gpt-4o-mini", "o1-mini"], "anthropic": ["claude-3-5-sonnet", "claude-3-5-haiku", "claude-3-opus"],
             "vertex": ["gemini-1.5-pro", "gemini-1.5-flash"]}
models = [(p, m) for p, ms in providers.items() for m in ms]  # 3 providers, 8 models
os.makedirs(os.path.join(out, "ndjson"), exist_ok=True)
os.makedirs(os.path.join(out, "copy"), exist_ok=True)
per_tenant = events // tenants
start = end - days * 86400
for t in range(first, last + 1):
    rng = random.Random(20261127 * 1000 + t)
    pick = rng.randrange
    slug = "u%02d" % t
    instants = [start + pick(days * 86400) for _ in range(per_tenant)]
    if order == "time":
        instants.sort()
    written = 0
    batch = 0
    while written < per_tenant:
        size = min(10000, per_tenant - written)
        lines, rows = [], []
        for i in range(size):
            provider, model = models[pick(8)]
            occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(instants[written + i]))
            event_id = "%s-%d" % (slug, written + i)
            team, feature, key, endpoint = "team-%d" % pick(5), "feature-%d" % pick(10), "key-%d" % pick(10), "endpoint-%d" % pick(20)
            tokens_in, tokens_out, cached = pick(50, 4000), pick(10, 800), pick(0, 2000)
            latency, ttft = pick(200, 5000), pick(50, 900)
            # The values hold nothing JSON or COPY would escape, so both are written as plain text.
            lines.append(
                '{"event_id":"%s","occurred_at":"%s","provider":"%s","model":"%s","team":"%s","feature":"%s","key_ref":"%s",'
                '"endpoint":"%s","input_tokens":%d,"output_tokens":%d,"cached_input_tokens":%d,"requests":1,"latency_ms":%d,'
                '"ttft_ms":%d,"status":"ok"}\n'
                % (event_id, occurred, provider, model, team, feature, key, endpoint, tokens_in, tokens_out, cached, latency, ttft))
            rows.append("%s\t%s\ttokens\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t1\t%d\t%d\tok\t\t\t0\n"
                        % (event_id, occurred, provider, model, model, endpoint, team, feature, key, tokens_in, tokens_out, cached,
                           latency, ttft))
        with open(os.path.join(out, "ndjson", "%s-%05d.ndjson" % (slug, batch)), "w") as nd:
            nd.write("".join(lines))
        with open(os.path.join(out, "copy", "%s-%05d.tsv" % (slug, batch)), "w") as tsv:
            tsv.write("".join(rows))
        written += size
        batch += 1
