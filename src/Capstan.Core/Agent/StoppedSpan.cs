namespace Capstan.Core.Agent;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>
/// A span this agent stopped and no longer tracks, kept with its final status (Stopped, final
/// checkpoint) until the owner has certainly taken that checkpoint into account (see
/// <see cref="TableSpanManager"/>): it closes the owner-crash replay window of a move.
/// </summary>
internal sealed class StoppedSpan
{
    public StoppedSpan(TableStatus finalStatus, OwnerRevision claimedBy)
    {
        FinalStatus = finalStatus;
        ClaimedBy = claimedBy;
    }

    /// <summary>The status of the finished remove: state Stopped, the final checkpoint, no stats.</summary>
    public TableStatus FinalStatus { get; }

    /// <summary>The highest owner revision known to consider this capture a holder of the span.</summary>
    public OwnerRevision ClaimedBy { get; private set; }

    /// <summary>The number of the last heartbeat that listed the span (0: none).</summary>
    public long ListedBy { get; private set; }

    /// <summary>The owner of <paramref name="revision"/> listed the span in heartbeat <paramref name="heartbeat"/>.</summary>
    public void MarkListed(OwnerRevision revision, long heartbeat)
    {
        ListedBy = heartbeat;
        if (revision > ClaimedBy)
        {
            ClaimedBy = revision;
        }
    }

    /// <summary>The owner of <paramref name="revision"/> sent a dispatch request for the span.</summary>
    public void Claim(OwnerRevision revision)
    {
        if (revision > ClaimedBy)
        {
            ClaimedBy = revision;
        }
    }

    /// <summary>
    /// What a heartbeat response carries for it: the final checkpoint with state Unknown, which
    /// every live replication set ignores (spec §3.6) and a rebuild folds into its checkpoint (§3.5).
    /// </summary>
    public TableStatus Report => FinalStatus with { State = TableState.Unknown };

    /// <inheritdoc/>
    public override string ToString() => $"{FinalStatus.Span} stopped at {FinalStatus.Checkpoint} claimed by {ClaimedBy.Value}";
}
