import SharedValues

/// The drives a template's settings make, built once and shared by its VMs.
///
/// A VM's configured drives (their nodes, backends and images) follow from
/// the settings alone: the same node names, images and devices for every
/// VM of a template, and all of them values. So the first VM builds them
/// (`addConfiguredDrive`) and keeps them here, and the next VMs take a
/// copy, which shares its storage until the VM changes it (a block
/// command, a job, a media change copies first: nothing one VM does
/// reaches another). Each VM built its own: about 1.5 KB of each VM of the
/// bench's two drives (heaptrack).
///
/// Kept in the decoded settings (`BlockConfig`), which the VMs of one
/// settings text share (`SettingsCache`, which keeps the few most recent
/// texts: so this is one value, not a keyed list of its own); locked, as
/// both loops make VMs.
final class SharedDriveGraph: Sendable {
    struct Built: Sendable {
        let graph: BlockGraph
        let images: [String: ImageFile]
    }

    private let built = Locked<Built?>(nil)

    /// What the first VM built; nil until one has.
    var value: Built? { built.withLock { $0 } }

    /// Keeps what a VM built from the settings (the first one's stays).
    func keep(_ graph: BlockGraph, images: [String: ImageFile]) {
        built.withLock { built in
            if built == nil { built = Built(graph: graph, images: images) }
        }
    }
}
