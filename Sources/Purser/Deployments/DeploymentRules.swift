// The rules a new deployment meets before anything is looked up, each naming itself in its
// message: a known strategy, steps that end at 100 %, bake and deadline in range, sane capacity.
// The rules that need the database (the version exists, the environment and target, a host pool,
// the promotion gate, the linked request) are in DeploymentStore.file.
import Foundation
import struct HTTPServer.FieldError

public enum DeploymentStrategy: String, Sendable, CaseIterable {
    case direct
    case blueGreen = "blue_green"
    case canary
}

public enum DeploymentRules {
    /// What a canary does when no steps are given.
    public static let defaultCanarySteps = [10, 50, 100]
    public static let defaultBakeSeconds = 300
    static var instanceType: Regex<AnyRegexOutput> { Regex(#/^[a-z0-9][a-z0-9.-]{0,62}$/#) }
    static var endpointName: Regex<AnyRegexOutput> { Regex(#/^[a-z0-9][a-z0-9-]{0,62}$/#) }

    /// The settled shape of a valid request: strategy, steps, bake and deadline.
    public struct Plan: Sendable, Equatable {
        public var strategy: DeploymentStrategy
        public var steps: [Int]
        public var bakeSeconds: Int
        public var progressDeadlineSeconds: Int
        public var rollbackPolicy: String
    }

    public static func plan(_ new: NewDeployment) throws -> Plan {
        var errors: [FieldError] = []
        let strategy = DeploymentStrategy(rawValue: new.strategy)
        if strategy == nil {
            errors.append(
                FieldError(
                    field: "strategy",
                    detail: "unknown strategy '\(new.strategy.prefix(40))': use "
                        + DeploymentStrategy.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        var steps = new.steps ?? (strategy == .canary ? defaultCanarySteps : [100])
        if strategy == .canary {
            if steps.isEmpty || steps.count > 10 || steps.contains(where: { $0 < 1 || $0 > 100 })
                || zip(steps, steps.dropFirst()).contains(where: { $0 >= $1 })
            {
                errors.append(FieldError(field: "steps", detail: "steps: 1 to 10 rising traffic percentages between 1 and 100"))
            } else if steps.last != 100 {
                errors.append(
                    FieldError(field: "steps", detail: "steps must end at 100: the last step sends all traffic to the new version"))
            }
        } else if strategy != nil && steps != [100] {
            errors.append(
                FieldError(field: "steps", detail: "a \(new.strategy) deployment moves all traffic at once: leave steps out or give [100]"))
            steps = [100]
        }
        let bake = new.bakeSeconds ?? defaultBakeSeconds
        if bake < 0 || bake > 86400 { errors.append(FieldError(field: "bake_seconds", detail: "bake time: 0 to 86400 seconds per step")) }
        // Three bakes by default, of a bake in range: a huge one (refused above) must not overflow.
        let deadline = new.progressDeadlineSeconds ?? max(600, min(max(bake, 0), 86400) * 3)
        if deadline <= bake || deadline > 7 * 86400 {
            errors.append(
                FieldError(field: "progress_deadline_seconds", detail: "progress deadline: longer than the bake time, at most 7 days"))
        }
        if let count = new.instanceCount, !(1...100).contains(count) {
            errors.append(FieldError(field: "instance_count", detail: "1 to 100 instances"))
        }
        if let gpus = new.gpuCount, !(1...64).contains(gpus) { errors.append(FieldError(field: "gpu_count", detail: "1 to 64 GPUs")) }
        if let type = new.instanceType, !type.isEmpty, type.wholeMatch(of: instanceType) == nil {
            errors.append(FieldError(field: "instance_type", detail: "an instance type such as ml.g5.2xlarge"))
        }
        if let name = new.endpoint, !name.isEmpty, name.wholeMatch(of: endpointName) == nil {
            errors.append(FieldError(field: "endpoint", detail: "an endpoint name: lower-case letters, digits and -, up to 63"))
        }
        let rollback = new.rollbackPolicy ?? "automatic"
        if rollback != "automatic" && rollback != "manual" {
            errors.append(FieldError(field: "rollback_policy", detail: "automatic or manual"))
        }
        if let gates = new.gates, case .array = gates {
        } else if new.gates != nil {
            errors.append(FieldError(field: "gates", detail: "a list of gates"))
        }
        if let priority = new.priority, let problem = RequestRules.priority(priority) { errors.append(problem) }
        if (new.note ?? "").count > 10000 { errors.append(FieldError(field: "note", detail: "up to 10,000 characters")) }
        if !errors.isEmpty { throw ValidationError(errors) }
        return Plan(strategy: strategy!, steps: steps, bakeSeconds: bake, progressDeadlineSeconds: deadline, rollbackPolicy: rollback)
    }

    /// The endpoint a deployment changes when none is named: the model's name as an endpoint name.
    static func endpointName(for model: String, environment: String) -> String {
        let slug = model.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let collapsed = String(slug).split(separator: "-").joined(separator: "-")
        return String((collapsed.isEmpty ? "model" : collapsed).prefix(50)) + "-" + String(environment.prefix(12))
    }
}
