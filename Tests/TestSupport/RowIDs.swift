// Identifiers for rows a test writes by hand, where no clock of Purser's is involved: Purser itself
// always stamps a version 7 UUID with its World's time (`UUID.v7(at:)`).
import Foundation
import Purser

extension UUID {
    /// A version 7 UUID stamped with the system's time.
    public static func v7() -> UUID { v7(at: Date()) }
}
