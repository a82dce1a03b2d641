// swift-tools-version: 6.0
import PackageDescription

// Bench-only package: the queues a Swift user would reach for instead of janus, measured
// with the same scenarios as janus's own benchmark. Kept apart from the library package so
// that janus itself depends on nothing.
let package = Package(
    name: "janus-peers",
    dependencies: [
        .package(url: "https://github.com/apple/swift-async-algorithms", exact: "1.1.4"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "PeerBench",
            dependencies: [
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
