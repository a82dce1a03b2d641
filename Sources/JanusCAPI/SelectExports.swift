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
    // One operation that may wait is that get or put (a no-wait one goes the select way below,
    // which leaves the queue's descriptors alone as a no-wait get would not).
    if count == 1, case .until = wait { return selectOne(&ops[0], index_out, wait) }
    for index in 0..<count {
        let op = ops[index]
        guard let handle = op.queue, op.kind == JANUS_SELECT_GET || op.kind == JANUS_SELECT_PUT else {
            return JANUS_EINVAL
        }
        guard CQueue.fromCHandle(handle).madeInThisProcess else { return JANUS_EFORK }  // janus.h, "fork"
    }
    let start = JanusSelect.startIndex(count)
    if let done = selectLockFree(ops, count, start: start) {
        index_out.pointee = done
        return JANUS_OK
    }
    // The operations live on the stack for the call: no array per select.
    return withUnsafeTemporaryAllocation(of: SelectOperation<CItem>.self, capacity: count) { buffer in
        var made = 0
        defer { buffer.baseAddress!.deinitialize(count: made) }
        // Every operation was checked above (queue, kind, this process's queue).
        for index in 0..<count {
            let op = ops[index]
            // The caller's handle keeps the queue alive for the call (janus.h); the operation's
            // strong reference keeps it for a select still waiting when the queue is freed.
            let queue = CQueue.fromCHandle(op.queue!)
            let operation: SelectOperation<CItem> =
                op.kind == JANUS_SELECT_GET ? .get(queue) : .put(CItem(op.item), into: queue)
            (buffer.baseAddress! + index).initialize(to: operation)
            made += 1
        }
        let operations = UnsafeBufferPointer(start: buffer.baseAddress, count: count)
        guard let (index, result) = JanusSelect.threadSelect(operations, wait, start: start) else {
            return JANUS_TIMEOUT
        }
        index_out.pointee = index
        switch result {
        case .success(let item):
            if ops[index].kind == JANUS_SELECT_GET { ops[index].item = item.unsafelyUnwrapped.raw }
            return JANUS_OK
        case .failure(let error):
            return janus_status(error)
        }
    }
}

/// A select of one operation is that get or put, called as `janus_queue_get` / `_put` call it
/// (no retain of the queue, no operation built): it costs what they cost.
private func selectOne(
    _ op: inout janus_select_op, _ index_out: UnsafeMutablePointer<Int>, _ wait: ThreadWait
) -> janus_status {
    guard let handle = op.queue else { return JANUS_EINVAL }
    let kind = op.kind
    guard kind == JANUS_SELECT_GET || kind == JANUS_SELECT_PUT else { return JANUS_EINVAL }
    let item = op.item
    var taken: UnsafeMutableRawPointer?
    let status = withQueue(handle, orElse: JANUS_EINVAL) { queue -> janus_status in
        if kind == JANUS_SELECT_GET {
            switch queue.threadGet(wait) {
            case .success(let got):
                taken = got.raw
                return JANUS_OK
            case .failure(.shutDown): return JANUS_SHUTDOWN
            case .failure: return JANUS_TIMEOUT  // no item within the timeout
            }
        }
        switch queue.threadPut(CItem(item), wait) {
        case .success: return JANUS_OK
        case .failure(.shutDown): return JANUS_SHUTDOWN
        case .failure: return JANUS_TIMEOUT  // no room within the timeout
        }
    }
    if status == JANUS_OK || status == JANUS_SHUTDOWN { index_out.pointee = 0 }
    if status == JANUS_OK && kind == JANUS_SELECT_GET { op.item = taken }
    return status
}

/// The first look of a select of several, on the lanes alone, from the select's rotating start
/// (`JanusSelect.startIndex`, which `JanusSelect` then goes on from): the first operation that the lock-free path performs ends it,
/// as the first look of `JanusSelect` would. It goes on past an operation only when the lane
/// answers for certain that it cannot happen (the queue uses its lane, nobody waits, not shut
/// down); at any other operation it stops and leaves the select to `JanusSelect`, so that a
/// queue without a lane (LIFO, priority) is never passed over for a FIFO one. Through the
/// caller's handles, without building the operations: a select that finds its item at once
/// costs about a lock-free get, not a retain and a release of every queue.
private func selectLockFree(_ ops: UnsafeMutablePointer<janus_select_op>, _ count: Int, start: Int) -> Int? {
    for step in 0..<count {
        let index = (start + step) % count
        let op = ops[index]
        let verdict = withQueue(op.queue, orElse: LockFreeLook.unsure) { queue -> LockFreeLook in
            if op.kind == JANUS_SELECT_GET {
                if let item = queue.fastGet() {
                    ops[index].item = item.raw
                    return .done
                }
                return queue.laneSaysNo(toGet: true) ? .cannot : .unsure
            }
            if queue.fastPut(CItem(op.item)) { return .done }
            return queue.laneSaysNo(toGet: false) ? .cannot : .unsure
        }
        switch verdict {
        case .done: return index
        case .cannot: continue
        case .unsure: return nil
        }
    }
    return nil
}

/// What the lock-free look at one operation of a select found.
private enum LockFreeLook {
    case done  // it happened
    case cannot  // it cannot happen now, for certain
    case unsure  // only the locked path can tell
}
