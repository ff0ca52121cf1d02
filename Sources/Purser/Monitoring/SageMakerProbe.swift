// A SageMaker endpoint is probed through its runtime API, as its driver calls SageMaker: a
// streaming invocation (InvokeEndpointWithResponseStream, POST
// /endpoints/<name>/invocations-response-stream) signed with Signature Version 4 under the
// deployment target's own credentials. Time to first token is the first PayloadPart with bytes;
// total time the end of the stream.
import AWSSignature
import Foundation
import HTTPClient
import Postgres

/// What a SageMaker probe signs with: the deployment target's region and opened credentials.
struct SageMakerAccess: Sendable {
    let region: String
    let credentials: AWSCredentials

    /// The target's deployment target's region and credentials (nil: none stored).
    static func of(_ target: ProbeTarget, database: Database, keyring: Keyring) throws -> SageMakerAccess? {
        guard let endpoint = target.endpointID else { return nil }
        return try database.asStaff { tx in
            guard
                let row = try tx.query(
                    """
                    SELECT t.id, t.region FROM endpoints e JOIN deployment_targets t ON t.tenant_id = e.tenant_id AND t.id = e.target_id
                    WHERE e.tenant_id = $1 AND e.id = $2
                    """, [target.tenant, endpoint]
                ).first,
                let region = try row.decode(1, as: String.self),
                let keys = try DeploymentTargets.credentials(tx, target: try row.require(0), keyring: keyring)
            else { return nil }
            return SageMakerAccess(
                region: region,
                credentials: AWSCredentials(
                    accessKeyID: keys.accessKeyID, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken))
        }
    }
}

extension Prober {
    func sagemaker(
        _ target: ProbeTarget, url: String, access: SageMakerAccess?, options: HTTPClient.Options
    ) -> ProbeReading {
        guard let access else {
            return ProbeReading(outcome: .purserError, error: "the deployment target has no region or credentials to sign with")
        }
        let body = Array(#"{"inputs": "Reply with one word: ok", "parameters": {"max_new_tokens": 8}, "stream": true}"#.utf8)
        let host = String((url.split(separator: "://", maxSplits: 1).last ?? "").prefix { $0 != "/" })
        let path = "/" + (url.split(separator: "://", maxSplits: 1).last ?? "").drop { $0 != "/" }.dropFirst()
        var signable = SignableRequest(
            method: "POST", path: path,
            headers: [
                .init("Host", host), .init("Content-Type", "application/json"),
                .init("X-Amzn-SageMaker-Accept", "application/json"),
            ], body: body)
        signable = SigV4(credentials: access.credentials, region: access.region, service: "sagemaker").signed(signable, at: world.now)
        let clock = world.clock
        let start = clock.now
        var reader = EventStreamReader()
        var head: [UInt8] = []
        do {
            let response = try world.http.stream(
                ClientRequest(method: "POST", url: url, headers: signable.headers.map { ($0.name, $0.value) }, body: body),
                options: options, now: { clock.now },
                onChunk: { chunk in
                    if head.count < 300 { head.append(contentsOf: chunk.bytes.prefix(300 - head.count)) }
                    reader.feed(chunk.bytes, at: chunk.at)
                    return reader.streamedError == nil
                })
            let latency = milliseconds(start, clock.now)
            let ttft = reader.firstPartAt.map { milliseconds(start, $0) }
            guard response.status == 200 else {
                let reason = SageMakerDriver.error(status: response.status, body: String(decoding: head, as: UTF8.self))
                // Credentials SageMaker refuses are Purser's to fix, not the endpoint's failure.
                if case .rejectedCredentials(let detail) = reason {
                    return ProbeReading(
                        outcome: .purserError, status: response.status, error: "SageMaker refused Purser's credentials: \(detail)")
                }
                return ProbeReading(outcome: .down, status: response.status, latencyMs: latency, error: "\(reason)")
            }
            if let error = reader.streamedError {
                return ProbeReading(outcome: .down, status: 200, latencyMs: latency, ttftMs: ttft, tokens: reader.parts, error: error)
            }
            guard reader.parts > 0 else {
                return ProbeReading(outcome: .down, status: 200, latencyMs: latency, tokens: 0, error: "streamed no output")
            }
            return ProbeReading(outcome: .up, status: 200, latencyMs: latency, ttftMs: ttft, tokens: reader.parts)
        } catch {
            return failed(error, target: target, latency: milliseconds(start, clock.now))
        }
    }
}
