// The access key a request is signed with: a long-term key pair, or temporary credentials from
// AWS STS, whose session token travels in X-Amz-Security-Token.
public struct AWSCredentials: Sendable, Equatable {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// One HTTP request as Signature Version 4 sees it: the path and query decoded (the signer
/// encodes them as the canonical request requires), headers in the order sent, the body's bytes.
public struct SignableRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    public var query: [QueryItem]
    public var headers: [Header]
    public var body: [UInt8]

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct QueryItem: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(method: String, path: String = "/", query: [QueryItem] = [], headers: [Header] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, by name without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The query as sent on the wire (names and values encoded the way the signature encodes them,
    /// in the canonical order), "" when there is none.
    public var encodedQuery: String { SigV4.canonicalQuery(query) }

    /// The path as sent on the wire.
    public var encodedPath: String { SigV4.encodePath(path) }
}
