import CJanus
import Glibc
import JanusCore

extension janus_status {
    /// The one C status for each Swift error (SPEC §5).
    init(_ error: QueueError) {
        switch error {
        case .empty: self = JANUS_EMPTY
        case .full: self = JANUS_FULL
        case .timedOut: self = JANUS_TIMEOUT
        case .shutDown: self = JANUS_SHUTDOWN
        case .invalidArgument: self = JANUS_EINVAL
        case .misuse: self = JANUS_EMISUSE
        // C calls never wait as tasks; a cancelled wait is reported as the end of the wait.
        case .cancelled: self = JANUS_SHUTDOWN
        case .systemError(let code):
            errno = code  // janus.h: errno says which resource
            self = JANUS_ESYS
        }
    }

    init(_ result: Result<Void, QueueError>) {
        switch result {
        case .success: self = JANUS_OK
        case .failure(let error): self.init(error)
        }
    }
}

/// `janus_strerror` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_strerror")
public func janus_strerror(_ status: janus_status) -> UnsafePointer<CChar> {
    let text: StaticString =
        switch status {
        case JANUS_OK: "success"
        case JANUS_EMPTY: "queue is empty"
        case JANUS_FULL: "queue is full"
        case JANUS_TIMEOUT: "timed out"
        case JANUS_SHUTDOWN: "queue is shut down"
        case JANUS_EINVAL: "invalid argument"
        case JANUS_ENOMEM: "out of memory"
        case JANUS_EMISUSE: "misuse of the queue"
        case JANUS_ESYS: "the system refused a resource (see errno)"
        case JANUS_EFORK: "the object belongs to the process this one was forked from"
        default: "unknown janus status"
        }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Kept equal to JANUS_VERSION_* in janus.h; a C test checks both. Computed, not stored: a
/// stored global is initialized through a once lock of the Swift runtime (see fork.c).
var versionMajor: UInt32 { 0 }
var versionMinor: UInt32 { 1 }
var versionPatch: UInt32 { 0 }

/// `janus_version_number` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_version_number")
public func janus_version_number() -> UInt32 {
    versionMajor * 10000 + versionMinor * 100 + versionPatch
}

/// `janus_version_string` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_version_string")
public func janus_version_string() -> UnsafePointer<CChar> {
    let text: StaticString = "0.1.0"
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}
