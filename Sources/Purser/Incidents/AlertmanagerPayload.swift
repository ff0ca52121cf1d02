// Prometheus Alertmanager's webhook payload (version 4): status, receiver, groupKey and alerts,
// each with status, labels, annotations, startsAt, endsAt and fingerprint. Read strictly: anything
// missing or malformed refuses the whole delivery (400), before anything is written, naming the field.
import Foundation
import struct HTTPServer.FieldError

struct AlertmanagerPayload: Decodable {
    struct Alert: Decodable {
        let status: String
        let labels: [String: String]
        let annotations: [String: String]?
        let startsAt: String
        let endsAt: String?
        let fingerprint: String
    }

    let version: String
    let status: String
    let receiver: String
    let groupKey: String
    let alerts: [Alert]

    static let maxAlerts = 5000

    /// Alertmanager writes nanoseconds; the clock keeps milliseconds.
    static func time(_ text: String) -> Date? {
        guard let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" })
        else { return RFC3339.date(text) }
        let fraction = text[text.index(after: dot)..<end].prefix(3)
        return RFC3339.date(String(text[..<dot]) + "." + fraction.padding(toLength: 3, withPad: "0", startingAt: 0) + text[end...])
    }

    /// Between 1970 and 2200: anything else is not a time an alert began or ended.
    static func plausible(_ date: Date) -> Bool { (0...7_258_118_400).contains(date.timeIntervalSince1970) }

    /// The signals it carries, or the problems that refuse it. `slug`: a `tenant` label must name it.
    func signals(slug: String) -> Result<[IncidentSignal], ValidationError> {
        var errors: [FieldError] = []
        if version != "4" { errors.append(FieldError(field: "version", detail: "only version 4 payloads are read")) }
        if !["firing", "resolved"].contains(status) { errors.append(FieldError(field: "status", detail: "firing or resolved")) }
        if alerts.isEmpty || alerts.count > Self.maxAlerts {
            errors.append(FieldError(field: "alerts", detail: "send 1–\(Self.maxAlerts) alerts"))
        }
        var signals: [IncidentSignal] = []
        for (index, alert) in alerts.prefix(Self.maxAlerts).enumerated() {
            let field = "alerts[\(index)]"
            let status = IncidentSignal.Status(rawValue: alert.status)
            if status == nil { errors.append(FieldError(field: "\(field).status", detail: "firing or resolved")) }
            let fingerprint = alert.fingerprint.trimmingCharacters(in: .whitespaces)
            if fingerprint.isEmpty || fingerprint.count > 200 || RequestRules.hasControl(fingerprint) {
                errors.append(FieldError(field: "\(field).fingerprint", detail: "a fingerprint of 1–200 characters"))
            }
            let startsAt = Self.time(alert.startsAt).flatMap { Self.plausible($0) ? $0 : nil }
            if startsAt == nil { errors.append(FieldError(field: "\(field).startsAt", detail: "an RFC 3339 time between 1970 and 2200")) }
            var endsAt: Date? = nil
            if let text = alert.endsAt, !text.hasPrefix("0001-") {
                endsAt = Self.time(text).flatMap { Self.plausible($0) ? $0 : nil }
                if endsAt == nil { errors.append(FieldError(field: "\(field).endsAt", detail: "an RFC 3339 time between 1970 and 2200")) }
            }
            let annotations = alert.annotations ?? [:]
            let sizes = (
                alert.labels.count + annotations.count,
                (alert.labels.map { $0.key + $0.value } + annotations.map { $0.key + $0.value }).reduce(0) { $0 + $1.utf8.count }
            )
            let texts = alert.labels.flatMap { [$0.key, $0.value] } + annotations.flatMap { [$0.key, $0.value] }
            if sizes.0 > 100 || sizes.1 > 64 * 1024 || texts.contains(where: { $0.unicodeScalars.contains("\u{0}") }) {
                errors.append(FieldError(field: "\(field).labels", detail: "at most 100 labels and annotations, 64 KiB, without NUL"))
            }
            if let named = alert.labels["tenant"], named != slug {
                errors.append(FieldError(field: "\(field).labels.tenant", detail: "names another tenant than the one this delivery is for"))
            }
            guard let status, let startsAt else { continue }
            let alertname = alert.labels["alertname"] ?? ""
            let service = alert.labels["service"] ?? alert.labels["job"] ?? alertname
            signals.append(
                IncidentSignal(
                    source: .alertmanager, fingerprint: fingerprint, alertname: String(alertname.prefix(200)),
                    service: String(service.prefix(200)), severity: IncidentSeverity.fromLabel(alert.labels["severity"]), status: status,
                    title: String((annotations["summary"] ?? (alertname.isEmpty ? "Alert from Alertmanager" : alertname)).prefix(200)),
                    description: String((annotations["description"] ?? "").prefix(50000)), labels: alert.labels, annotations: annotations,
                    startsAt: startsAt, endsAt: endsAt))
        }
        if !errors.isEmpty { return .failure(ValidationError(Array(errors.prefix(50)))) }
        return .success(signals)
    }
}
