// What `purser dev` seeds for costs: public list prices of common models and GPUs, each with the
// page it comes from and the date it was taken down (prices change: the catalogue page shows both,
// so anyone can check them), a 10 % markup for the demo tenant, and six weeks of usage through the
// same ingest as the API, so that reports, budgets and anomalies have data.
import Foundation
import Postgres

enum DemoCosts {
    /// (provider, model, input, output, cached input per million tokens in USD, source). Each
    /// figure was checked against its page on `readOn`; neither page states a date of its own.
    /// Dropped for want of a page that confirms them: Azure OpenAI gpt-4o (the Azure pricing page
    /// shows its figures only after a region is chosen), Bedrock's Llama 3.1 70B (the figure found
    /// named Llama 3, the only 3.1 figure disagreed), and Vertex's Gemini 1.5 (Vertex priced it per
    /// 1,000 characters, not per token). Their demo usage is listed as unpriced, as any model no
    /// price covers is.
    static let tokenPrices: [(String, String, String, String, String?, String)] = [
        (
            "openai", "gpt-4o", "2.50", "10.00", "1.25",
            "https://developers.openai.com/api/docs/models/chatgpt-4o-latest (quick comparison: GPT-4o)"
        ),
        (
            "openai", "gpt-4o-mini", "0.15", "0.60", "0.075",
            "https://developers.openai.com/api/docs/models/chatgpt-4o-latest (quick comparison: GPT-4o mini)"
        ),
        (
            "anthropic", "claude-3-5-sonnet", "3.00", "15.00", "0.30",
            "https://docs.anthropic.com/en/docs/about-claude/pricing (Claude Sonnet 3.5; cached input at the cache-hit price)"
        ),
        (
            "anthropic", "claude-3-5-haiku", "0.80", "4.00", "0.08",
            "https://docs.anthropic.com/en/docs/about-claude/pricing (Claude Haiku 3.5; cached input at the cache-hit price)"
        ),
    ]

    /// (provider, GPU type, USD per GPU-hour, source): AWS's EC2 Capacity Blocks rate per
    /// accelerator-hour, the one GPU price found on an AWS page. It is a reservation rate, not the
    /// on-demand price, and the page says the rates are revised on a schedule (it named 2025-01-01
    /// as the next revision): check it before relying on it.
    static let gpuPrices: [(String, String, String, String)] = [
        (
            "aws", "p4d.24xlarge", "1.844",
            "https://aws.amazon.com/ec2/capacityblocks/pricing/ (Capacity Blocks, US East (Ohio): $14.75 an hour for 8 A100, "
                + "$1.844 per accelerator-hour; the page named 2025-01-01 as its next revision)"
        ),
        (
            "aws", "p5.48xlarge", "4.916",
            "https://aws.amazon.com/ec2/capacityblocks/pricing/ (Capacity Blocks, US East (N. Virginia): $39.33 an hour for 8 H100, "
                + "$4.916 per accelerator-hour; the page named 2025-01-01 as its next revision)"
        ),
    ]

    /// When the prices above were checked against their pages.
    static let readOn = "2026-11-27"

