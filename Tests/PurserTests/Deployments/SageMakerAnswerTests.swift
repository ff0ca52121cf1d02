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

    @Test func weightsThatAreNotFiniteReadAsZero() {
        #expect(SageMakerDriver.weight(.infinity) == 0)
        #expect(SageMakerDriver.weight(-.infinity) == 0)
        #expect(SageMakerDriver.weight(.nan) == 0)
        #expect(SageMakerDriver.weight(49.5) == 50)
    }
}
