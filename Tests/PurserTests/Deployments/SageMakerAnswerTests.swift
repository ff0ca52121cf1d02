// What the SageMaker driver makes of answers it did not expect. The endpoint URL is configurable
// per target, so whatever answers there is not trusted to keep numbers in range.
import Foundation
@testable import HTTPClient
@testable import Purser
import Testing
import TestSupport

/// World.http answering every call with one fixed DescribeEndpoint body.
private struct FixedAnswer: OutboundHTTP {
    let body: String

    func send(_ request: ClientRequest, options: HTTPClient.Options) throws -> ClientResponse {
        ClientResponse(status: 200, headers: [("Content-Type", "application/x-amz-json-1.1")], body: Array(body.utf8))
    }
}

struct SageMakerAnswerTests {
    func describe(_ body: String) throws -> EndpointState {
        let world = World(clock: SettableClock(Date(timeIntervalSince1970: 1_795_000_000)), http: FixedAnswer(body: body))
        let driver = SageMakerDriver(
            region: "eu-west-1", endpointURL: "http://127.0.0.1:9",
            keys: ProviderCredentials(accessKeyID: "AKIAPURSERTEST000001", secretAccessKey: "x"), settings: SageMakerSettings(),
            world: world)
        return try driver.describe(endpoint: "e")
    }

    @Test func absurdVariantWeightsReadAsBoundedNumbersInsteadOfTrapping() throws {
        let state = try describe(
            #"{"EndpointStatus": "InService", "ProductionVariants": ["#
                + #"{"VariantName": "huge", "CurrentWeight": 1e300}, {"VariantName": "negative", "CurrentWeight": -2.5},"#
                + #"{"VariantName": "canary", "CurrentWeight": 10.4}, {"VariantName": "desired", "DesiredWeight": 90}]}"#)
        #expect(state.phase == .inService)
        #expect(state.variants == ["huge": 1_000_000, "negative": 0, "canary": 10, "desired": 90])
    }

    /// CloudWatch's figures come from the same configurable address: a count of 1e300, inf or nan
    /// trapped the conversion of the invocation count to Int, and a nan error rate passed every gate.
    @Test func metricFiguresThatAreNotFiniteAreLeftOutInsteadOfTrapping() throws {
        func member(_ id: String, _ values: [String]) -> String {
            "<member><Id>\(id)</Id><Values>" + values.map { "<member>\($0)</member>" }.joined() + "</Values></member>"
        }
        let world = World(
            clock: SettableClock(Date(timeIntervalSince1970: 1_795_000_000)),
            http: FixedAnswer(
                body: "<GetMetricDataResponse><MetricDataResults>" + member("inv", ["1e300", "1e308", "1e308", "nan", "40"])
                    + member("err", ["inf", "2"]) + member("lat", ["-5", "nan", "250000"]) + "</MetricDataResults></GetMetricDataResponse>")
        )
        let driver = SageMakerDriver(
            region: "eu-west-1", endpointURL: "http://127.0.0.1:9",
            keys: ProviderCredentials(accessKeyID: "AKIAPURSERTEST000001", secretAccessKey: "x"), settings: SageMakerSettings(),
            world: world)
        let reading = try driver.health(
            endpoint: "e", variant: "v", from: Date(timeIntervalSince1970: 1_795_000_000), to: Date(timeIntervalSince1970: 1_795_000_300))
        #expect(reading.requests == 1_000_000_000_000)
        #expect(reading.values[.errorRate]?.isFinite == true)
        #expect(reading.values[.p95LatencyMs] == 250)
    }

    @Test func weightsThatAreNotFiniteReadAsZero() {
        #expect(SageMakerDriver.weight(.infinity) == 0)
        #expect(SageMakerDriver.weight(-.infinity) == 0)
        #expect(SageMakerDriver.weight(.nan) == 0)
        #expect(SageMakerDriver.weight(49.5) == 50)
    }
}
