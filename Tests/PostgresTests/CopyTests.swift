import Foundation
import Postgres
import PostgresTesting
import Testing

/// COPY written row by row: values round-trip exactly into a temporary table of the transaction,
/// a writer that gives up aborts the COPY, and a value the server refuses is reported with its
/// SQLSTATE — in both cases the connection carries on.
@Suite struct CopyTests {
    @Test func rowsRoundTripIntoATableOfTheTransaction() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        let awkward = "tab\there\nnew line \\ back\r carriage, quote \" and ünïcode"
        let total = try connection.transaction { tx -> Int in
            try tx.execute("CREATE TEMP TABLE staged (id bigint, note text, n bigint) ON COMMIT DROP")
            let copied = try tx.copyIn("COPY staged (id, note, n) FROM STDIN") { writer in
                for id in 1...5000 {
                    writer.field(Int64(id))
                    writer.field(id % 1000 == 0 ? nil : awkward)
                    writer.field(Int64(-id) * 1_000_000_007)
                    try writer.endRow()
                }
            }
            #expect(copied == 5000)
            #expect(try tx.query("SELECT note FROM staged WHERE id = 7")[0].require(0, as: String.self) == awkward)
            #expect(try tx.query("SELECT count(*) FROM staged WHERE note IS NULL")[0].require(0, as: Int.self) == 5)
            return try tx.query("SELECT sum(n)::text FROM staged")[0].require(0, as: String.self) == "-12502500087517500" ? copied : -1
        }
        #expect(total == 5000)
        // ON COMMIT DROP: gone with the transaction.
        #expect(try connection.query("SELECT to_regclass('pg_temp.staged') IS NULL")[0].require(0, as: Bool.self))
    }

    struct GaveUp: Error {}

    @Test func aWriterThatGivesUpOrABadValueLeavesTheConnectionUsable() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try connection.execute("CREATE TABLE numbers (n integer)")
        #expect(throws: GaveUp.self) {
            try connection.copyIn("COPY numbers (n) FROM STDIN") { writer in
                for n in 1...100_000 {
                    writer.field(Int64(n))
                    try writer.endRow()
                    if n == 70_000 { throw GaveUp() }
                }
            }
        }
        #expect(try connection.query("SELECT count(*) FROM numbers")[0].require(0, as: Int.self) == 0)
        let refused = #expect(throws: PostgresError.self) {
            try connection.copyIn("COPY numbers (n) FROM STDIN") { writer in
                writer.field("12")
                try writer.endRow()
                writer.field("twelve")
                try writer.endRow()
            }
        }
        #expect(refused?.sqlState == "22P02")
        #expect(try connection.query("SELECT 1")[0].require(0, as: Int.self) == 1)
        #expect(
            try connection.copyIn("COPY numbers (n) FROM STDIN") { writer in
                writer.field(Int64(Int32.max))
                try writer.endRow()
            } == 1)
    }
}
