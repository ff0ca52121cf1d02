// Time and the outside world, made once at start and handed to everything that touches them:
// handlers through their context, jobs through JobContext, stores as an argument. `World.live`
// is the real one; tests make one with a clock they move and the peers they run.
import Foundation
import HTTPClient

public struct World: Sendable {
    /// The time of day (and waiting for it).
    public let clock: any WallClock
    /// Outbound HTTP: webhooks, chat channels, paging, and the providers' APIs to come.
    public let http: any OutboundHTTP
    /// Outgoing mail, or nil where none is configured.
    public let mail: (any MailSender)?
    /// Host names to addresses, for the destination checks before anything connects.
    public let resolver: any NameResolver
    /// SSH to GPU hosts (health and drain), with a certificate signed for each connection.
    public let ssh: any SecureShell

    public init(
        clock: any WallClock, http: any OutboundHTTP = LiveHTTP(), mail: (any MailSender)? = nil,
        resolver: any NameResolver = SystemResolver(),
        ssh: any SecureShell = OpenSSHClient(sourceAddresses: ["127.0.0.1/32", "::1/128"])
    ) {
        self.clock = clock
        self.http = http
        self.mail = mail
        self.resolver = resolver
        self.ssh = ssh
    }

    /// The real world: the system clock, libcurl, the configured SMTP server, getaddrinfo.
    public static func live(_ configuration: Configuration) -> World {
        World(
            clock: LiveClock(), mail: configuration.mailServer.map { SMTPSender(server: $0) },
            ssh: OpenSSHClient(sourceAddresses: configuration.sshSourceAddresses))
    }

    /// The time of day, as every statement that stamps or compares time binds it.
    public var now: Date { clock.now }
}

/// Sends one HTTP request and reads its answer.
public protocol OutboundHTTP: Sendable {
    func send(_ request: ClientRequest, options: HTTPClient.Options) throws -> ClientResponse
    /// Streams the body to `onChunk` as it arrives, each piece stamped with `now()` (HTTPClient.stream).
    func stream(
        _ request: ClientRequest, options: HTTPClient.Options, now: () -> Date, onChunk: (StreamedChunk) -> Bool
    ) throws -> ClientResponse
}

extension OutboundHTTP {
    /// A transport that cannot stream hands over the whole body at once, stamped when it came
    /// (the answer keeps its body too).
    public func stream(
        _ request: ClientRequest, options: HTTPClient.Options, now: () -> Date, onChunk: (StreamedChunk) -> Bool
    ) throws -> ClientResponse {
        let response = try send(request, options: options)
        let reading = now
        _ = onChunk(StreamedChunk(bytes: response.body, at: reading()))
        return response
    }
}

public struct LiveHTTP: OutboundHTTP {
    public init() {}

    public func send(_ request: ClientRequest, options: HTTPClient.Options) throws -> ClientResponse {
        try HTTPClient(options: options).send(request)
    }

    public func stream(
        _ request: ClientRequest, options: HTTPClient.Options, now: () -> Date, onChunk: (StreamedChunk) -> Bool
    ) throws -> ClientResponse {
        try HTTPClient(options: options).stream(request, now: now, onChunk: onChunk)
    }
}

/// Hands one complete message (RFC 5322, CRLF line ends) to be delivered.
public protocol MailSender: Sendable {
    func send(_ message: [UInt8], from sender: String, to recipients: [String]) throws
}

/// Mail through an SMTP server.
public struct SMTPSender: MailSender {
    public let server: MailServer

    public init(server: MailServer) { self.server = server }

    public func send(_ message: [UInt8], from sender: String, to recipients: [String]) throws {
        try MailClient.send(message, from: sender, to: recipients, via: server)
    }
}

/// Host names to numeric addresses.
public protocol NameResolver: Sendable {
    func addresses(of host: String) throws -> [String]
}

public struct SystemResolver: NameResolver {
    public init() {}

    public func addresses(of host: String) throws -> [String] { try AddressResolver.addresses(of: host) }
}
