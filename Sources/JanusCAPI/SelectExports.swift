import CJanus
import JanusCore

// janus_select of janus.h: converts the C operations and statuses and calls the core's select;
// no queue logic lives here.

/// `janus_select` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_select")
public func janus_select(
    _ ops: UnsafeMutablePointer<janus_select_op>?, _ count: Int, _ index_out: UnsafeMutablePointer<Int>?,
    _ timeout_ms: Int64
) -> janus_status {
    guard let ops, let index_out, count > 0, count <= JanusSelect.maxOperations else { return JANUS_EINVAL }
    guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
    var operations: [SelectOperation<CItem>] = []
    operations.reserveCapacity(count)
    for index in 0..<count {
        let op = ops[index]
        guard let handle = op.queue else { return JANUS_EINVAL }
        // The caller's handle keeps the queue alive for the call (janus.h); the array's strong
        // reference keeps it for a select still waiting when the queue is freed.
        let queue = CQueue.fromCHandle(handle)
        switch op.kind {
        case JANUS_SELECT_GET: operations.append(.get(queue))
        case JANUS_SELECT_PUT: operations.append(.put(CItem(op.item), into: queue))
        default: return JANUS_EINVAL
        }
    }
    guard let (index, result) = JanusSelect.threadSelect(operations, wait) else { return JANUS_TIMEOUT }
    index_out.pointee = index
    switch result {
    case .success(let item):
        if ops[index].kind == JANUS_SELECT_GET { ops[index].item = item.unsafelyUnwrapped.raw }
        return JANUS_OK
    case .failure(let error):
        return janus_status(error)
    }
}