    static func seed(database: Database, tenant: UUID, clock: any WallClock) throws {
        let now = clock.now
        let catalogue = PriceCatalogue(database: database)
        // The demo applies the prices read on `readOn` to its whole history (two months back), so
        // its reports are priced; the catalogue page shows each price's page and that date.
        let from = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86400 - 61).rounded(.down) * 86400)
        if try catalogue.prices().isEmpty {
            for (provider, model, input, output, cached, source) in tokenPrices {
                try catalogue.add(
                    PriceEntry(
                        kind: .tokens, provider: provider, item: model, currency: "USD", from: from, to: nil,
                        inputPerMillion: MicroUnits.parse(input), outputPerMillion: MicroUnits.parse(output),
                        cachedInputPerMillion: cached.flatMap(MicroUnits.parse), perGPUHour: nil, source: source, sourceReadOn: readOn),
                    actor: .system, now: now)
            }
            for (provider, gpu, hour, source) in gpuPrices {
                try catalogue.add(
                    PriceEntry(
                        kind: .gpu, provider: provider, item: gpu, currency: "USD", from: from, to: nil, perGPUHour: MicroUnits.parse(hour),
                        source: source, sourceReadOn: readOn),
                    actor: .system, now: now)
            }
        }
        // The demo tenant has been a customer for two months, at list price plus 10 %.
        let start = now.addingTimeInterval(-60 * 86400)
        try database.pool.query("UPDATE tenants SET created_at = $2 WHERE id = $1 AND created_at > $2", [tenant, start])
        try catalogue.setMarkup(
            MarkupEntry(tenant: tenant, from: start, to: nil, basisPoints: 1000, note: "demo: list plus 10 %"), actor: .system, now: now)
        try UsageIngest(database: database).ingest(
            events(since: now.addingTimeInterval(-42 * 86400), until: now), tenant: tenant, actor: .system, source: .api, now: now)
    }

    /// Six weeks of a bank's gateway traffic, the same every run: teams, features and keys on a few
    /// models, weekday-heavy, with one model no price covers and two GPU hosts.
    static func events(since: Date, until: Date) -> [UsageItem] {
        var random = SplitMix(seed: 42)
        let teams = ["search", "support", "risk"]
        let features = ["chat", "summaries", "classification", "embeddings-rerank"]
        let models = [
            ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-3-5-sonnet"), ("anthropic", "claude-3-5-haiku"),
            ("aws-bedrock", "meta.llama3-1-70b-instruct"), ("vertex", "gemini-1.5-flash"), ("internal", "acme-finetune-v2"),
        ]
        var items: [UsageItem] = []
        var hour = since.timeIntervalSince1970 - since.timeIntervalSince1970.truncatingRemainder(dividingBy: 3600)
        while hour + 3600 <= until.timeIntervalSince1970 && items.count < NDJSONUsageParser.maxEvents - 100 {
            let date = Date(timeIntervalSince1970: hour)
            let weekday = Calendar(identifier: .gregorian).component(.weekday, from: date)
            let busy = (weekday == 1 || weekday == 7) ? 1 : 3
            for n in 0..<Int(random.next() % UInt64(busy)) {
                let (provider, model) = models[Int(random.next() % UInt64(models.count))]
                let requests = Int64(1 + random.next() % 40)
                let input = requests * Int64(200 + random.next() % 1800)
                var record: UsageRecord = [
                    ("event_id", .string("demo-\(Int(hour))-\(n)")),
                    ("occurred_at", .string(RFC3339.string(date.addingTimeInterval(Double(random.next() % 3600))))),
                    ("provider", .string(provider)), ("model", .string(model)),
                    ("team", .string(teams[Int(random.next() % 3)])), ("feature", .string(features[Int(random.next() % 4)])),
                    ("key_ref", .string("gw-key-\(1 + random.next() % 5)")), ("endpoint", .string("\(model)-prod")),
                    ("requests", .number(String(requests))), ("input_tokens", .number(String(input))),
                    ("output_tokens", .number(String(requests * Int64(50 + random.next() % 400)))),
                    ("latency_ms", .number(String(300 + random.next() % 4000))), ("ttft_ms", .number(String(80 + random.next() % 900))),
                    ("status", .string("ok")),
                ]
                if random.next() % 3 == 0 { record.append(("cached_input_tokens", .number(String(input / 2)))) }
                items.append(UsageItem(position: items.count, record: .success(record)))
            }
            // The two GPU hosts report once every six hours.
            if Int(hour / 3600) % 6 == 0 {
                for (host, gpu, utilisation) in [("gpu-a100-1", "p4d.24xlarge", 0.8), ("gpu-h100-1", "p5.48xlarge", 0.55)] {
                    let seconds = Double(8 * 6 * 3600) * (utilisation + Double(random.next() % 20) / 100 - 0.1)
                    items.append(
                        UsageItem(
                            position: items.count,
                            record: .success([
                                ("event_id", .string("demo-gpu-\(host)-\(Int(hour))")), ("occurred_at", .string(RFC3339.string(date))),
                                ("provider", .string("aws")), ("gpu_type", .string(gpu)), ("host", .string(host)),
                                ("gpu_seconds", .number(String(Int(seconds)))), ("team", .string("risk")),
                            ])))
                }
            }
            hour += 3600
        }
        return items
    }

    /// A tiny fixed generator (SplitMix64): demo data is the same every run, as are the property test's cases.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
