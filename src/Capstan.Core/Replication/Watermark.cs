namespace Capstan.Core.Replication;

using Capstan.Core.Model;

/// <summary>
/// The scheduler's progress report to the owner: the changefeed may checkpoint at
/// <see cref="CheckpointTs"/> and has everything resolved up to <see cref="ResolvedTs"/>.
/// </summary>
/// <param name="CheckpointTs">Smallest span checkpoint, capped by the minimum table barrier.</param>
/// <param name="ResolvedTs">Smallest span resolved ts.</param>
/// <param name="LastSyncedTs">Largest last-synced ts of any span (0 when unknown).</param>
/// <param name="PullerResolvedTs">Smallest puller-egress resolved ts (<see cref="Ts.Max"/> when no span reports one).</param>
public readonly record struct Watermark(Ts CheckpointTs, Ts ResolvedTs, Ts LastSyncedTs, Ts PullerResolvedTs)
{
    /// <summary>All zeros: some span of a current table is missing, so nothing may advance.</summary>
    public static readonly Watermark CannotProceed = default;

    /// <summary>False when the checkpoint is 0 ("cannot proceed"; the owner keeps its old one).</summary>
    public bool CanProceed => CheckpointTs != Ts.Zero;
}
