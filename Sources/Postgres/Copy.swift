// COPY … FROM STDIN written row by row by a closure, beside `copyIn(_:rows:)`: the caller writes
// each row's fields straight into the send buffer (no array per row), and may give up half-way —
// an error thrown while writing ends the COPY with PQputCopyEnd's error message, so the server
// discards what it received and the connection stays usable (in a transaction, which then rolls
// back). A row the server refuses (a bad value) is reported with its SQLSTATE once the COPY ends.
import CPostgres

/// Writes the rows of one COPY in its text format; given to the closure of `copyIn(_:write:)`.
public struct CopyWriter: ~Copyable {
    fileprivate var buffer: [UInt8] = []
    fileprivate var fieldsInRow = 0
    fileprivate let send: ([UInt8]) throws -> Void

    fileprivate init(send: @escaping ([UInt8]) throws -> Void) {
        self.send = send
        buffer.reserveCapacity(64 * 1024)
    }

    /// Adds a field to the current row; nil is NULL.
    public mutating func field(_ value: String?) {
        if fieldsInRow > 0 { buffer.append(9) }
        if let value { CopyText.append(value, to: &buffer) } else { buffer.append(contentsOf: [92, 78]) }
        fieldsInRow += 1
    }

    /// A whole number, written without a String in between.
    public mutating func field(_ value: Int64) {
        if fieldsInRow > 0 { buffer.append(9) }
        if value < 0 { buffer.append(45) }
        // The digits go in last first and are turned round in place: no array of their own.
        let first = buffer.count
        var rest = value.magnitude
        repeat {
            buffer.append(UInt8(48 + rest % 10))
            rest /= 10
        } while rest > 0
        buffer[first...].reverse()
        fieldsInRow += 1
    }

    /// Ends the current row; sends the buffer once it holds about 60 KiB.
    public mutating func endRow() throws {
        buffer.append(10)
        fieldsInRow = 0
        if buffer.count >= 60 * 1024 { try flush() }
    }

    fileprivate mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try send(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

extension Connection {
    /// Runs `sql` (a `COPY … FROM STDIN` in text format) with the rows `write` writes; returns the
    /// number of rows copied. An error thrown by `write` aborts the COPY and is rethrown.
    @discardableResult
    public func copyIn(_ sql: String, write: (inout CopyWriter) throws -> Void) throws -> Int {
        statementsSinceCheckout += 1
        let start = PQexec(handle, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try check(start)
            throw PostgresError(kind: .server, message: "\(sql.prefix(40)) did not start a COPY FROM STDIN")
        }
        PQclear(start)
        let handle = self.handle
        var writer = CopyWriter { bytes in
            let sent = bytes.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            guard sent == 1 else { throw self.connectionError() }
        }
        do {
            try write(&writer)
            try writer.flush()
        } catch {
            // The server ends the COPY with an error of its own (57014, "COPY from stdin failed"); the
            // caller's error is the one that matters.
            if PQputCopyEnd(handle, "the client gave up the COPY") == 1 {
                while let result = PQgetResult(handle) { PQclear(result) }
            }
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionError() }
        var copied = 0
        var failure: Error?
        // Every result is read, even after an error, so the connection is ready for the next statement.
        while let result = PQgetResult(handle) {
            do {
                copied = try check(result)?.affected ?? copied
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return copied
    }
}
