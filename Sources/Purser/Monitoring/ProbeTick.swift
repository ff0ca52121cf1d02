// The monitoring.tick schedule: one job every 15 s runs every probe that is due, in batches (not
// one job per probe). Each tick brings the targets in step with the live deployment endpoints,
// claims due targets (SKIP LOCKED, so two workers share the load and never probe one target
// twice), probes a batch in parallel, retries each failure once before it counts, and records
// the batch in one transaction (ProbeRecorder). The scheduled tick then follows the due times
// through its period, so a probe starts on its due time, not at the next tick.
import Dispatch
import class HTTPServer.Locked
import Foundation
import Postgres

public enum ProbeTick {
    static let kind = "monitoring.tick"
    static let schedule = Schedule(name: kind, kind: kind, recurrence: .every(seconds: 15))
    /// Targets claimed at once, and probes in flight at once.
    static let batchSize = 200
    static let parallelism = 32
    /// How long one tick keeps claiming (within the schedule's period).
    static let budget: TimeInterval = 12
    /// How long the scheduled tick follows the due times: a little over the schedule's period, so
    /// one tick is always following (two overlap, on two workers where there are two) and a probe
    /// falling due between two ticks starts on its time instead of at the next tick, up to 15 s late.
    static let follow: TimeInterval = 17

    static func register(into handlers: inout JobHandlers, keyring: Keyring, destinations: DestinationPolicy, publicURL: String) {
        handlers.register(kind) { context in
            _ = try run(
                database: context.database, prober: Prober(world: context.world, manualPolicy: destinations), keyring: keyring,
                incidents: ProbeIncidents(database: context.database, publicURL: publicURL), following: follow)
        }
        handlers.register(ProbeRollup.kind) { context in
            try ProbeRollup.run(context.database, now: context.world.now)
        }
    }

    /// Runs every due probe (and, `following` > 0, those falling due that long); returns how many
    /// targets were probed.
    @discardableResult
    public static func run(
        database: Database, world: World, keyring: Keyring, destinations: DestinationPolicy, publicURL: String,
        following: TimeInterval = 0
    ) throws -> Int {
        try run(
            database: database, prober: Prober(world: world, manualPolicy: destinations), keyring: keyring,
            incidents: ProbeIncidents(database: database, publicURL: publicURL), following: following)
    }

    /// Runs what is due; `following` > 0 keeps the tick going that long, waiting on the clock for
    /// each next due time (the scheduled tick: probes start on time, not at the next tick).
    static func run(
        database: Database, prober: Prober, keyring: Keyring, incidents: ProbeIncidents, following: TimeInterval = 0
    ) throws -> Int {
        let clock = prober.world.clock
        let started = clock.now
        let end = started.addingTimeInterval(following > 0 ? following : budget)
        try syncEndpoints(database, at: started)
        var probed = 0
        let wake = Interrupt()
        while clock.now < end {
            let now = clock.now
            let due = try claim(database, at: now)
            if !due.isEmpty {
                let readings = probeAll(due, prober: prober, keyring: keyring, database: database)
                try ProbeRecorder.record(database, zip(due, readings).map { ($0, $1) }, incidents: incidents, at: now)
                probed += due.count
            }
            if due.count == batchSize { continue }
            guard following > 0, let next = try nextDue(database), next < end else { break }
            // A due time already past when nothing was claimed is one another tick holds locked:
            // look again shortly.
            clock.wait(until: max(next, now.addingTimeInterval(0.05)), on: wake) { false }
        }
        return probed
    }

    /// The earliest due time of an enabled target.
    static func nextDue(_ database: Database) throws -> Date? {
        try database.asStaff { tx in
            try tx.query("SELECT min(next_due_at) FROM probe_targets WHERE enabled")[0].decode(0, as: Date.self)
        }
    }

