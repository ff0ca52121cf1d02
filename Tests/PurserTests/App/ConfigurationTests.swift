import Foundation
@testable import Purser
import Testing
import TestSupport

@Suite struct ConfigurationTests {
    @Test func defaultsNeedNothingButTheCheckout() {
        let (configuration, problems) = Configuration.load(environment: [:], root: TestEnvironment.root)
        #expect(problems.isEmpty)
        #expect(configuration.listenHost == "127.0.0.1" && configuration.listenPort == 8080)
        #expect(configuration.metricsHost == "127.0.0.1" && configuration.metricsPort == 9464)
        #expect(!configuration.isHTTPS)
    }

    @Test func everyBadValueIsReportedOnItsOwnLine() {
        let (_, problems) = Configuration.load(
            environment: [
                "PURSER_LISTEN": "everywhere",
                "PURSER_POOL_SIZE": "-3",
                "PURSER_LOG_LEVEL": "loud",
                "PURSER_PUBLIC_URL": "ftp://x",
                "PURSER_MASTER_KEY": "c2hvcnQ=",
                "PURSER_REMEMBER_ANSWERS": "sometimes",
            ], root: TestEnvironment.root)
        #expect(problems.count == 6)
        #expect(problems.contains { $0.hasPrefix("PURSER_REMEMBER_ANSWERS=sometimes") })
        #expect(Configuration.load(environment: ["PURSER_REMEMBER_ANSWERS": "off"], root: TestEnvironment.root).0.rememberAnswers == false)
        #expect(problems.contains { $0.hasPrefix("PURSER_LISTEN=everywhere") })
        #expect(!problems.joined().contains("c2hvcnQ="), "the key is never echoed")
    }

    @Test func anHTTPSPublicURLTurnsOnSecureBehaviour() {
        let (configuration, problems) = Configuration.load(
            environment: [
                "PURSER_PUBLIC_URL": "https://portal.example.com",
                "PURSER_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
                "PURSER_LISTEN": "[::1]:9000",
            ], root: TestEnvironment.root)
        #expect(problems.isEmpty)
        #expect(configuration.isHTTPS)
        #expect(configuration.trustedProxies == ["10.0.0.0/8", "192.0.2.1"])
        #expect(configuration.listenHost == "::1" && configuration.listenPort == 9000)
    }
}
