@testable import Purser
import Testing

/// IPv6 forms that carry an IPv4 address reach that address through a gateway, so a destination
/// written that way is judged by the IPv4 address inside.
@Suite struct EmbeddedIPv4Tests {
    @Test func embeddedPrivateAddressesAreNotPublic() {
        for address in [
            "::127.0.0.1", "::10.0.0.5", "::169.254.169.254",  // IPv4-compatible
            "::ffff:169.254.169.254", "::ffff:192.168.0.1",  // IPv4-mapped
            "::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe",  // IPv4-translated (SIIT)
            "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.1.2.3",  // NAT64
            "64:ff9b:1::8.8.8.8",  // local-use NAT64
            "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:0101::",  // 6to4
            "2001:0:4136:e378:8000:63bf:80ff:fffe",  // Teredo, client 127.0.0.1
            "2001:0:a00:1:8000:63bf:f7f7:f7f7",
        ] {  // Teredo, server 10.0.0.1
            #expect(!Destinations.isPublic(address), "\(address)")
        }
    }

    @Test func embeddedPublicAddressesStayPublic() {
        for address in [
            "::ffff:93.184.215.14", "64:ff9b::5db8:d70e", "2002:5db8:d70e::1",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", "2606:4700::1111", "93.184.215.14",
        ] {
            #expect(Destinations.isPublic(address), "\(address)")
        }
    }
}
