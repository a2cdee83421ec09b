/// A block of memory owned by one object and reused across steps.
///
/// Layers, optimizers and the parameter vector keep their storage in buffers allocated once, so a
/// training step allocates nothing (the llm.c discipline). Memory is 64-byte aligned for the vector
/// units and zero-filled when allocated.
public final class Buffer<Element> {
    /// The first element. Stable until `reserve(_:)` has to grow the buffer.
    public private(set) var pointer: UnsafeMutablePointer<Element>
    /// How many elements fit.
    public private(set) var capacity: Int

    /// A zero-filled buffer of `count` elements (`Element` must be a trivial type).
    public init(count: Int) {
        precondition(count >= 0, "Buffer: negative size \(count)")
        capacity = count
        pointer = Buffer.allocate(count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Makes room for at least `count` elements. Growing replaces the memory with a fresh zero-filled
    /// block (contents are not kept), so callers reserve before a loop, never inside it.
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        UnsafeMutableRawPointer(pointer).deallocate()
        capacity = count
        pointer = Buffer.allocate(count)
    }

    /// Sets the first `count` elements to zero.
    public func zero(_ count: Int) {
        precondition(count <= capacity, "Buffer.zero: \(count) elements past capacity \(capacity)")
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Element>.stride)
    }

    /// The first `count` elements as a buffer pointer.
    public func elements(_ count: Int) -> UnsafeMutableBufferPointer<Element> {
        precondition(count <= capacity, "Buffer: \(count) elements past capacity \(capacity)")
        return UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Element> {
        let bytes = max(count, 1) * MemoryLayout<Element>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        return raw.bindMemory(to: Element.self, capacity: max(count, 1))
    }
}
