// What `purser dev` seeds for costs: public list prices of common models and GPUs, each with the
// page it comes from and the date it was taken down (prices change: the catalogue page shows both,
// so anyone can check them), a 10 % markup for the demo tenant, and six weeks of usage through the
// same ingest as the API, so that reports, budgets and anomalies have data.
import Foundation
import Postgres

enum DemoCosts {
    /// (provider, model, input, output, cached input per million tokens in USD, source).
    static let tokenPrices: [(String, String, String, String, String?, String)] = [
        ("openai", "gpt-4o", "2.50", "10.00", "1.25", "https://openai.com/api/pricing/"),
        ("openai", "gpt-4o-mini", "0.15", "0.60", "0.075", "https://openai.com/api/pricing/"),
        ("anthropic", "claude-3-5-sonnet", "3.00", "15.00", "0.30", "https://www.anthropic.com/pricing#anthropic-api"),
        ("anthropic", "claude-3-5-haiku", "0.80", "4.00", "0.08", "https://www.anthropic.com/pricing#anthropic-api"),
        (
            "aws-bedrock", "meta.llama3-1-70b-instruct", "0.99", "0.99", nil,
            "https://aws.amazon.com/bedrock/pricing/ (us-east-1, on-demand)"
        ),
        (
            "azure-openai", "gpt-4o", "2.50", "10.00", "1.25",
            "https://azure.microsoft.com/en-us/pricing/details/cognitive-services/openai-service/ (global)"
        ),
        (
            "vertex", "gemini-1.5-pro", "1.25", "5.00", nil,
            "https://cloud.google.com/vertex-ai/generative-ai/pricing (prompts up to 128K tokens)"
        ),
        (
            "vertex", "gemini-1.5-flash", "0.075", "0.30", nil,
            "https://cloud.google.com/vertex-ai/generative-ai/pricing (prompts up to 128K tokens)"
        ),
    ]

    /// (provider, GPU type, USD per GPU-hour, source): an instance's on-demand hourly price over its GPUs.
    static let gpuPrices: [(String, String, String, String)] = [
        (
            "aws", "p4d.24xlarge", "4.096575",
            "https://aws.amazon.com/ec2/instance-types/p4/ ($32.7726 an hour for 8 A100, us-east-1 on-demand)"
        ),
        ("aws", "p5.48xlarge", "12.29", "https://aws.amazon.com/ec2/instance-types/p5/ ($98.32 an hour for 8 H100, us-east-1 on-demand)"),
    ]

    /// When the prices above were taken from their pages.
    static let readOn = "2024-11-01"

    static func seed(database: Database, tenant: UUID, clock: any WallClock) throws {
        let now = clock.now
        let catalogue = PriceCatalogue(database: database)
        let from = UsageTime.epochSeconds(readOn + "T00:00:00Z").map { Date(timeIntervalSince1970: TimeInterval($0)) }!
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
