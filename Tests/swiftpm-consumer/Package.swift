// swift-tools-version: 6.0
// A package that depends on janus by path, as a user's would: proves the package has no
// unsafe flags and that JanusCore's public API is enough to write a program.
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [.package(name: "janus", path: "../..")],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "JanusCore", package: "janus")])
    ],
    swiftLanguageModes: [.v6]
)
