// swift-tools-version:6.0
// Purser: the portal a managed-AI-services provider runs for its customers.
import PackageDescription

let package = Package(
    name: "purser",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "purser", targets: ["purser"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // C libraries from Debian, each behind a system-library target.
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        // Shims for the variadic C calls Swift cannot make.
        .target(name: "CMicroHTTPDShim", dependencies: ["CMicroHTTPD"]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),

        // Thin Swift wrappers: all unsafe pointer code lives here; none knows of Purser.
        .target(name: "HTTPServer", dependencies: [
            "CMicroHTTPD", "CMicroHTTPDShim",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Postgres", dependencies: [
            "CPostgres",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "HTTPClient", dependencies: ["CCurl", "CCurlShim"]),
        .target(name: "Argon2", dependencies: ["CArgon2"]),
        // OpenSSH's key, certificate and KRL formats, pure Swift over swift-crypto.
        .target(name: "OpenSSHFormats", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // AWS Signature Version 4, pure Swift over swift-crypto.
        .target(name: "AWSSignature", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // The domain, one folder per feature.
        .target(name: "Purser", dependencies: [
            "HTTPServer", "Postgres", "HTTPClient", "Argon2", "OpenSSHFormats", "AWSSignature",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
        .executableTarget(name: "purser", dependencies: [
            "Purser",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Testing kits. The wrappers' tests use the first two and never build Purser; TestSupport
        // re-exports both and adds Purser itself, people, a browser and peers.
        .target(name: "HTTPServerTesting", dependencies: [
            "HTTPServer", "HTTPClient", .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/HTTPServerTesting"),
        .target(name: "PostgresTesting", dependencies: ["Postgres"], path: "Tests/PostgresTesting"),
        .target(name: "TestSupport", dependencies: [
            "Purser", "HTTPClient", "Postgres", "HTTPServer", "HTTPServerTesting", "PostgresTesting",
        ], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTPClient", "HTTPServerTesting"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "PostgresTesting"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "HTTPServer", "HTTPServerTesting"]),
        .testTarget(name: "OpenSSHFormatsTests", dependencies: ["OpenSSHFormats"]),
        .testTarget(name: "AWSSignatureTests", dependencies: ["AWSSignature"], exclude: ["Vectors"]),
        .testTarget(name: "PurserTests", dependencies: ["Purser", "TestSupport", "HTTPClient", "Postgres"]),
    ],
    swiftLanguageModes: [.v6]
)
