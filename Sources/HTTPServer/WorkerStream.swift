// A streamed body produced on the worker threads and drained by libmicrohttpd's I/O thread, so a
// body that reads a database (an export) never blocks the connections an I/O thread owns. The
// producer runs one piece at a time while less than `ahead` bytes wait to be sent, and stops when
// the client reads slowly: a slow client holds a little memory, never a worker thread. When the I/O
// thread finds nothing to send it suspends the connection, and the producer resumes it with the
// next piece (NOTES.md: suspend/resume).
import CMicroHTTPD
import Foundation

final class WorkerStream: @unchecked Sendable {
    /// Bytes produced ahead of the client before production pauses.
    static let ahead = 256 * 1024

    private let next: @Sendable () throws -> [UInt8]?
    private let server: Server
    private let connection: SuspendedConnection
    private let lock = NSLock()
    // Guarded by `lock`:
    private var pieces: [[UInt8]] = []
    private var head = 0
    private var offset = 0
    private var buffered = 0
    private var producing = false
    private var finished = false
    private var failed = false
    /// The I/O thread suspended the connection to wait for the producer.
    private var suspended = false
    /// libmicrohttpd is done with the response (the connection ended): produce nothing more.
    private var released = false

    init(next: @escaping @Sendable () throws -> [UInt8]?, server: Server, connection: OpaquePointer) {
        self.next = next
        self.server = server
        self.connection = SuspendedConnection(pointer: connection)
        lock.lock()
        startProducing()
        lock.unlock()
    }

    /// libmicrohttpd's content reader, on the I/O thread: copies what is ready, or suspends the
    /// connection until the producer has more.
    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        if head == pieces.count {
            if failed { return MHD_CONTENT_READER_END_WITH_ERROR }
            if finished { return MHD_CONTENT_READER_END_OF_STREAM }
            startProducing()
            // Allowed from a content reader; the producer resumes it under this same lock.
            suspended = true
            server.suspend(connection)
            return 0
        }
        let piece = pieces[head]
        let count = min(max, piece.count - offset)
        piece.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        buffered -= count
        if offset == piece.count {
            head += 1
            offset = 0
            if head > 64 && head * 2 > pieces.count {
                pieces.removeFirst(head)
                head = 0
            }
        }
        startProducing()
        return count
    }

    /// Called when libmicrohttpd frees the response.
    func release() {
        lock.lock()
        released = true
        lock.unlock()
    }

    /// Hands the next piece to a worker unless one is being produced, the end was reached, or
    /// enough is waiting. Called with `lock` held.
    private func startProducing() {
        guard !producing, !finished, !failed, !released, buffered < Self.ahead else { return }
        producing = true
        server.workers.submit { [self] in produce() }
    }

    /// On a worker thread: one piece, then more while the client keeps up.
    private func produce() {
        var piece: [UInt8]?
        var threw = false
        do { piece = try next() } catch { threw = true }
        lock.lock()
        defer { lock.unlock() }
        producing = false
        if released { return }
        if threw {
            failed = true
        } else if let piece {
            if !piece.isEmpty {
                pieces.append(piece)
                buffered += piece.count
            }
        } else {
            finished = true
        }
        startProducing()
        if suspended && (head < pieces.count || finished || failed) {
            suspended = false
            server.resume(connection)
        }
    }
}
