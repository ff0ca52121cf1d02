// What a health check read on a host: each GPU as nvidia-smi reported it, how long the host has
// been up, and its root disk. Stored on the host's row (health jsonb) and shown on the pages.
import Foundation

public struct HostHealthReading: Sendable, Codable, Equatable {
    public struct GPUReading: Sendable, Codable, Equatable {
        public var name: String
        public var memoryTotalMiB: Int
        public var memoryUsedMiB: Int
        public var utilizationPercent: Int
        public var temperatureC: Int

        enum CodingKeys: String, CodingKey {
            case name
            case memoryTotalMiB = "memory_total_mib"
            case memoryUsedMiB = "memory_used_mib"
            case utilizationPercent = "utilization_percent"
            case temperatureC = "temperature_c"
        }
    }

    public var gpus: [GPUReading]
    public var uptimeSeconds: Int
    public var diskTotalKiB: Int64
    public var diskUsedKiB: Int64

    enum CodingKeys: String, CodingKey {
        case gpus
        case uptimeSeconds = "uptime_seconds"
        case diskTotalKiB = "disk_total_kib"
        case diskUsedKiB = "disk_used_kib"
    }

    /// The one command Purser's health certificate may run (its force-command): the GPUs in
    /// nvidia-smi's CSV, the seconds since boot, and the root file system in 1 KiB blocks, in three
    /// parts split by marker lines.
    public static let command =
        "nvidia-smi --query-gpu=name,memory.total,memory.used,utilization.gpu,temperature.gpu --format=csv,noheader,nounits"
        + "; echo '--purser-uptime--'; cat /proc/uptime; echo '--purser-disk--'; df -Pk /"

    /// The largest disk figure kept from df (1 EiB in KiB).
    public static let largestDiskKiB: Int64 = 1 << 50

    /// How full the root disk is, 0–100, for any stored figures (readings kept before they were
    /// bounded included): never an overflow.
    public var diskPercent: Int {
        guard diskTotalKiB > 0 else { return 0 }
        return Int(min(100, max(0, (Double(diskUsedKiB) / Double(diskTotalKiB) * 100).rounded(.down))))
    }

    /// Reads what `command` printed; nil names what was missing.
    public static func parse(_ output: String) -> Result<HostHealthReading, HealthUnreadable> {
        let parts = output.components(separatedBy: "--purser-uptime--\n")
        guard parts.count == 2 else { return .failure(HealthUnreadable("no uptime in the answer")) }
        let rest = parts[1].components(separatedBy: "--purser-disk--\n")
        guard rest.count == 2 else { return .failure(HealthUnreadable("no disk usage in the answer")) }
        var gpus: [GPUReading] = []
        for line in parts[0].split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            // "[N/A]" or "[Not Supported]" for a value the GPU does not report: counted as 0.
            // The host prints what it likes: "inf", "nan" or 1e300 must not trap converting to Int.
            func number(_ text: String) -> Int { Double(text).map { $0.isFinite && abs($0) < 1e15 ? Int($0) : 0 } ?? 0 }
            guard fields.count == 5, let total = Int(fields[1]) else {
                return .failure(HealthUnreadable("nvidia-smi printed an unexpected line: \(line.prefix(200))"))
            }
            gpus.append(
                GPUReading(
                    name: fields[0], memoryTotalMiB: total, memoryUsedMiB: number(fields[2]), utilizationPercent: number(fields[3]),
                    temperatureC: number(fields[4])))
        }
        guard let uptime = rest[0].split(separator: " ").first.flatMap({ Double($0) }), uptime >= 0, uptime < 1e12 else {
            return .failure(HealthUnreadable("/proc/uptime was not read"))
        }
        // df -Pk: a header, then "filesystem blocks used available capacity mountpoint".
        let disk = rest[1].split(separator: "\n").dropFirst().first?.split(separator: " ") ?? []
        guard disk.count >= 6, let total = Int64(disk[1]), let used = Int64(disk[2]) else {
            return .failure(HealthUnreadable("df printed no usage for /"))
        }
        // 2^50 KiB is an exbibyte: more is a host's misprint, and the pages compute with these.
        let bounded = { (value: Int64) in min(max(value, 0), Self.largestDiskKiB) }
        return .success(
            HostHealthReading(gpus: gpus, uptimeSeconds: Int(uptime), diskTotalKiB: bounded(total), diskUsedKiB: bounded(used)))
    }
}

public struct HealthUnreadable: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
