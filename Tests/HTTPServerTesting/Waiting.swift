// Waiting for something another thread or process does: polled every 50 ms, bounded in time.
import Foundation

/// True as soon as `condition` holds; false when `seconds` pass first.
public func waitUntil(_ seconds: TimeInterval = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}
