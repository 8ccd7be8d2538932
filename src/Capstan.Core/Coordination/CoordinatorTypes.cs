namespace Capstan.Core.Coordination;

using Capstan.Core.Keyspan;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;

/// <summary>Everything a coordinator is created with: one coordinator per changefeed on the owner.</summary>
public sealed record CoordinatorOptions
{
    /// <summary>The owner's own capture.</summary>
    public required CaptureId Self { get; init; }

    /// <summary>The changefeed this coordinator schedules.</summary>
    public required ChangefeedId Changefeed { get; init; }

    /// <summary>The owner term; stamped on every message, and inbound messages of other terms are dropped.</summary>
    public required OwnerRevision OwnerRevision { get; init; }

    /// <summary>The changefeed incarnation; inbound messages of other epochs are dropped.</summary>
    public ChangefeedEpoch ChangefeedEpoch { get; init; }

    /// <summary>Version string of this binary.</summary>
    public string Version { get; init; } = "0.1.0";

    /// <summary>Scheduler settings.</summary>
    public SchedulerConfig Config { get; init; } = new();

    /// <summary>Randomness for balance tie-breaking; null means none (sorted victims, no tie bits).</summary>
    public IDeterministicRandom? Random { get; init; }

    /// <summary>Upstream region layout for span splitting; null means tables are never split.</summary>
    public IRegionSource? RegionSource { get; init; }
}

/// <summary>The inputs of one coordinator tick.</summary>
public sealed record TickInput
{
    /// <summary>The changefeed's last persisted checkpoint; new spans start here.</summary>
    public required Ts CheckpointTs { get; init; }

    /// <summary>
    /// The tables the changefeed should replicate now. The same list instance passed again is
    /// taken as unchanged without reading it (what the coordinator derives from it is cached):
    /// pass a new list when the tables change, and never mutate a list once passed.
    /// </summary>
    public required IReadOnlyList<TableId> CurrentTables { get; init; }

    /// <summary>Alive captures according to membership.</summary>
    public required IReadOnlyDictionary<CaptureId, CaptureInfo> AliveCaptures { get; init; }

    /// <summary>Messages received since the last tick.</summary>
    public IReadOnlyList<Message> Inbox { get; init; } = [];

    /// <summary>The barrier forwarded to agents; its GlobalBarrierTs caps the resolved ts when there are no tables.</summary>
    public Barrier Barrier { get; init; } = Barrier.None;

    /// <summary>No checkpoint may pass this (a DDL barrier); Max when none.</summary>
    public Ts MinTableBarrierTs { get; init; } = Ts.Max;
}

/// <summary>The outcome of one tick.</summary>
/// <param name="Watermark">The changefeed's new checkpoint and resolved ts, or "cannot proceed" (all zero).</param>
/// <param name="Outbox">Messages to send, headers filled.</param>
/// <param name="Error">Set when a replication set became inconsistent: nothing was sent and the host must restart this changefeed's scheduling.</param>
public sealed record TickResult(Watermark Watermark, IReadOnlyList<Message> Outbox, Exception? Error)
{
    /// <summary>True when the tick failed.</summary>
    public bool Failed => Error is not null;
}

/// <summary>Outcome of a manual command (move table, rebalance).</summary>
/// <param name="Accepted">True when the scheduler took the request.</param>
/// <param name="Reason">Why it was not taken (a sentence a person can act on), or a note when accepted.</param>
public sealed record CommandResult(bool Accepted, string Reason)
{
    /// <summary>An accepted command.</summary>
    public static CommandResult Ok(string note = "accepted") => new(true, note);

    /// <summary>A refused command.</summary>
    public static CommandResult Refused(string reason) => new(false, reason);
}

/// <summary>What a drain request did.</summary>
public enum DrainStatus
{
    /// <summary>The drain is running (started now or already running for this capture).</summary>
    Accepted,

    /// <summary>The capture holds no table any more: the drain is complete.</summary>
    Done,

    /// <summary>The request was refused; see the reason.</summary>
    Refused,
}

/// <summary>Outcome of <see cref="Coordinator.DrainCapture"/>.</summary>
/// <param name="Status">Accepted, done or refused.</param>
/// <param name="RemainingTables">Spans whose primary is still the capture (any state).</param>
/// <param name="Reason">Why it was refused, or a note.</param>
public sealed record DrainResult(DrainStatus Status, int RemainingTables, string Reason);

/// <summary>Counters of expected conditions (stale or malformed messages); read by metrics.</summary>
public sealed class CoordinatorCounters
{
    /// <summary>Inbound messages of another owner revision.</summary>
    public long DroppedStaleOwner { get; internal set; }

    /// <summary>Inbound messages addressed to another capture.</summary>
    public long DroppedWrongTarget { get; internal set; }

    /// <summary>Inbound messages of another changefeed epoch.</summary>
    public long DroppedChangefeedEpoch { get; internal set; }

    /// <summary>Inbound messages of a previous incarnation (processor epoch) of a capture.</summary>
    public long DroppedStaleProcessorEpoch { get; internal set; }

    /// <summary>Inbound messages from captures membership does not list.</summary>
    public long DroppedUnknownCapture { get; internal set; }

    /// <summary>Inbound reports from a capture that left and came back before its removal was applied to the replication sets.</summary>
    public long DroppedPendingRemoval { get; internal set; }

    /// <summary>Inbound messages whose payload does not match their type.</summary>
    public long DroppedMalformed { get; internal set; }

    /// <summary>Captures seen restarting under the same id with a new processor epoch.</summary>
    public long CaptureRestarts { get; internal set; }

    /// <summary>Ticks that failed with an inconsistent replication set.</summary>
    public long FailedTicks { get; internal set; }
}
