namespace Capstan.Core.Member;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>
/// The coordinator's view of one capture: its identity, its agent's incarnation (processor
/// epoch), its <see cref="CaptureState"/> and the tables of its last accepted heartbeat response.
/// Only the <see cref="CaptureManager"/> changes it, from heartbeat responses.
/// </summary>
public sealed class CaptureStatus
{
    /// <summary>How many superseded epochs are remembered to recognise late responses of old incarnations.</summary>
    internal const int RetiredEpochLimit = 4;

    /// <summary>Epochs of earlier incarnations, newest last; their responses are stale.</summary>
    private readonly List<ProcessorEpoch> _retiredEpochs = [];

    internal CaptureStatus(CaptureId id, string address, bool isOwner, OwnerRevision ownerRevision)
    {
        Id = id;
        Address = address;
        IsOwner = isOwner;
        OwnerRevision = ownerRevision;
        State = CaptureState.Uninitialized;
    }

    /// <summary>The capture.</summary>
    public CaptureId Id { get; }

    /// <summary>Its advertised address.</summary>
    public string Address { get; }

    /// <summary>True when this capture runs the coordinator (the owner).</summary>
    public bool IsOwner { get; }

    /// <summary>The owner term this status belongs to.</summary>
    public OwnerRevision OwnerRevision { get; }

    /// <summary>The processor epoch of the incarnation last heard from (<see cref="ProcessorEpoch.None"/> before any response).</summary>
    public ProcessorEpoch Epoch { get; private set; }

    /// <summary>Current state.</summary>
    public CaptureState State { get; private set; }

    /// <summary>
    /// Table statuses of the last accepted heartbeat response, kept only until the coordinator has
    /// initialised (its owner fail-over rebuild reads them); empty before any response and after
    /// initialisation. TiCDC keeps every capture's last report for good; at a million spans those
    /// are about 128 bytes per span the coordinator would hold for nothing (its replication sets
    /// carry what the reports said), so only <see cref="TableCount"/> is kept.
    /// </summary>
    public IReadOnlyList<TableStatus> Tables { get; private set; } = [];

    /// <summary>Number of table statuses in the last accepted heartbeat response (0 before any).</summary>
    public int TableCount { get; private set; }

    /// <summary>What accepting a heartbeat response did.</summary>
    internal enum ResponseOutcome
    {
        /// <summary>Applied to the current incarnation (or the first one).</summary>
        Applied,

        /// <summary>A new incarnation: epoch adopted, state taken afresh from its liveness.</summary>
        Restarted,

        /// <summary>A late response of a superseded incarnation: ignored.</summary>
        Stale,
    }

    /// <summary>
    /// Applies a heartbeat response carrying <paramref name="epoch"/>; its statuses are kept
    /// when <paramref name="keepTables"/> (see <see cref="Tables"/>). The first response adopts
    /// the epoch; a response with an unknown different epoch is a restart; one with a retired
    /// epoch is stale and changes nothing.
    /// </summary>
    internal ResponseOutcome HandleHeartbeatResponse(HeartbeatResponse response, ProcessorEpoch epoch, bool keepTables)
    {
        var outcome = ResponseOutcome.Applied;
        if (State == CaptureState.Uninitialized)
        {
            Epoch = epoch;
            State = CaptureState.Initialized;
        }
        else if (Epoch != epoch)
        {
            if (_retiredEpochs.Contains(epoch))
            {
                return ResponseOutcome.Stale;
            }

            Retire(Epoch);
            Epoch = epoch;
            State = CaptureState.Initialized;
            outcome = ResponseOutcome.Restarted;
        }

        if (response.Liveness == Liveness.Stopping)
        {
            State = CaptureState.Stopping;
        }

        Tables = keepTables ? response.Tables : [];
        TableCount = response.Tables.Count;
        return outcome;
    }

    /// <summary>Lets go of the kept statuses (the coordinator has initialised).</summary>
    internal void ReleaseTables() => Tables = [];

    /// <inheritdoc/>
    public override string ToString() =>
        $"{{capture {Id} '{Address}', {State}, epoch '{Epoch}', {TableCount} tables{(IsOwner ? ", owner" : string.Empty)}}}";

    private void Retire(ProcessorEpoch epoch)
    {
        if (_retiredEpochs.Count == RetiredEpochLimit)
        {
            _retiredEpochs.RemoveAt(0);
        }

        _retiredEpochs.Add(epoch);
    }
}
