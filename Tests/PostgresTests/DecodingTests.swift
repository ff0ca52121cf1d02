import Foundation
import Postgres
import PostgresTesting
import Testing

@Suite struct DecodingTests {
    let database: TestDatabase
    let connection: Connection

    init() throws {
        database = try TestDatabase(migrated: false)
        connection = try database.connect()
    }

    @Test func typedValuesRoundTrip() throws {
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let row = try connection.query(
            """
            SELECT $1::uuid, $2::text, $3::int8, $4::bool, $5::timestamptz, $6::jsonb, $7::numeric,
                   $8::text[], $9::uuid[], NULL::text, 42::int4
            """,
            [
                id, "naïve ' \"; DROP TABLE x; --", Int64.max, true, when, JSONText(#"{"a": [1, 2]}"#),
                NumericText("12345678901234567890.000001"), ["a", "b,c", "d\"e", ""], [id, id],
            ])[0]
        #expect(try row.require(0, as: UUID.self) == id)
        #expect(try row.require(1, as: String.self) == "naïve ' \"; DROP TABLE x; --")
        #expect(try row.require(2, as: Int64.self) == Int64.max)
        #expect(try row.require(3, as: Bool.self) == true)
        let decoded = try row.require(4, as: Date.self)
        #expect(abs(decoded.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000001)
        let json = try row.require(5, as: JSONText.self).decode([String: [Int]].self)
        #expect(json == ["a": [1, 2]])
        #expect(try row.require(6, as: NumericText.self).text == "12345678901234567890.000001")
        #expect(try row.require(7, as: [String].self) == ["a", "b,c", "d\"e", ""])
        #expect(try row.require(8, as: [UUID].self) == [id, id])
        #expect(try row.decode(9, as: String.self) == nil)
        #expect(try row.require(10, as: Int.self) == 42)
    }

    @Test func columnsCanBeReadByName() throws {
        let row = try connection.query("SELECT 7 AS seven, 'x' AS letter")[0]
        #expect(try row.require("seven", as: Int.self) == 7)
        #expect(try row.require("letter", as: String.self) == "x")
        #expect(throws: PostgresError.self) { try row.require("missing", as: Int.self) }
    }

    @Test func aValueOfTheWrongTypeIsADecodingError() throws {
        let row = try connection.query("SELECT 'not a number'")[0]
        let error = #expect(throws: PostgresError.self) { try row.require(0, as: Int.self) }
        #expect(error?.kind == .decoding)
    }

    @Test func timestampsBeforeAndAfterTheEpochParse() throws {
        for text in ["1969-07-20 20:17:40+00", "2026-02-28 23:59:59.999999+00", "2024-02-29 12:00:00+05:30"] {
            let decoded = try connection.query("SELECT $1::timestamptz", [text])[0].require(0, as: Date.self)
            let seconds = try connection.query("SELECT extract(epoch FROM $1::timestamptz)::float8", [text])[0]
                .require(0, as: Double.self)
            #expect(abs(decoded.timeIntervalSince1970 - seconds) < 0.000001)
        }
    }

    @Test func statementsArePreparedOnceAndReused() throws {
        for value in 0..<5 { try connection.query("SELECT $1::int + 1", [value]) }
        let prepared = try connection.query(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
            ["SELECT $1::int + 1"])[0].require(0, as: Int.self)
        #expect(prepared == 1)
    }
}

@Suite struct UUIDTextTests {
    @Test func uuidTextIsTheLowercaseCanonicalForm() {
        for _ in 0..<100 {
            let id = UUID()
            #expect(id.postgresText == id.uuidString.lowercased())
        }
    }
}