    /// Every live deployment endpoint with an address has a target (named environment/target/
    /// endpoint, probed as an OpenAI-compatible chat unless behind SageMaker); a target whose
    /// endpoint is no longer live is disabled, and enabled again when it is.
    static func syncEndpoints(_ database: Database, at now: Date) throws {
        try database.asStaff { tx in
            try tx.query(
                """
                INSERT INTO probe_targets (tenant_id, id, endpoint_id, source, name, url, kind, model, next_due_at, created_at, updated_at)
                SELECT e.tenant_id, gen_random_uuid(), e.id, 'endpoint', left(env.name || '/' || t.name || '/' || e.name, 100),
                       CASE WHEN t.kind = 'sagemaker'
                            THEN rtrim(coalesce(t.endpoint_url, 'https://runtime.sagemaker.' || t.region || '.amazonaws.com'), '/')
                                 || '/endpoints/' || left(e.name, 50) || '-' || right(replace(e.id::text, '-', ''), 8)
                                 || '/invocations-response-stream'
                            ELSE e.url END,
                       CASE t.kind WHEN 'sagemaker' THEN 'sagemaker' ELSE 'openai_chat' END, coalesce(m.name, ''), $1, $1, $1
                FROM endpoints e
                JOIN deployment_targets t ON t.tenant_id = e.tenant_id AND t.id = e.target_id
                JOIN environments env ON env.tenant_id = e.tenant_id AND env.id = e.environment_id
                LEFT JOIN model_versions v ON v.tenant_id = e.tenant_id AND v.id = e.live_version_id
                LEFT JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
                WHERE e.live_version_id IS NOT NULL AND (e.url IS NOT NULL OR (t.kind = 'sagemaker' AND t.region IS NOT NULL))
                ON CONFLICT (tenant_id, endpoint_id) DO UPDATE
                SET url = EXCLUDED.url, model = EXCLUDED.model, enabled = true, updated_at = EXCLUDED.updated_at,
                    version = probe_targets.version + 1
                WHERE (probe_targets.url, probe_targets.model, probe_targets.enabled) IS DISTINCT FROM (EXCLUDED.url, EXCLUDED.model, true)
                """, [now])
            try tx.query(
                """
                UPDATE probe_targets p SET enabled = false, updated_at = $1, version = version + 1
                WHERE p.source = 'endpoint' AND p.enabled AND NOT EXISTS (
                    SELECT 1 FROM endpoints e JOIN deployment_targets t ON t.tenant_id = e.tenant_id AND t.id = e.target_id
                    WHERE e.tenant_id = p.tenant_id AND e.id = p.endpoint_id AND e.live_version_id IS NOT NULL
                    AND (e.url IS NOT NULL OR (t.kind = 'sagemaker' AND t.region IS NOT NULL)))
                """, [now])
        }
    }

    /// Claims up to a batch of due targets, moving each one's next due time a period on (from its
    /// due time, so probes keep their rhythm; from now when periods were missed).
    static func claim(_ database: Database, at now: Date) throws -> [ProbeTarget] {
        try database.asStaff { tx in
            try tx.query(
                """
                UPDATE probe_targets p
                SET next_due_at = CASE WHEN p.next_due_at + make_interval(secs => p.interval_seconds) > $1
                                       THEN p.next_due_at + make_interval(secs => p.interval_seconds)
                                       ELSE $1::timestamptz + make_interval(secs => p.interval_seconds) END
                FROM (SELECT tenant_id, id FROM probe_targets WHERE enabled AND next_due_at <= $1
                      ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
                WHERE p.tenant_id = due.tenant_id AND p.id = due.id
                RETURNING \(ProbeTarget.columns.split(separator: ",").map { "p." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
                """, [now, batchSize]
            ).map(ProbeTarget.init(row:))
        }
    }

    /// Probes every target, `parallelism` at a time, retrying each failure once at once: a failure
    /// counts only when the retry confirms it.
    static func probeAll(_ targets: [ProbeTarget], prober: Prober, keyring: Keyring, database: Database) -> [ProbeReading] {
        let results = Locked([ProbeReading?](repeating: nil, count: targets.count))
        let gate = DispatchSemaphore(value: parallelism)
        let group = DispatchGroup()
        for (index, target) in targets.enumerated() {
            gate.wait()
            group.enter()
            DispatchQueue.global().async {
                defer {
                    gate.signal()
                    group.leave()
                }
                let reading = probeConfirmed(target, prober: prober, keyring: keyring, database: database)
                results.withLock { $0[index] = reading }
            }
        }
        group.wait()
        return results.withLock { $0.map { $0 ?? ProbeReading(outcome: .purserError, error: "not probed") } }
    }

    static func probeConfirmed(_ target: ProbeTarget, prober: Prober, keyring: Keyring, database: Database) -> ProbeReading {
        var credential: String?
        if let sealed = target.sealedCredentials {
            guard let opened = try? SealedColumn.probeCredentials.open(sealed, row: target.id, keyring: keyring) else {
                return ProbeReading(outcome: .purserError, error: "the probe's credentials could not be opened")
            }
            credential = String(decoding: opened, as: UTF8.self)
        }
        var access: SageMakerAccess?
        if target.kind == .sagemaker {
            do {
                access = try SageMakerAccess.of(target, database: database, keyring: keyring)
            } catch {
                return ProbeReading(outcome: .purserError, error: "the deployment target's credentials could not be opened")
            }
        }
        let first = prober.probe(target, credential: credential, access: access)
        guard first.outcome == .down else { return first }
        var retry = prober.probe(target, credential: credential, access: access)
        retry.retried = true
        if retry.outcome == .up { retry.error = "first try failed, retry answered: " + (first.error ?? "") }
        return retry
    }
}
