namespace Capstan.Runtime.Metadata;

using Capstan.Core.Model;
using Capstan.Runtime.Membership;

/// <summary>A changefeed's definition: which tables it replicates and from where.</summary>
public sealed record ChangefeedInfo
{
    /// <summary>Identity.</summary>
    public required ChangefeedId Id { get; init; }

    /// <summary>The tables to replicate.</summary>
    public required IReadOnlyList<TableId> Tables { get; init; }

    /// <summary>Where replication starts when no checkpoint is stored yet.</summary>
    public Ts StartTs { get; init; }

    /// <summary>Changes each stop/resume cycle; carried in every message.</summary>
    public ChangefeedEpoch Epoch { get; init; }
}

/// <summary>A changefeed's persisted progress, written only by the owner.</summary>
public sealed record ChangefeedStatus(Ts CheckpointTs, Ts ResolvedTs)
{
    /// <summary>
    /// What a status write stores given the stored status: the checkpoint never goes below the
    /// stored one, and the resolved ts is the incoming one lifted to at least that checkpoint.
    /// Returns <paramref name="incoming"/> itself when nothing needs lifting.
    /// </summary>
    public static ChangefeedStatus Advance(ChangefeedStatus? stored, ChangefeedStatus incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        if (stored is null || incoming.CheckpointTs >= stored.CheckpointTs)
        {
            return incoming;
        }

        return new ChangefeedStatus(stored.CheckpointTs, Ts.MaxOf(incoming.ResolvedTs, stored.CheckpointTs));
    }
}

/// <summary>
/// Changefeed metadata and checkpoints (in memory for the embedded default; etcd in real
/// clusters). Status writes are guarded by the owner's lease so that a deposed owner can never
/// overwrite a newer owner's progress.
/// </summary>
public interface IMetadataStore
{
    /// <summary>All changefeeds.</summary>
    Task<IReadOnlyList<ChangefeedInfo>> ListChangefeedsAsync(CancellationToken cancellationToken);

    /// <summary>One changefeed, or null.</summary>
    Task<ChangefeedInfo?> GetChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a changefeed definition.</summary>
    Task PutChangefeedAsync(ChangefeedInfo info, CancellationToken cancellationToken);

    /// <summary>Removes a changefeed and its status; false when absent.</summary>
    Task<bool> RemoveChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken);

    /// <summary>The persisted status, or null.</summary>
    Task<ChangefeedStatus?> GetStatusAsync(ChangefeedId id, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the status if <paramref name="owner"/> is still the current owner term; returns
    /// false (writing nothing) when it was deposed. Never lowers a stored checkpoint: what is
    /// stored is <see cref="ChangefeedStatus.Advance"/> of the stored and the given status.
    /// The check and the write are one atomic step.
    /// </summary>
    Task<bool> TryPutStatusAsync(ChangefeedId id, ChangefeedStatus status, IOwnerLease owner, CancellationToken cancellationToken);
}
