@testable import Purser
import Testing

/// If-Match values against a current strong tag "v3" (RFC 9110 §13.1.1).
struct IfMatchTests {
    @Test(arguments: [
        (#""v3""#, true), (#"*"#, true), (#"  *  "#, true), (#""v1", "v3""#, true), (#""v1","v3""#, true),
        (#" , "v3" ,"#, true), (#""v1", W/"v3""#, false), (#"W/"v3""#, false), (#""v2""#, false), (#"v3"#, false),
        (#""v3"x"#, false), (#""v3"#, false), (#"*, "v3""#, false), (#""#, false), (#"  "#, false), (#""v3", v4"#, false),
        (#""V3""#, false),
    ])
    func admits(header: String, expected: Bool) {
        #expect(IfMatch.admits(header, current: #""v3""#) == expected, "\(header)")
    }
}
