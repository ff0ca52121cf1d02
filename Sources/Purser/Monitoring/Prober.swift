// Makes one probe of one target through the World: its clock stamps every reading, its resolver
// and the destination checks decide where the probe may connect (pinned to a checked address), and
// its HTTP sends it, bounded in time (the target's timeout) and size (maxBytes) and never
// following a redirect (a redirect answers the probe: it is down, and cannot lead it elsewhere).
import Foundation
import HTTPClient

struct Prober: Sendable {
    let world: World
    /// Where URLs added by hand may go (the installation's outbound destination policy).
    let manualPolicy: DestinationPolicy
    /// The most a probe reads of an answer.
    var maxBytes = 1 << 20

    /// Private networks where a deployment endpoint, registered by staff holding providers.manage,
    /// may live (docs/monitoring.md). Loopback, link-local (cloud metadata), multicast and the
    /// unspecified address stay refused unless the installation allows them for every destination.
    static let privateNetworks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]

    /// The policy a target's URL is checked against.
    func policy(for source: ProbeTarget.Source) -> DestinationPolicy {
        switch source {
        case .manual: manualPolicy
        case .endpoint: DestinationPolicy(allowHTTP: true, allowed: manualPolicy.allowed + Self.privateNetworks)
        }
    }

    /// Probes `target`; `credential` is its opened bearer token, if it has one; `access` signs a
    /// SageMaker endpoint's probe.
    func probe(_ target: ProbeTarget, credential: String?, access: SageMakerAccess? = nil) -> ProbeReading {
        let checked: CheckedDestination
        do {
            checked = try Destinations.check(requestURL(target), policy: policy(for: target.source), resolver: world.resolver)
        } catch let refused as RefusedDestination {
            return ProbeReading(outcome: .purserError, error: "not probed: \(refused.description)")
        } catch {
            return ProbeReading(outcome: .purserError, error: "Purser's resolver gave no address: \(error)")
        }
        var options = HTTPClient.Options()
        options.connectTimeout = .milliseconds(min(target.timeoutMs, 5000))
        options.totalTimeout = .milliseconds(target.timeoutMs)
        options.maxResponseBytes = maxBytes
        options.followRedirects = false
        options.resolve = [checked.pin]
        var headers: [(name: String, value: String)] = []
        if let credential { headers.append(("Authorization", "Bearer \(credential)")) }
        switch target.kind {
        case .openAIChat: return chat(target, url: checked.url, headers: headers, options: options)
        case .sagemaker: return sagemaker(target, url: checked.url, access: access, options: options)
        case .http: return check(target, url: checked.url, headers: headers, options: options)
        }
    }

    /// The address a target's probe goes to: a chat target's URL is its OpenAI base (…/v1) unless
    /// it already names /chat/completions.
    func requestURL(_ target: ProbeTarget) -> String {
        guard target.kind == .openAIChat, !target.url.hasSuffix("/chat/completions") else { return target.url }
        return (target.url.hasSuffix("/") ? String(target.url.dropLast()) : target.url) + "/chat/completions"
    }

    func milliseconds(_ start: Date, _ end: Date) -> Int { max(0, Int((end.timeIntervalSince(start) * 1000).rounded())) }

    /// A GET: up on 2xx.
    func check(_ target: ProbeTarget, url: String, headers: [(name: String, value: String)], options: HTTPClient.Options)
        -> ProbeReading
    {
        let start = world.clock.now
        do {
            let response = try world.http.send(ClientRequest(method: "GET", url: url, headers: headers), options: options)
            let latency = milliseconds(start, world.clock.now)
            return answered(response.status, location: response.header("Location"), latency: latency)
        } catch {
            return failed(error, target: target, latency: milliseconds(start, world.clock.now))
        }
    }

    /// A streaming chat completion of a few tokens: up when it answers 200, streams at least one
    /// token and ends; time to first token and total time from the clock's readings.
    func chat(_ target: ProbeTarget, url: String, headers: [(name: String, value: String)], options: HTTPClient.Options)
        -> ProbeReading
    {
        let body: [String: Any] = [
            "model": target.model.isEmpty ? target.name : target.model, "stream": true, "max_tokens": 8,
            "messages": [["role": "user", "content": "Reply with one word: ok"]],
        ]
        let request = ClientRequest(
            method: "POST", url: url,
            headers: headers + [("Content-Type", "application/json"), ("Accept", "text/event-stream")],
            body: Array((try? JSONSerialization.data(withJSONObject: body)) ?? Data()))
        let clock = world.clock
        let start = clock.now
        var reader = ChatStreamReader()
        var head: [UInt8] = []
        do {
            let response = try world.http.stream(
                request, options: options, now: { clock.now },
                onChunk: { chunk in
                    if head.count < 300 { head.append(contentsOf: chunk.bytes.prefix(300 - head.count)) }
                    reader.feed(chunk.bytes, at: chunk.at)
                    return !reader.done
                })
            let end = clock.now
            let latency = milliseconds(start, end)
            guard response.status == 200 else {
                var reading = answered(response.status, location: response.header("Location"), latency: latency)
                if reading.outcome == .down { reading.error = "HTTP \(response.status): " + String(decoding: head, as: UTF8.self) }
                return reading
            }
            let ttft = reader.firstTokenAt.map { milliseconds(start, $0) }
            if let error = reader.streamedError {
                return ProbeReading(outcome: .down, status: 200, latencyMs: latency, ttftMs: ttft, tokens: reader.tokens, error: error)
            }
            guard reader.tokens > 0 else {
                return ProbeReading(outcome: .down, status: 200, latencyMs: latency, tokens: 0, error: "streamed no token")
            }
            return ProbeReading(outcome: .up, status: 200, latencyMs: latency, ttftMs: ttft, tokens: reader.tokens)
        } catch {
            var reading = failed(error, target: target, latency: milliseconds(start, clock.now))
            reading.ttftMs = reader.firstTokenAt.map { milliseconds(start, $0) }
            reading.tokens = reader.tokens
            return reading
        }
    }

    func answered(_ status: Int, location: String?, latency: Int) -> ProbeReading {
        switch status {
        case 200..<300: return ProbeReading(outcome: .up, status: status, latencyMs: latency)
        case 300..<400:
            return ProbeReading(
                outcome: .down, status: status, latencyMs: latency,
                error: "HTTP \(status) to \(location ?? "nowhere"): probes do not follow redirects")
        default: return ProbeReading(outcome: .down, status: status, latencyMs: latency, error: "HTTP \(status)")
        }
    }

    /// A transfer that did not finish: the endpoint's failure (no answer in time, refused, too
    /// much), unless the request could not even be made — that is Purser's.
    func failed(_ error: any Error, target: ProbeTarget, latency: Int) -> ProbeReading {
        guard let failure = error as? HTTPClientError else {
            return ProbeReading(outcome: .purserError, error: "Purser could not probe: \(error)")
        }
        switch failure.kind {
        case .timeout:
            return ProbeReading(outcome: .down, latencyMs: latency, error: "no complete answer within \(target.timeoutMs) ms")
        case .tooLarge:
            return ProbeReading(outcome: .down, latencyMs: latency, error: "answer over \(maxBytes) bytes: cut off")
        case .invalidRequest: return ProbeReading(outcome: .purserError, error: "Purser could not make the request: \(failure.message)")
        case .connection, .tls, .other: return ProbeReading(outcome: .down, latencyMs: latency, error: failure.message)
        }
    }
}
