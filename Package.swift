// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "janus",
    products: [
        // The Swift queue: a blocking face for threads and an async face for tasks.
        .library(name: "JanusCore", targets: ["JanusCore"]),
        // libjanus.so: the C ABI of include/janus.h over the same core.
        .library(name: "janus", type: .dynamic, targets: ["JanusCAPI"]),
    ],
    targets: [
        // A CPU spin-wait hint that Swift cannot spell; internal.
        .target(name: "CJanusShims"),
        .target(
            name: "JanusCore",
            dependencies: ["CJanusShims"]
        ),
        // include/janus.h as a Swift module, for the exact C types.
        .target(name: "CJanus", dependencies: ["CJanusShims"]),
        .target(
            name: "JanusCAPI",
            dependencies: ["JanusCore", "CJanus", "CJanusShims"]
            // The Makefile adds the linker flags of the shipped libjanus.so (export list,
            // nodelete, static Swift runtime): unsafeFlags here would bar SwiftPM users.
        ),
        // `make bench`: the Swift-side scenarios and the AsyncStream baseline.
        .executableTarget(name: "JanusBench", dependencies: ["JanusCore"]),
        // examples/swift: a C-style callback thread bridged into `for await`.
        .executableTarget(name: "SwiftBridgeExample", dependencies: ["JanusCore"], path: "examples/swift"),
        .testTarget(name: "JanusCoreTests", dependencies: ["JanusCore"]),
        // The C library's Swift side, below the C ABI: the consumer's stop contract.
        .testTarget(name: "JanusCAPITests", dependencies: ["JanusCAPI", "JanusCore", "CJanus"]),
    ],
    swiftLanguageModes: [.v6]
)
