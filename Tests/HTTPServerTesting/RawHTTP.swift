// Raw bytes over a TCP socket, for requests no well-behaved client would send (framing attacks).
import Foundation

public enum RawHTTP {
    /// A socket call that failed, with the system's reason.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ what: String, errno code: Int32 = errno) { description = "\(what): \(String(cString: strerror(code)))" }
    }

    /// Sends `bytes` to 127.0.0.1:`port` and returns everything read until the server closes the
    /// connection or `timeout` passes without data.
    public static func exchange(port: Int, _ bytes: [UInt8], timeout: Duration = .seconds(2)) throws -> String {
        let socket = try connect(port: port, timeout: timeout)
        defer { close(socket) }
        send(socket, bytes)
        return String(decoding: readUntilClosed(socket), as: UTF8.self)
    }

    /// A TCP connection to 127.0.0.1:`port` whose reads give up after `timeout` without data.
    public static func connect(port: Int, timeout: Duration = .seconds(30)) throws -> Int32 {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure("socket()") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let failure = Failure("connect to port \(port)")
            close(socket)
            throw failure
        }
        var wait = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        return socket
    }

    /// Writes all of `bytes` (a peer that closed early is not an error here).
    public static func send(_ socket: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Foundation.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything read until the server closes the connection, or `limit` bytes, or the socket's timeout.
    public static func readUntilClosed(_ socket: Int32, limit: Int = .max) -> [UInt8] {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received.count < limit {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }

    /// Whether the server closed the connection (read returned 0) rather than leaving it open.
    public static func closedByServer(port: Int, _ bytes: [UInt8]) throws -> (response: String, closed: Bool) {
        let start = ContinuousClock.now
        let response = try exchange(port: port, bytes, timeout: .seconds(3))
        return (response, start.duration(to: .now) < .seconds(3))
    }

    /// A TCP port that was free a moment ago.
    public static func freePort() -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
